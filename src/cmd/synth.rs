//! `spikehdl synth --target generic|ice40-up5k|ice40-hx8k [--preset P] [--json-out FILE]`:
//! FPGA synthesis of an exported design (flow in `spikehdl_hdl::fpga`).

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use spikehdl_hdl::fpga::{self, FlowOptions, Target};
use spikehdl_hdl::presets::{preset, PRESETS};

#[derive(clap::Args)]
pub struct Args {
    /// generic (Yosys `synth`, LUT4 mapping), ice40-up5k or ice40-hx8k (Yosys + nextpnr + icestorm).
    #[arg(long)]
    target: String,
    /// A core preset (see `rtl/layer_core_<preset>.v`) or the stem of any `rtl/<module>.v` whose top module has that name.
    /// Default: fpga_up5k on ice40-up5k, tiny otherwise.
    #[arg(long)]
    preset: Option<String>,
    /// JSON report path (default out/synth/<design>-<target>.json).
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Directory holding the exported Verilog.
    #[arg(long, default_value = "rtl")]
    rtl_dir: PathBuf,
    /// Work directory for tool runs (default target/synth/<design>-<target>).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// nextpnr frequency target in MHz (default 30 on UP5K, 50 on HX8K).
    #[arg(long)]
    freq: Option<f64>,
    /// nextpnr placement seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after Yosys (no place and route).
    #[arg(long)]
    no_pnr: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let target = Target::parse(&a.target).ok_or_else(|| {
        anyhow!(
            "--target: unknown target {:?}; known: {}",
            a.target,
            Target::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let name = a.preset.clone().unwrap_or_else(|| if target == Target::Ice40Up5k { "fpga_up5k" } else { "tiny" }.into());
    let top = match preset(&name) {
        Some(p) => p.module_name(),
        None => {
            let stem = name.replace('-', "_");
            if a.rtl_dir.join(format!("{stem}.v")).is_file() {
                stem
            } else {
                return Err(anyhow!(
                    "--preset: unknown design {name:?}: not a core preset ({}) and no {}",
                    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
                    a.rtl_dir.join(format!("{stem}.v")).display()
                ));
            }
        }
    };
    let rtl_file = a.rtl_dir.join(format!("{top}.v"));
    if !rtl_file.is_file() {
        return Err(anyhow!("{} does not exist: run `spikehdl export-rtl` first", rtl_file.display()));
    }
    let label = format!("{}-{}", top.trim_start_matches("layer_core_"), target.name());
    let work_dir = a.work_dir.clone().unwrap_or_else(|| PathBuf::from("target/synth").join(&label));
    let opts = FlowOptions {
        target,
        rtl_file,
        top,
        work_dir,
        place_and_route: !a.no_pnr,
        freq_mhz: a.freq.unwrap_or_else(|| target.default_freq_mhz()),
        seed: a.seed,
    };
    let report = fpga::run(&opts).map_err(|e| anyhow!("synth: {e}"))?;
    print!("{}", fpga::format_report(&report));
    let json_out = a.json_out.unwrap_or_else(|| PathBuf::from("out/synth").join(format!("{label}.json")));
    if let Some(dir) = json_out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&report)?;
    std::fs::write(&json_out, text + "\n").with_context(|| format!("cannot write {}", json_out.display()))?;
    println!("report written to {}", json_out.display());
    Ok(crate::EXIT_OK)
}
