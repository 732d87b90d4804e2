//! `spikehdl fpga build --board icebreaker|ulx3s-85f [--seed N] [--out DIR]`:
//! bitstream, resource table and Fmax against the board's fabric clock
//! (flow and board table in `spikehdl_hdl::fpga_board`). Exit 2 when timing
//! is not met, a tool is missing or a step fails.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use spikehdl_hdl::fpga_board::{board, board_names, build, BuildOptions};

#[derive(clap::Args)]
pub struct Args {
    /// Board: icebreaker (iCE40 UP5K, Debian tools) or ulx3s-85f (ECP5-85F, yowasp tools of .venv-fpga/).
    #[arg(long)]
    pub board: String,
    /// nextpnr placement seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory: bitstream, report.json, and the build files in build/ (default out/fpga/<board>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<u8> {
    let b = board(&a.board)
        .ok_or_else(|| anyhow!("--board: unknown board {:?}; known: {}", a.board, board_names().join(", ")))?;
    let out_dir = a.out.unwrap_or_else(|| PathBuf::from("out/fpga").join(b.name));
    let opts = BuildOptions { board: b, seed: a.seed, out_dir: out_dir.clone(), root: PathBuf::from(".") };
    let report = build(&opts).map_err(|e| anyhow!("fpga build --board {}: {e}", b.name))?;
    print!("{report}");
    let json = out_dir.join("report.json");
    super::super::write_file(&json, &(serde_json::to_string_pretty(&report)? + "\n"))?;
    println!("  report: {}", json.display());
    if !report.timing_met {
        eprintln!(
            "error: timing not met on {}: Fmax {:.2} MHz < fabric clock {:.2} MHz (seed {}; try other seeds with --seed N)",
            b.name, report.pnr.fmax_mhz, report.fabric_mhz, a.seed
        );
        return Ok(crate::EXIT_ERROR);
    }
    Ok(crate::EXIT_OK)
}
