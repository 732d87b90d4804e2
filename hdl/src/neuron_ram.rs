//! The neuron memory of a [`LayerCore`](crate::layer_core::LayerCore): 16-bit
//! words, synchronous read, in one of two forms chosen at construction.
//!
//! - **Dual port** (1R1W, the default): exactly rust-hdl's `RAM` — a read
//!   and a write on every edge (read-first: a read of the address written on
//!   the same edge returns the old word; the core forwards around it).
//!   Yosys maps it to block RAM (iCE40 SB_RAM40_4K).
//! - **Single port** (FPGA presets whose neuron state lives in iCE40 UP5K
//!   SPRAM, which has one address port): one address, the write address when
//!   `write_enable` is high, else the read address; on an edge with a write,
//!   nothing is read and `read_data` holds. The core never asks for both in
//!   one cycle in this mode (it issues a neuron operation only when the
//!   update stage will not write: 0.5 updates per clock). Written in plain
//!   behavioural Verilog, so Verilator and Icarus simulate it and
//!   `synth_ice40 -spram` infers SB_SPRAM256KA (16 Ki x 16 each; a 32 Ki
//!   memory takes two, with an address-MSB mux on the read data).
//!
//! Ports and clocks are those of rust-hdl's `RAM` (`read_clock` and
//! `write_clock` are the same clock in the core); in single-port mode only
//! `write_clock` clocks the memory.

use std::collections::BTreeMap;

use rust_hdl::prelude::*;

/// A 2^N x 16 neuron memory.
#[derive(LogicBlock, Default)]
pub struct NeuronRam<const N: usize> {
    pub read_address: Signal<In, Bits<N>>,
    pub read_clock: Signal<In, Clock>,
    pub read_data: Signal<Out, Bits<16>>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_clock: Signal<In, Clock>,
    pub write_data: Signal<In, Bits<16>>,
    pub write_enable: Signal<In, Bit>,
    _single_port: bool,
    _sim: Box<BTreeMap<Bits<N>, Bits<16>>>,
}

impl<const N: usize> NeuronRam<N> {
    /// A memory of the given form (`single_port` false: 1R1W).
    pub fn new(single_port: bool) -> Self {
        Self { _single_port: single_port, ..Default::default() }
    }

    /// Whether this is the single-port form.
    pub fn is_single_port(&self) -> bool {
        self._single_port
    }
}

impl<const N: usize> Logic for NeuronRam<N> {
    fn update(&mut self) {
        if self._single_port {
            if self.write_clock.pos_edge() {
                if self.write_enable.val() {
                    self._sim.insert(self.write_address.val(), self.write_data.val());
                } else {
                    self.read_data.next = *self._sim.get(&self.read_address.val()).unwrap_or(&Bits::<16>::default());
                }
            }
            return;
        }
        if self.read_clock.pos_edge() {
            self.read_data.next = *self._sim.get(&self.read_address.val()).unwrap_or(&Bits::<16>::default());
        }
        if self.write_clock.pos_edge() && self.write_enable.val() {
            self._sim.insert(self.write_address.val(), self.write_data.val());
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let top = (1usize << N) - 1;
        if self._single_port {
            Verilog::Custom(format!(
                "\
// Single-port form (iCE40 SPRAM): one address; a write cycle reads nothing.
reg[15:0] mem[{top}:0];
wire[{a}:0] addr = write_enable ? write_address : read_address;
// read_clock is the same clock as write_clock (kept for the common port list).
wire unused_read_clock = read_clock;

always @(posedge write_clock) begin
   if (write_enable) begin
      mem[addr] <= write_data;
   end else begin
      read_data <= mem[addr];
   end
end
",
                a = N - 1
            ))
        } else {
            Verilog::Custom(format!(
                "\
reg[15:0] mem[{top}:0];

always @(posedge read_clock) begin
   read_data <= mem[read_address];
end

always @(posedge write_clock) begin
   if (write_enable) begin
      mem[write_address] <= write_data;
   end
end
"
            ))
        }
    }
}
