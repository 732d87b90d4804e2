//! One layer core under Verilator, driven through its flat ports.
//!
//! The driver follows the valid/ready contract (docs in `hdl/src/layer_core.rs`):
//! a transfer happens on a rising edge where valid and ready are both high;
//! the input payload is held from the cycle valid rises until the transfer;
//! input stalls only delay raising valid, never drop it. Output stalls lower
//! `out_ready` at random.
//!
//! While driving, it also checks the output side of the contract: once
//! `out_valid` is high it stays high with the same payload until the transfer.

use spikehdl_hdl::presets::CorePreset;
use spikehdl_hdl::regmap::{config_writes, decode_output, encode_item, OutPorts};
use spikehdl_model::{CoreItem, CoreOutput, Layer};
use spikehdl_sim::{InPort, Model, OutPort, PowerUp, SimError};

use crate::stream::{StreamDriver, StreamMonitor};
use crate::Rng;

/// Random stall probabilities, in percent per cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stalls {
    /// Chance that the driver keeps `in_valid` low on a cycle where it could present an item.
    pub input: u8,
    /// Chance that `out_ready` is low on a cycle.
    pub output: u8,
    pub seed: u64,
}

/// A violation of the stream contract by the RTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolViolation {
    pub cycle: u64,
    pub what: String,
}

/// What one run produced.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// Items the RTL accepted, in order.
    pub accepted: Vec<CoreItem>,
    /// Outputs the RTL emitted, in order.
    pub outputs: Vec<CoreOutput>,
    /// Cycles from the first input presented until the core was idle again.
    pub cycles: u64,
    /// Breaches of the stream contract seen while driving.
    pub protocol_violations: Vec<ProtocolViolation>,
    /// Outputs the harness could not decode.
    pub bad_outputs: Vec<String>,
    /// The core's error counter at the end.
    pub err_count: u64,
}

struct Ports {
    reset: InPort,
    in_valid: InPort,
    in_ready: OutPort,
    in_kind: InPort,
    in_c: InPort,
    in_x: InPort,
    in_y: InPort,
    in_f: InPort,
    in_value: InPort,
    out_valid: OutPort,
    out_ready: InPort,
    out_kind: OutPort,
    out_f: OutPort,
    out_x: OutPort,
    out_y: OutPort,
    out_value: OutPort,
    cfg_valid: InPort,
    cfg_addr: InPort,
    cfg_data: InPort,
    err_count: OutPort,
    idle: OutPort,
}

/// A verilated layer core.
pub struct CoreDut {
    m: Model,
    p: Ports,
    pub preset: &'static CorePreset,
}

impl CoreDut {
    /// Instantiates the core of `preset` with every register at zero,
    /// optionally tracing to a VCD file, and resets it.
    pub fn new(preset: &'static CorePreset, vcd: Option<&std::path::Path>) -> Result<Self, SimError> {
        Self::with_power_up(preset, vcd, PowerUp::Zero)
    }

    /// As [`CoreDut::new`], with the given power-up values (reset follows).
    pub fn with_power_up(preset: &'static CorePreset, vcd: Option<&std::path::Path>, power_up: PowerUp) -> Result<Self, SimError> {
        let m = Model::with_power_up(&preset.module_name(), vcd, power_up)?;
        let p = Ports {
            reset: m.input("reset")?,
            in_valid: m.input("in_valid")?,
            in_ready: m.output("in_ready")?,
            in_kind: m.input("in_kind")?,
            in_c: m.input("in_c")?,
            in_x: m.input("in_x")?,
            in_y: m.input("in_y")?,
            in_f: m.input("in_f")?,
            in_value: m.input("in_value")?,
            out_valid: m.output("out_valid")?,
            out_ready: m.input("out_ready")?,
            out_kind: m.output("out_kind")?,
            out_f: m.output("out_f")?,
            out_x: m.output("out_x")?,
            out_y: m.output("out_y")?,
            out_value: m.output("out_value")?,
            cfg_valid: m.input("cfg_valid")?,
            cfg_addr: m.input("cfg_addr")?,
            cfg_data: m.input("cfg_data")?,
            err_count: m.output("err_count")?,
            idle: m.output("idle")?,
        };
        let mut d = Self { m, p, preset };
        d.reset();
        Ok(d)
    }

    /// Synchronous reset for 4 cycles.
    pub fn reset(&mut self) {
        let p = &self.p;
        for port in [p.in_valid, p.out_ready, p.cfg_valid] {
            self.m.set(port, 0);
        }
        self.m.set(self.p.reset, 1);
        self.m.tick(4);
        self.m.set(self.p.reset, 0);
        self.m.eval();
    }

