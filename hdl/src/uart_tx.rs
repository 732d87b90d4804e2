//! # UartTx — 8N1 UART transmitter at a fixed clock divider
//!
//! **Purpose.** Sends bytes on a board's serial line: 1 start bit, 8 data
//! bits LSB first, 1 stop bit, idle high.
//!
//! **Ports.**
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | rising edge |
//! | `reset` | in | 1 | synchronous, active high: abandons the byte being sent, line idle (high) |
//! | `in_valid`, `in_ready` | in, out | 1, 1 | byte stream (valid/ready as in `layer_core.rs`); `in_ready` is high when the transmitter is idle or in the last clock of a stop bit |
//! | `in_data` | in | 8 | the byte |
//! | `tx` | out | 1 | the serial line, driven from a flip-flop (no glitches); high at power-up |
//!
//! **Timing.** `divider` clocks per bit (a constant of the block). A byte
//! transferred on edge E appears as the start bit from E+1 on; the line is
//! in the stop bit 9·`divider` clocks later, and `in_ready` is high in the
//! last clock of the stop bit, so back-to-back bytes take exactly
//! 10·`divider` clocks each.
//!
//! **Undefined.** A divider of 0.

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::DFF;

/// The transmitter; build it with [`UartTx::new`].
#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub tx: Signal<Out, Bit>,
    div_m1: Constant<Bits<16>>,
    busy: DFF<Bit>,
    cnt: DFF<Bits<16>>,
    nleft: DFF<Bits<4>>,
    sh: DFF<Bits<9>>,
    // the line is stored inverted so that its power-up value (0) is idle (high)
    txn: DFF<Bit>,
    done: Signal<Local, Bit>,
}

impl UartTx {
    /// A transmitter sending `divider` clocks per bit.
    pub fn new(divider: u32) -> Self {
        assert!(divider >= 1 && divider < 1 << 16, "UART divider {divider} outside 1..65536");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_data: Default::default(),
            tx: Default::default(),
            div_m1: Constant::new(u64::from(divider - 1).into()),
            busy: Default::default(),
            cnt: Default::default(),
            nleft: Default::default(),
            sh: Default::default(),
            txn: Default::default(),
            done: Default::default(),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, cnt, nleft, sh, txn);
        self.done.next = self.busy.q.val() && (self.cnt.q.val() == 0) && (self.nleft.q.val() == 0);
        self.in_ready.next = !self.busy.q.val() || self.done.val();
        if self.in_ready.val() {
            if self.in_valid.val() {
                // sh holds the bits still to send after the start bit: data (LSB first), then stop
                self.sh.d.next = bit_cast::<9, 8>(self.in_data.val()) | 0x100;
                self.busy.d.next = true;
                self.cnt.d.next = self.div_m1.val();
                self.nleft.d.next = 9.into();
                self.txn.d.next = true;
            } else {
                self.busy.d.next = false;
                self.txn.d.next = false;
            }
        } else if self.cnt.q.val() == 0 {
            self.txn.d.next = !self.sh.q.val().get_bit(0);
            self.sh.d.next = self.sh.q.val() >> 1;
            self.nleft.d.next = self.nleft.q.val() - 1;
            self.cnt.d.next = self.div_m1.val();
        } else {
            self.cnt.d.next = self.cnt.q.val() - 1;
        }
        self.tx.next = !self.txn.q.val();
        if self.reset.val() {
            self.busy.d.next = false;
            self.txn.d.next = false;
        }
    }
}
