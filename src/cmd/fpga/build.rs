//! `spikehdl fpga build`: placeholder in this branch (the FPGA toolchain
//! side provides the real command).

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`fpga build` is not built yet in this branch")
}
