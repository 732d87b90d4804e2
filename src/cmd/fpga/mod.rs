//! `spikehdl fpga <command>`: FPGA board builds.

pub mod build;

#[derive(clap::Subcommand)]
pub enum Fpga {
    /// Synthesize, place and route a board design and write its bitstream: resource table, Fmax vs the board clock.
    Build(build::Args),
}

pub fn run(cmd: Fpga) -> anyhow::Result<u8> {
    match cmd {
        Fpga::Build(a) => build::run(a),
    }
}
