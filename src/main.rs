//! `spikehdl`: check chip configurations, simulate them on the golden model,
//! export the RTL, co-simulate, and benchmark.
//!
//! Exit codes: 0 success, 1 mismatch (a co-simulation that disagrees with the
//! model), 2 error (bad arguments, invalid configuration or event file, I/O).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: RTL and model disagree.
pub const EXIT_MISMATCH: u8 = 1;
/// Exit code: bad input or failure to run.
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "spikehdl", version, about = "Golden model, RTL and co-simulation of a DynapCNN-style spiking CNN chip")]
#[command(after_help = "Exit codes: 0 ok, 1 mismatch (RTL vs model), 2 error (bad input, I/O, missing tool).")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a chip configuration and print its per-core memory use.
    Check(cmd::check::Args),
    /// Run an event file through the golden model.
    Simulate(cmd::simulate::Args),
    /// Write the Verilog of every core preset (rtl/ by default).
    ExportRtl(cmd::export_rtl::Args),
    /// Co-simulate: replay each core's stream on the verilated core and compare with the model.
    #[cfg(feature = "cosim")]
    Cosim(cmd::cosim::Args),
    /// Co-simulate (not in this build: needs the `cosim` feature).
    #[cfg(not(feature = "cosim"))]
    Cosim(cmd::Unavailable),
    /// FPGA synthesis of an exported core: resource table and Fmax (Yosys, nextpnr-ice40).
    Synth(cmd::synth::Args),
    /// Measure throughput: model, RTL co-simulation, rust-hdl simulator.
    Bench(cmd::bench::Args),
    /// Import a NIR network (HDF5): discretize like Sinabs, assign cores, write a chip configuration.
    #[cfg(feature = "nir")]
    Import(cmd::import::Args),
    /// Import a NIR network (not in this build: needs the `nir` feature).
    #[cfg(not(feature = "nir"))]
    Import(cmd::Unavailable),
    /// Plot output events: spike raster and firing-rate histograms per layer (PNG and SVG).
    Plot(cmd::plot::Args),
    /// List the named chip presets.
    Presets,
    /// FPGA boards: build a bitstream, run events on a board over its serial port, simulate a board behind a PTY.
    #[command(subcommand)]
    Fpga(cmd::fpga::Fpga),
    /// Formal proofs of the stream contracts (SymbiYosys): prove / bmc / cover per block, traces under out/formal/.
    Formal(cmd::formal::Args),
    /// Accuracy on a labelled dataset folder (one folder per class) on the bit-exact model; `eval merge` joins shards.
    Eval(cmd::eval::Args),
}

fn main() -> ExitCode {
    // clap exits with 2 on bad arguments, matching our convention.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => cmd::check::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::ExportRtl(a) => cmd::export_rtl::run(a),
        #[cfg(feature = "cosim")]
        Command::Cosim(a) => cmd::cosim::run(a),
        #[cfg(not(feature = "cosim"))]
        Command::Cosim(_) => Err(cmd::Feature::Cosim.missing("cosim")),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        #[cfg(feature = "nir")]
        Command::Import(a) => cmd::import::run(a),
        #[cfg(not(feature = "nir"))]
        Command::Import(_) => Err(cmd::Feature::Nir.missing("import")),
        Command::Plot(a) => cmd::plot::run(a),
        Command::Presets => cmd::presets::run(),
        Command::Fpga(c) => cmd::fpga::run(c),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Formal(a) => cmd::formal::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
