//! # UartRx — 8N1 UART receiver at a fixed clock divider
//!
//! **Purpose.** Turns the asynchronous serial line of a board's FTDI UART
//! into bytes: 1 start bit, 8 data bits LSB first, 1 stop bit, idle high.
//!
//! **Ports.**
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | rising edge (the board's fabric clock) |
//! | `reset` | in | 1 | synchronous, active high: back to idle, no output |
//! | `rx` | in | 1 | the serial line (asynchronous; synchronised here by two flip-flops) |
//! | `out_valid` | out | 1 | high for one cycle when `out_data` holds a received byte |
//! | `out_data` | out | 8 | the byte (holds until the next one) |
//! | `ferr` | out | 1 | high for one cycle when a byte ended with a low stop bit (framing error; the byte is not delivered) |
//!
//! **Stream contract.** A UART cannot be stalled: `out_valid` is a pulse and
//! the consumer must take the byte in that cycle (the host link always does).
//!
//! **Timing.** `divider` clocks per bit (a constant of the block, ≥ 4). A
//! falling edge seen in idle starts a byte; the start bit is checked again
//! `divider / 2` clocks later (a shorter low pulse is ignored as a glitch),
//! then every bit is sampled once, `divider` clocks apart, near its middle.
//! The stop bit is sampled in its middle and the receiver is idle again
//! right after, so the next start edge is seen even when the sender's clock
//! is up to about `(0.5 − 1/divider) / 9.5` faster or slower (4.5 % at
//! divider 25, 2.6 % at divider 4). After a framing error it waits for the
//! line to go high (a break) before looking for the next start bit.
//! `out_valid` rises 2 (synchroniser) + `divider`·9.5 clocks after the
//! start edge.
//!
//! **Undefined.** A divider below 4.

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::DFF;

// States (`state`): 0 idle, 1 start bit, 2 data bits, 3 stop bit, 4 wait for the line to go high after a framing error.

/// The receiver; build it with [`UartRx::new`].
#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub ferr: Signal<Out, Bit>,
    div_m1: Constant<Bits<16>>,
    half_m1: Constant<Bits<16>>,
    // the synchroniser stores the inverted line so that its power-up value (0) reads as idle
    s1n: DFF<Bit>,
    s2n: DFF<Bit>,
    state: DFF<Bits<3>>,
    cnt: DFF<Bits<16>>,
    nbit: DFF<Bits<3>>,
    sh: DFF<Bits<8>>,
    data: DFF<Bits<8>>,
    valid: DFF<Bit>,
    fe: DFF<Bit>,
    line: Signal<Local, Bit>,
}

impl UartRx {
    /// A receiver sampling at `divider` clocks per bit.
    pub fn new(divider: u32) -> Self {
        assert!(divider >= 4 && divider < 1 << 16, "UART divider {divider} outside 4..65536");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            ferr: Default::default(),
            div_m1: Constant::new(u64::from(divider - 1).into()),
            half_m1: Constant::new(u64::from(divider / 2 - 1).into()),
            s1n: Default::default(),
            s2n: Default::default(),
            state: Default::default(),
            cnt: Default::default(),
            nbit: Default::default(),
            sh: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            fe: Default::default(),
            line: Default::default(),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s1n, s2n, state, cnt, nbit, sh, data, valid, fe);
        self.s1n.d.next = !self.rx.val();
        self.s2n.d.next = self.s1n.q.val();
        self.line.next = !self.s2n.q.val();
        self.valid.d.next = false;
        self.fe.d.next = false;
        if self.state.q.val() == 0 {
            if !self.line.val() {
                self.state.d.next = 1.into();
                self.cnt.d.next = self.half_m1.val();
            }
        } else if self.state.q.val() == 1 {
            if self.cnt.q.val() == 0 {
                if self.line.val() {
                    self.state.d.next = 0.into();
                } else {
                    self.state.d.next = 2.into();
                    self.cnt.d.next = self.div_m1.val();
                    self.nbit.d.next = 0.into();
                }
            } else {
                self.cnt.d.next = self.cnt.q.val() - 1;
            }
        } else if self.state.q.val() == 2 {
            if self.cnt.q.val() == 0 {
                if self.line.val() {
                    self.sh.d.next = (self.sh.q.val() >> 1) | 0x80;
                } else {
                    self.sh.d.next = self.sh.q.val() >> 1;
                }
                self.cnt.d.next = self.div_m1.val();
                if self.nbit.q.val() == 7 {
                    self.state.d.next = 3.into();
                } else {
                    self.nbit.d.next = self.nbit.q.val() + 1;
                }
            } else {
                self.cnt.d.next = self.cnt.q.val() - 1;
            }
        } else if self.state.q.val() == 3 {
            if self.cnt.q.val() == 0 {
                if self.line.val() {
                    self.valid.d.next = true;
                    self.data.d.next = self.sh.q.val();
                    self.state.d.next = 0.into();
                } else {
                    self.fe.d.next = true;
                    self.state.d.next = 4.into();
                }
            } else {
                self.cnt.d.next = self.cnt.q.val() - 1;
            }
        } else if self.line.val() {
            self.state.d.next = 0.into();
        }
        self.out_valid.next = self.valid.q.val();
        self.out_data.next = self.data.q.val();
        self.ferr.next = self.fe.q.val();
        if self.reset.val() {
            self.state.d.next = 0.into();
            self.valid.d.next = false;
            self.fe.d.next = false;
        }
    }
}
