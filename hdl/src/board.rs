//! # Board tops — power-on reset, UART, host link and a chip
//!
//! **Purpose.** The top module of an FPGA board (`board_icebreaker`,
//! `board_ulx3s`; table in [`crate::boards`]): the board's UART pins in,
//! a chip ([`crate::chip`]) behind a [`crate::host_link::HostLink`].
//!
//! **Pins.**
//!
//! | pin | dir | meaning |
//! |---|---|---|
//! | `clock` | in | fabric clock, rising edge ([`crate::boards::Board::clock_hz`]) |
//! | `uart_rx` | in | serial data from the host (idle high), 8N1 at the top's baud rate |
//! | `uart_tx` | out | serial data to the host (idle high, also at power-up) |
//! | `led` | out | high (lit) when out of power-on reset and the chip is idle; off while the chip works or is held in reset (so a board that never lights it is not configured) |
//!
//! **Reset.** There is no reset pin. A 5-bit power-on counter starts at 0
//! (the FPGA's configuration loads every flip-flop with its `initial`
//! value, 0, on iCE40 and ECP5 alike; Verilator starts at 0 too) and holds
//! the link, the UARTs and the chip in reset until it reaches 31, i.e. for
//! the first 31 clocks; nothing else depends on a power-up value. After
//! that the host resets the chip with the protocol's `RESET` frame.
//!
//! **Structure.** `uart_rx` → [`crate::uart_rx::UartRx`] → link decoder →
//! input queue → chip host input / configuration port; chip host output,
//! chip counters → link encoder → [`crate::uart_tx::UartTx`] → `uart_tx`.
//! The baud divider is a constant of the exported top
//! ([`crate::boards::Board::divider`]).
//!
//! **Undefined.** A `clock` other than the board's (the baud rate scales with it).

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::DFF;

/// Defines one board top type (used through [`crate::for_each_board!`]).
#[macro_export]
macro_rules! define_board_top {
    ($t:ident, $m:literal, $chip:ident, $n:literal, $n1:literal, [$(($i:literal, $err:ident, $drop:ident)),*], $dd:ident) => {
        #[doc = concat!("The `", $m, "` board top (pins and reset: [`crate::board`]).")]
        #[derive(LogicBlock)]
        pub struct $t {
            pub clock: Signal<In, Clock>,
            pub uart_rx: Signal<In, Bit>,
            pub uart_tx: Signal<Out, Bit>,
            pub led: Signal<Out, Bit>,
            por: DFF<Bits<5>>,
            rst: Signal<Local, Bit>,
            urx: $crate::uart_rx::UartRx,
            utx: $crate::uart_tx::UartTx,
            link: $crate::host_link::HostLink<$n, $n1>,
            chip: $crate::chip::$chip,
        }

        impl $t {
            /// The top with a UART at `divider` clocks per bit.
            pub fn new(divider: u32) -> Self {
                Self {
                    clock: Default::default(),
                    uart_rx: Default::default(),
                    uart_tx: Default::default(),
                    led: Default::default(),
                    por: Default::default(),
                    rst: Default::default(),
                    urx: $crate::uart_rx::UartRx::new(divider),
                    utx: $crate::uart_tx::UartTx::new(divider),
                    link: Default::default(),
                    chip: Default::default(),
                }
            }
            /// The top with its inputs marked as driven, ready for `check_all`.
            pub fn new_top(divider: u32) -> Self {
                let mut b = Self::new(divider);
                b.clock.connect();
                b.uart_rx.connect();
                b.connect_all();
                b
            }
        }

        impl Logic for $t {
            #[hdl_gen]
            fn update(&mut self) {
                self.por.clock.next = self.clock.val();
                self.por.d.next = self.por.q.val();
                self.rst.next = self.por.q.val() != 31;
                if self.rst.val() {
                    self.por.d.next = self.por.q.val() + 1;
                }
                self.urx.clock.next = self.clock.val();
                self.urx.reset.next = self.rst.val();
                self.urx.rx.next = self.uart_rx.val();
                self.utx.clock.next = self.clock.val();
                self.utx.reset.next = self.rst.val();
                self.uart_tx.next = self.utx.tx.val();
                self.link.clock.next = self.clock.val();
                self.link.reset.next = self.rst.val();
                self.link.rx_valid.next = self.urx.out_valid.val();
                self.link.rx_data.next = self.urx.out_data.val();
                self.link.rx_ferr.next = self.urx.ferr.val();
                self.utx.in_valid.next = self.link.tx_valid.val();
                self.utx.in_data.next = self.link.tx_data.val();
                self.link.tx_ready.next = self.utx.in_ready.val();
                self.chip.clock.next = self.clock.val();
                self.chip.reset.next = self.link.c_reset.val();
                self.chip.in_valid.next = self.link.in_valid.val();
                self.link.in_ready.next = self.chip.in_ready.val();
                self.chip.in_kind.next = self.link.in_kind.val();
                self.chip.in_layer.next = self.link.in_layer.val();
                self.chip.in_a.next = self.link.in_a.val();
                self.chip.in_x.next = self.link.in_x.val();
                self.chip.in_y.next = self.link.in_y.val();
                self.chip.in_p.next = self.link.in_p.val();
                self.chip.in_value.next = self.link.in_value.val();
                self.link.out_valid.next = self.chip.out_valid.val();
                self.chip.out_ready.next = self.link.out_ready.val();
                self.link.out_kind.next = self.chip.out_kind.val();
                self.link.out_layer.next = self.chip.out_layer.val();
                self.link.out_f.next = self.chip.out_f.val();
                self.link.out_x.next = self.chip.out_x.val();
                self.link.out_y.next = self.chip.out_y.val();
                self.link.out_value.next = self.chip.out_value.val();
                self.chip.cfg_valid.next = self.link.cfg_valid.val();
                self.chip.cfg_addr.next = self.link.cfg_addr.val();
                self.chip.cfg_data.next = self.link.cfg_data.val();
                self.link.idle.next = self.chip.idle.val();
                self.led.next = !self.rst.val() & self.chip.idle.val();
                $(
                    self.link.err[$i].next = self.chip.$err.val();
                    self.link.drops[$i].next = self.chip.$drop.val();
                )*
                self.link.drops[$n].next = self.chip.$dd.val();
            }
        }
    };
}

crate::for_each_board!(define_board_top);