    /// Loads a layer through the configuration port, one write per cycle.
    pub fn configure(&mut self, layer: &Layer) -> Result<(), String> {
        let writes = config_writes(layer, self.preset)?;
        self.m.set(self.p.cfg_valid, 1);
        for (a, d) in writes {
            self.m.set(self.p.cfg_addr, a.into());
            self.m.set(self.p.cfg_data, d.into());
            self.m.tick(1);
        }
        self.m.set(self.p.cfg_valid, 0);
        self.m.eval();
        Ok(())
    }

    pub fn cycles(&self) -> u64 {
        self.m.cycles()
    }

    fn out_ports(&self) -> OutPorts {
        let p = &self.p;
        OutPorts {
            kind: self.m.get(p.out_kind) as u8,
            f: self.m.get(p.out_f) as u16,
            x: self.m.get(p.out_x) as u16,
            y: self.m.get(p.out_y) as u16,
            value: self.m.get(p.out_value) as u16,
        }
    }

    /// Drives `items` through the core with random stalls until every item is
    /// accepted and the core is idle with no output pending (or `max_cycles` pass).
    pub fn run(&mut self, items: &[CoreItem], stalls: Stalls, max_cycles: u64) -> RunResult {
        let mut rng = Rng::new(stalls.seed);
        let mut r = RunResult::default();
        let start = self.m.cycles();
        let mut input = StreamDriver::new(items.len());
        let mut output = StreamMonitor::default();
        loop {
            let now = self.m.cycles() - start;
            if now >= max_cycles {
                r.protocol_violations.push(ProtocolViolation {
                    cycle: now,
                    what: format!("no progress: {} of {} items accepted after {max_cycles} cycles", r.accepted.len(), items.len()),
                });
                break;
            }
            if let Some(i) = input.offer(&mut rng, stalls.input, |_| true) {
                let e = encode_item(&items[i]);
                let p = &self.p;
                self.m.set(p.in_kind, e.kind.into());
                self.m.set(p.in_c, e.c.into());
                self.m.set(p.in_x, e.x.into());
                self.m.set(p.in_y, e.y.into());
                self.m.set(p.in_f, e.f.into());
                self.m.set(p.in_value, e.value.into());
                self.m.set(p.in_valid, 1);
            }
            let out_ready = !rng.chance(stalls.output);
            self.m.set(self.p.out_ready, out_ready.into());
            self.m.eval();

            let in_fire = input.presenting() && self.m.get(self.p.in_ready) == 1;
            let out_valid = self.m.get(self.p.out_valid) == 1;
            let s = output.sample(out_valid, out_ready, || self.out_ports());
            if let Some(what) = s.breach {
                r.protocol_violations.push(ProtocolViolation { cycle: now, what });
            }
            if let Some(o) = s.transfer {
                match decode_output(&o) {
                    Ok(x) => r.outputs.push(x),
                    Err(e) => r.bad_outputs.push(e),
                }
            }
            if in_fire {
                r.accepted.push(items[input.fire()]);
            }
            let idle = self.m.get(self.p.idle) == 1;
            if input.done() && idle && !out_valid {
                break;
            }
            self.m.tick(1);
            if input.edge() {
                self.m.set(self.p.in_valid, 0);
            }
        }
        self.m.set(self.p.in_valid, 0);
        self.m.set(self.p.out_ready, 0);
        self.m.eval();
        r.cycles = self.m.cycles() - start;
        r.err_count = self.m.get(self.p.err_count);
        r
    }

    /// Reads every neuron of `layer` through the stream (ReadNeuron items) and
    /// returns `[F][H_out][W_out]`, or the run that failed to deliver them.
    pub fn read_states(&mut self, layer: &Layer) -> Result<Vec<i16>, RunResult> {
        let mut items = Vec::with_capacity((layer.f * layer.w_out * layer.h_out) as usize);
        for f in 0..layer.f as u16 {
            for y in 0..layer.h_out as u16 {
                for x in 0..layer.w_out as u16 {
                    items.push(CoreItem::ReadNeuron { f, x, y });
                }
            }
        }
        let r = self.run(&items, Stalls::default(), 64 * items.len() as u64 + 1000);
        if r.outputs.len() != items.len() || !r.protocol_violations.is_empty() {
            return Err(r);
        }
        let mut v = Vec::with_capacity(items.len());
        for (i, o) in items.iter().zip(&r.outputs) {
            match (i, o) {
                (CoreItem::ReadNeuron { f, x, y }, CoreOutput::NeuronValue { f: f2, x: x2, y: y2, value }) if (f, x, y) == (f2, x2, y2) => v.push(*value),
                _ => return Err(r),
            }
        }
        Ok(v)
    }
}
