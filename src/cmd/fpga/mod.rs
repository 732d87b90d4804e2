//! `spikehdl fpga build|run|sim`: the chip on FPGA boards (board table:
//! `hdl/src/boards.rs`; protocol: `docs/host_link.md`).

pub mod build;
pub mod run;
pub mod sim;

use anyhow::Result;

#[derive(clap::Subcommand)]
pub enum Fpga {
    /// Build a board's bitstream (Yosys + nextpnr).
    Build(build::Args),
    /// Configure a board over its serial port, stream events, write the outputs like `simulate`.
    Run(run::Args),
    /// Simulate a board top under Verilator at its UART pins behind a pseudo-terminal.
    Sim(sim::Args),
}

pub fn run(c: Fpga) -> Result<u8> {
    match c {
        Fpga::Build(a) => build::run(a),
        Fpga::Run(a) => run::run(a),
        Fpga::Sim(a) => sim::run(a),
    }
}

/// Looks up `--board`, naming the known boards otherwise.
pub fn board_arg(name: &str) -> Result<&'static spikehdl_hdl::boards::Board> {
    spikehdl_hdl::boards::board(name).ok_or_else(|| {
        let names: Vec<&str> = spikehdl_hdl::boards::BOARDS.iter().map(|b| b.name).collect();
        anyhow::anyhow!("unknown board {name:?}; boards: {}", names.join(", "))
    })
}
