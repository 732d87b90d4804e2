//! `spikehdl cosim --config C --events E [--preset P] [--vcd FILE]
//! [--max-cycles N] [--stall-in P] [--stall-out P] [--per-core [--core N]]`
//!
//! **Whole chip** (default, when a chip preset fits the configuration: its
//! cores' capacities ≥ the layers' footprints; reference configurations use
//! the reference chip; `--preset chip_tiny|chip_fpga|chip_reference|…` forces one): the
//! event file runs through the verilated chip top (`rtl/chip_*.v`) and the
//! golden model side by side, checked as in spec §9 (per-core scoreboards,
//! router checks, end to end per source layer and kind when every core has
//! at most one source); see `cosim/src/chip_check.rs`. On a mismatch
//! the first difference is printed with its input item index, timestamp,
//! layer, expected and got.
//!
//! **Per core** (`--per-core`, or `--core N`, or `--preset` naming a core
//! type, or when no chip fits): runs the
//! event file through the golden model, records the item stream
//! every core accepts, and replays each core's stream on the verilated layer
//! core (the preset matching that core's capacity, or `--preset`),
//! comparing outputs in order, the error counter and the final neuron states
//! (spec §9, per core). Exit 0 when every core matches, 1 on the first
//! mismatch (with a transcript), 2 on an error.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spikehdl_hdl::presets::{preset, preset_for_capacity, preset_names, CorePreset, PRESETS};
use spikehdl_model::presets::former_chip_preset;
use spikehdl_hdl::chip_regmap::{chip, chip_for_config, ChipPreset, CHIP_PRESETS};
use spikehdl_model::{ChipModel, CoreItem, HostInput, Timed};
use spikehdl_cosim::chip_check::check_chip_run;
use spikehdl_sim::PowerUp;
use spikehdl_cosim::chip_dut::{Budget, ChipDut, ChipRunOpts};
use spikehdl_cosim::core_dut::{CoreDut, Stalls};
use spikehdl_cosim::scoreboard::{check_on, CoreCase};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: super::RunInputs,
    /// Co-simulate only this core (default: every configured core).
    #[arg(long)]
    core: Option<usize>,
    /// Chip preset (whole-chip mode: chip_tiny, chip_fpga, chip_reference, …) or
    /// core type (per-core mode: tiny, fpga_up5k, ref_a, …); default: the one that fits.
    #[arg(long)]
    preset: Option<String>,
    /// Co-simulate each core on its own instead of the whole chip.
    #[arg(long)]
    per_core: bool,
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
    /// Power-up values of every register and memory before reset: `zero`, or
    /// a seed for random values (a design that needs a register's power-up
    /// value to be right fails with some seed).
    #[arg(long, default_value = "1", value_parser = parse_power_up)]
    power_up: PowerUp,
}

fn parse_power_up(s: &str) -> Result<PowerUp, String> {
    if s == "zero" {
        return Ok(PowerUp::Zero);
    }
    match s.parse::<u32>() {
        Ok(seed) if seed > 0 => Ok(PowerUp::Random(seed)),
        _ => Err(format!("expected `zero` or a seed 1..={}, got {s:?}", u32::MAX)),
    }
}

