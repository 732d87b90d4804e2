//! `spikehdl import NET.nir --out chip.json [--chip PRESET] [--input-shape C,H,W]`:
//! imports a NIR network (docs/nir.md): Sinabs-exact discretization, core
//! assignment, a configuration that passes `check`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use spikehdl_nir::{MinVMem, Options, Reset};

#[derive(clap::Args)]
pub struct Args {
    /// The NIR file (HDF5).
    net: PathBuf,
    /// Write the chip configuration (JSON) here.
    #[arg(long)]
    out: PathBuf,
    /// Chip preset to map onto (`spikehdl presets` lists them).
    #[arg(long, default_value = spikehdl_model::presets::CHIP_REFERENCE.name)]
    chip: String,
    /// Input shape C,H,W, overriding (or supplying) the Input node's shape.
    #[arg(long, value_name = "C,H,W")]
    input_shape: Option<String>,
    /// min_v_mem of the IF neurons (NIR has none): `neg-threshold` = -v_threshold
    /// (what sinabs.from_nir sets, so the integers equal Sinabs'
    /// DynapcnnNetwork(discretize=True)); `missing` = discretize.py's rule for
    /// None (-2^15 enters the scale and caps it at 1, warned).
    #[arg(long, value_name = "MODE", default_value = "neg-threshold")]
    min_v_mem: String,
    /// Reset after a spike: `subtract` the threshold (Sinabs) or `zero` (NIR's IF equations).
    #[arg(long, value_name = "MODE", default_value = "subtract")]
    reset: String,
    /// Enable the monitor on every layer, so that every layer's spikes reach the host (for `plot`).
    #[arg(long)]
    monitor: bool,
    /// Place the network on exactly N daisy-chained chips of the preset
    /// (default: as few as fit, one when it fits one).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=spikehdl_model::chain::MAX_CHIPS as u64))]
    chips: Option<u64>,
    /// Also write the per-layer import report (scales, cores, footprints) as JSON.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
}

fn parse_shape(s: &str) -> Result<[usize; 3]> {
    let v: Vec<usize> = s
        .split(',')
        .map(|p| p.trim().parse::<usize>().with_context(|| format!("--input-shape: {p:?} is not a whole number")))
        .collect::<Result<_>>()?;
    match v[..] {
        [c, h, w] if c > 0 && h > 0 && w > 0 => Ok([c, h, w]),
        _ => bail!("--input-shape: {s:?} is not C,H,W with three positive numbers"),
    }
}

pub fn run(a: Args) -> Result<u8> {
    // Import only reads the file. HDF5 flock()s every file it opens, and a
    // descriptor inherited by a process forked elsewhere (HDF5 opens files
    // without O_CLOEXEC) keeps that lock alive, so a read could fail with
    // "unable to lock file". Reading needs no lock. Set before any HDF5 call,
    // while the CLI is still single-threaded.
    if std::env::var_os("HDF5_USE_FILE_LOCKING").is_none() {
        std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    }
    let min_v_mem = match a.min_v_mem.as_str() {
        "missing" => MinVMem::Missing,
        "neg-threshold" => MinVMem::NegThreshold,
        o => bail!("--min-v-mem: {o:?} is not one of missing, neg-threshold"),
    };
    let reset = match a.reset.as_str() {
        "subtract" => Reset::Subtract,
        "zero" => Reset::Zero,
        o => bail!("--reset: {o:?} is not one of subtract, zero"),
    };
    let input_shape = a.input_shape.as_deref().map(parse_shape).transpose()?;
    let opt = Options { chip: a.chip.clone(), input_shape, min_v_mem, reset, monitor: a.monitor, chips: a.chips.map(|n| n as usize) };
    let imp = spikehdl_nir::import_file(&a.net, &opt).map_err(|e| anyhow::anyhow!("{}: {e}", a.net.display()))?;
    for w in &imp.warnings {
        eprintln!("warning: {w}");
    }
    let text = serde_json::to_string_pretty(&imp.file())?;
    super::write_file(&a.out, &(text + "\n"))?;
    let [c, h, w] = imp.input;
    let entries = imp.entry_cores.iter().map(|c| format!("core {c}")).collect::<Vec<_>>().join(", ");
    let chips = if imp.n_chips() == 1 { format!("chip {:?}", a.chip) } else { format!("{} daisy-chained {:?} chips", imp.n_chips(), a.chip) };
    println!(
        "input {c}x{h}x{w} ({}); {} layers on {chips}",
        if imp.dvs { format!("DVS layer feeds {entries}") } else { format!("no DVS layer: send spike items to {entries}") },
        imp.layers.len(),
    );
    if !imp.chips_why.is_empty() {
        println!("{}", imp.chips_why);
    }
    println!(
        "{:>9}  {:<24} {:>11} {:>11} {:>2} {:>10} {:>10} {:>13} {:>17}  {:<16} destinations",
        if imp.n_chips() == 1 { "core" } else { "chip:core" },
        "layer (node + IF)", "in CxHxW", "out FxHxW", "k", "scale", "limited by", "thresholds", "kernel/neuron/bias", "sources"
    );
    for l in &imp.layers {
        let lim = l.scales.limited_by();
        let lim = lim.split(' ').next().unwrap_or(lim);
        // A source is the Input node or a layer's IF node: name the core it sits on.
        let sources: Vec<String> = l
            .sources
            .iter()
            .map(|src| match imp.layers.iter().find(|o| &o.neuron == src) {
                Some(o) if o.chip != l.chip => format!("chip {} core {}", o.chip, o.core),
                Some(o) => format!("core {}", o.core),
                None if imp.dvs => "dvs".to_string(),
                None => "host".to_string(),
            })
            .collect();
        let dests: Vec<String> = l.destinations.iter().map(ToString::to_string).collect();
        println!(
            "{:>9}  {:<24} {:>11} {:>11} {:>2} {:>10} {:>10} {:>13} {:>17}  {:<16} {}",
            if imp.n_chips() == 1 { l.core.to_string() } else { format!("{}:{}", l.chip, l.core) },
            format!("{} + {}", l.node, l.neuron),
            format!("{}x{}x{}", l.input[0], l.input[1], l.input[2]),
            format!("{}x{}x{}", l.output[0], l.output[1], l.output[2]),
            l.kernel,
            format!("{:.4}", l.scales.chosen),
            lim,
            format!("{}..{}", l.threshold_low, l.threshold_high),
            format!("{}/{}/{}", l.footprint.kernel_words, l.footprint.neuron_words, l.footprint.bias_words),
            sources.join(" + "),
            dests.join(", "),
        );
    }
    if imp.layers.iter().any(|l| l.leak_enable) {
        println!("biases are applied on leak ticks: simulate with --leak-period-us equal to the training time step");
    }
    println!("wrote {}", a.out.display());
    if let Some(p) = &a.report_json {
        let j = serde_json::json!({ "input": imp.input, "dvs": imp.dvs, "entry_cores": imp.entry_cores, "warnings": imp.warnings, "layers": imp.layers });
        super::write_file(p, &serde_json::to_string_pretty(&j)?)?;
    }
    Ok(crate::EXIT_OK)
}
