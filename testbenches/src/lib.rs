//! Co-simulation harnesses: drive a verilated block through its valid/ready
//! streams, feed the golden model exactly the items the RTL accepted
//! (scoreboard), and report the first difference as a readable transcript.
//!
//! - [`core_dut`]: one layer core under Verilator.
//! - [`board_dut`]: a board top under Verilator at its UART pins (bit-level driver and monitor).
//! - [`chip_dut`], [`chip_check`]: the whole chip under Verilator and its checks.
//! - [`strategies`]: proptest generators biased towards the edges of the legal space.
//! - [`stream`]: the valid/ready contract written once: a driver and a checking monitor, generic over the payload.
//! - [`scoreboard`]: comparison and failure transcripts.
//! - [`icarus`]: the same core and stimulus under Icarus Verilog (simulator benchmark).

pub mod board_dut;
pub mod chip_bench;
pub mod chip_check;
pub mod chip_dut;
pub mod chip_strategies;
pub mod core_dut;
pub mod icarus;
pub mod scoreboard;
pub mod strategies;
pub mod stream;

/// A tiny deterministic PRNG for stall patterns (seeded by proptest, so a
/// failing case replays exactly).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `p_percent`/100.
    pub fn chance(&mut self, p_percent: u8) -> bool {
        (self.next() % 100) < u64::from(p_percent)
    }
}