pub fn run(a: Args) -> Result<u8> {
    let (cfg, items) = a.inputs.load()?;
    if !a.per_core && a.core.is_none() {
        let chosen = match &a.preset {
            Some(name) => match chip(name) {
                Some(c) => Some(c),
                None if preset(name).is_some() => {
                    eprintln!("--preset {name} is a core type: co-simulating core by core");
                    None
                }
                None => match former_chip_preset(name) {
                    Some(new) => {
                        let core = preset(&name.replace('-', "_")).map(|p| format!(" (or the core type {:?} per core)", p.name));
                        bail!("--preset: {name:?} is no longer a preset name; use the chip preset {new:?}{}", core.unwrap_or_default())
                    }
                    None => bail!(
                        "--preset: unknown preset {name:?}; chip presets: {}; core types (per core): {}",
                        CHIP_PRESETS.iter().map(|c| c.module).collect::<Vec<_>>().join(", "),
                        preset_names().join(", ")
                    ),
                },
            },
            None => chip_for_config(&cfg),
        };
        match chosen {
            Some(c) => {
                let why = c.misfits(&cfg);
                if why.is_empty() {
                    return run_chip(&a, &cfg, &items, c);
                }
                bail!("--preset: chip {} does not fit the configuration: {}", c.module, why.join("; "))
            }
            None if a.preset.is_some() => {}
            None => eprintln!("no chip preset fits this configuration: co-simulating core by core"),
        }
    }
    let forced: Option<&'static CorePreset> = match &a.preset {
        None => None,
        Some(name) => Some(preset(name).ok_or_else(|| {
            anyhow!("--preset: {name:?} is not a core type (per-core mode); known: {}", preset_names().join(", "))
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
        let mut dut = CoreDut::with_power_up(p, vcd.take().as_deref(), a.power_up).context("instantiating the verilated core")?;
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

fn run_chip(a: &Args, cfg: &spikehdl_model::ValidConfig, items: &[Timed<HostInput>], c: &'static ChipPreset) -> Result<u8> {
    let host: Vec<HostInput> = items.iter().map(|t| t.item).collect();
    let t0 = std::time::Instant::now();
    let mut dut = ChipDut::with_power_up(c, a.vcd.as_deref(), a.power_up).with_context(|| format!("instantiating the verilated chip {}", c.module))?;
    let writes = dut.configure(cfg).map_err(|e| anyhow!("configuring chip {}: {e}", c.module))?;
    let setup = t0.elapsed().as_secs_f64();
    let pb = ProgressBar::new(host.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} items ({per_sec}, eta {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_message(format!("{} (RTL)", c.module));
    let opts = ChipRunOpts { out_stall: a.stall_out, in_stall: a.stall_in, seed: 0x5eed, max_cycles: a.max_cycles, watchdog: 1_000_000, budget: None, serial: false };
    // A flooding or runaway RTL ends with an error instead of filling memory.
    let opts = ChipRunOpts { budget: Budget::from_model(cfg, &host, &opts), ..opts };
    let t1 = std::time::Instant::now();
    let run = dut.run(&host, opts, &mut |k| pb.set_position(k as u64));
    let rtl = t1.elapsed().as_secs_f64();
    pb.finish_and_clear();
    if let Some(path) = &a.vcd {
        dut.flush();
        println!("waveform: {}", path.display());
    }
    let t2 = std::time::Instant::now();
    let res = check_chip_run(cfg, &host, &run);
    let check = t2.elapsed().as_secs_f64();
    println!(
        "chip {} ({} cores): {} config writes, setup {:.2} s; {} input items, {} core items, {} host outputs in {} cycles; RTL {:.2} s ({:.0} items/s, {:.2} M cycles/s), checks {:.2} s",
        c.module,
        c.n_cores(),
        writes,
        setup,
        run.inputs_accepted,
        run.accepted.iter().map(Vec::len).sum::<usize>(),
        run.outputs.len(),
        run.cycles,
        rtl,
        run.inputs_accepted as f64 / rtl.max(1e-9),
        run.cycles as f64 / rtl.max(1e-9) / 1e6,
        check
    );
    match res {
        Ok(s) => {
            println!(
                "MATCH: per-core scoreboards, router checks{}",
                if s.end_to_end { ", end to end against the chip model" } else { " (end-to-end comparison skipped: a core has several sources)" }
            );
            Ok(crate::EXIT_OK)
        }
        Err(m) => {
            println!("MISMATCH");
            if let Some(i) = m.input_index.filter(|&i| i < items.len()) {
                println!("input item [{i}] at t = {} us", items[i].t);
            }
            println!("{}", m.report);
            Ok(crate::EXIT_MISMATCH)
        }
    }
}

fn configured(cfg: &spikehdl_model::ValidConfig) -> Vec<usize> {
    cfg.layers.iter().enumerate().filter(|(_, l)| l.is_some()).map(|(i, _)| i).collect()
}

fn smallest_fitting(layer: &spikehdl_model::Layer) -> Option<&'static CorePreset> {
    let fp = layer.footprint();
    PRESETS
        .iter()
        .filter(|p| fp.fits(&p.capacity))
        .min_by_key(|p| p.capacity.kernel_words + p.capacity.neuron_words)
}
