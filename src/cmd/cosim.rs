//! `spikehdl cosim --config C --events E [--core N] [--preset P] [--vcd FILE]
//! [--max-cycles N] [--stall-in P] [--stall-out P]`
//!
//! Runs the event file through the golden model, records the item stream
//! every core accepts, and replays each core's stream on the verilated layer
//! core (the preset matching that core's capacity, or `--preset`),
//! comparing outputs in order, the error counter and the final neuron states
//! (spec §9, per core). Exit 0 when every core matches, 1 on the first
//! mismatch (with a transcript), 2 on an error.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spikehdl_hdl::presets::{preset, preset_for_capacity, CorePreset, PRESETS};
use spikehdl_model::{ChipModel, CoreItem};
use spikehdl_testbenches::core_dut::{CoreDut, Stalls};
use spikehdl_testbenches::scoreboard::{check_on, CoreCase};

#[derive(clap::Args)]
pub struct Args {
    /// Chip configuration (JSON).
    #[arg(long)]
    config: PathBuf,
    /// Host input events (.csv or .jsonl).
    #[arg(long)]
    events: PathBuf,
    /// Co-simulate only this core (default: every configured core).
    #[arg(long)]
    core: Option<usize>,
    /// Core preset to instantiate (default: the one matching each core's capacity).
    #[arg(long)]
    preset: Option<String>,
    /// Dump a VCD waveform of the (first) co-simulated core to this file.
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// Give up on a core after this many cycles.
    #[arg(long, default_value_t = 2_000_000_000)]
    max_cycles: u64,
    /// Percent of cycles the driver withholds input (random, seeded).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=95))]
    stall_in: u8,
    /// Percent of cycles the output is not ready (random, seeded).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=95))]
    stall_out: u8,
    /// Insert a leak tick every N microseconds of event time.
    #[arg(long, value_name = "N")]
    leak_period_us: Option<u64>,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = super::load_config(&a.config)?;
    let mut items = spikehdl_model::io::read_inputs(&a.events, cfg.n_cores())?;
    if let Some(p) = a.leak_period_us {
        if p == 0 {
            bail!("--leak-period-us: value 0 is out of range 1..={}", u64::MAX);
        }
        items = super::simulate::with_leak_ticks(&items, p);
    }
    let forced: Option<&'static CorePreset> = match &a.preset {
        None => None,
        Some(name) => Some(preset(name).ok_or_else(|| {
            anyhow!("--preset: unknown core preset {name:?}; known: {}", PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "))
        })?),
    };
    if let Some(c) = a.core {
        if cfg.layers.get(c).and_then(|l| l.as_ref()).is_none() {
            bail!("--core: value {c} is not a configured core (configured: {:?})", configured(&cfg));
        }
    }

    // Model run, recording every core's accepted stream.
    let mut chip = ChipModel::new(&cfg);
    chip.trace = Some(Vec::new());
    chip.run(&items).map_err(|(i, e)| anyhow!("input item {i}: {e}"))?;
    let trace = chip.trace.take().unwrap_or_default();

    let mut vcd = a.vcd.clone();
    let mut all_ok = true;
    for core in configured(&cfg) {
        if a.core.is_some_and(|c| c != core) {
            continue;
        }
        let layer = cfg.layers[core].as_ref().expect("configured");
        let p = match forced {
            Some(p) => p,
            None => preset_for_capacity(&cfg.capacities[core]).or_else(|| smallest_fitting(layer)).ok_or_else(|| {
                anyhow!("core {core}: no exported core preset fits its layer; pass --preset")
            })?,
        };
        let stream: Vec<CoreItem> = trace.iter().filter(|(c, _)| *c == core).map(|(_, it)| *it).collect();
        let pb = ProgressBar::new_spinner();
        pb.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
        pb.set_message(format!("core {core}: {} items on layer_core_{} …", stream.len(), p.name));
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        let start = std::time::Instant::now();
        let mut dut = CoreDut::new(p, vcd.take().as_deref()).context("instantiating the verilated core")?;
        let case = CoreCase { layer: layer.clone(), items: stream, stalls: Stalls { input: a.stall_in, output: a.stall_out, seed: 0x5eed + core as u64 } };
        let res = check_on(&mut dut, &case);
        pb.finish_and_clear();
        let secs = start.elapsed().as_secs_f64();
        match res {
            Ok(s) => println!(
                "core {core} (layer_core_{}): {} items, {} outputs, {} synaptic updates in {} cycles ({:.3} updates/cycle), {:.2} s, {:.2} M cycles/s: MATCH",
                p.name,
                case.items.len(),
                s.outputs,
                s.synaptic_updates,
                s.cycles,
                s.synaptic_updates as f64 / s.cycles.max(1) as f64,
                secs,
                dut.cycles() as f64 / secs / 1e6
            ),
            Err(transcript) => {
                all_ok = false;
                println!("core {core} (layer_core_{}): MISMATCH", p.name);
                println!("{transcript}");
                break;
            }
        }
    }
    Ok(if all_ok { crate::EXIT_OK } else { crate::EXIT_MISMATCH })
}

fn configured(cfg: &spikehdl_model::ValidConfig) -> Vec<usize> {
    cfg.layers.iter().enumerate().filter(|(_, l)| l.is_some()).map(|(i, _)| i).collect()
}

fn smallest_fitting(layer: &spikehdl_model::Layer) -> Option<&'static CorePreset> {
    let fp = layer.footprint();
    PRESETS
        .iter()
        .filter(|p| fp.kernel_words <= p.capacity.kernel_words && fp.neuron_words <= p.capacity.neuron_words && fp.bias_words <= p.capacity.bias_words)
        .min_by_key(|p| p.capacity.kernel_words + p.capacity.neuron_words)
}
