//! The product co-simulation: what `spikehdl cosim` and `fpga sim` run, and
//! what the equivalence testbenches (`testbenches/`) build on. Drive a
//! verilated block through its valid/ready streams, feed the golden model
//! exactly the items the RTL accepted (scoreboards), check the chip's router
//! and host outputs (named checks), and report the first difference as a
//! readable transcript.
//!
//! - [`stream`]: the valid/ready contract written once: a driver and a checking monitor, generic over the payload.
//! - [`core_dut`]: one layer core under Verilator.
//! - [`chip_dut`], [`chip_check`]: the whole chip under Verilator and its named checks.
//! - [`board_dut`]: a board top under Verilator at its UART pins (bit-level driver and monitor).
//! - [`scoreboard`]: per-core comparison and failure transcripts.
//!
//! Generators, benchmarks and the Icarus comparison stay in `testbenches/`.

pub mod board_dut;
pub mod chip_check;
pub mod chip_dut;
pub mod core_dut;
pub mod scoreboard;
pub mod stream;

/// A tiny deterministic PRNG for stall patterns (seeded by proptest, so a
/// failing case replays exactly).
pub use spikehdl_model::rng::Rng;
