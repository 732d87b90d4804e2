//! Equivalence testbenches and benchmarks of the RTL against the golden
//! model: proptest generators biased towards the edges of the legal space,
//! the whole-chip benchmark and the Icarus comparison. The harnesses
//! themselves (drivers, monitors, scoreboards, checks) are the product
//! co-simulation crate `spikehdl-cosim`, re-exported here so that tests name
//! one crate.
//!
//! - [`strategies`], [`chip_strategies`]: proptest generators.
//! - [`chip_bench`]: whole-chip co-simulation figures for `spikehdl bench`.
//! - [`icarus`]: the same core and stimulus under Icarus Verilog (simulator benchmark).

pub use spikehdl_cosim::{board_dut, chip_check, chip_dut, core_dut, scoreboard, stream, Rng};

pub mod chip_bench;
pub mod chip_strategies;
pub mod icarus;
pub mod strategies;
