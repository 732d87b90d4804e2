//! `spikehdl fpga build|run|sim`: the chip on FPGA boards (board table:
//! `hdl/src/boards.rs`; protocol: `docs/host_link.md`).

pub mod build;
pub mod run;
#[cfg(feature = "cosim")]
pub mod sim;

use anyhow::Result;

#[derive(clap::Subcommand)]
pub enum Fpga {
    /// Build a board's bitstream (Yosys + nextpnr).
    Build(build::Args),
    /// Configure a board over its serial port, stream events, write the outputs like `simulate`.
    Run(run::Args),
    /// Simulate a board top under Verilator at its UART pins behind a pseudo-terminal.
    #[cfg(feature = "cosim")]
    Sim(sim::Args),
    /// Simulate a board top (not in this build: needs the `cosim` feature).
    #[cfg(not(feature = "cosim"))]
    Sim(super::Unavailable),
}

pub fn run(c: Fpga) -> Result<u8> {
    match c {
        Fpga::Build(a) => build::run(a),
        Fpga::Run(a) => run::run(a),
        #[cfg(feature = "cosim")]
        Fpga::Sim(a) => sim::run(a),
        #[cfg(not(feature = "cosim"))]
        Fpga::Sim(_) => Err(super::Feature::Cosim.missing("fpga sim")),
    }
}
