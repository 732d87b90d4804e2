//! Whole-chip co-simulation figures (for `spikehdl bench`): events/s and
//! cycles/s of the verilated chip on the bundled example, the benchmark
//! network and a dense network on the 9-core reference chip, each run twice
//! side by side: with Verilator's input settle on every eval (the baseline)
//! and with the shim's settle only after an input changed
//! ([`spikehdl_sim::Settle`]); and the latency in clock cycles of one input
//! spike through a chain of 9 cores.

use std::path::Path;
use std::time::Instant;

use spikehdl_hdl::chip_regmap::{chip, chip_for_config};
use spikehdl_model::presets::{HOST_LAYER, REFERENCE};
use spikehdl_model::validate::{Destination, DvsLayer};
use spikehdl_model::{HostInput, Layer, ValidConfig};
use spikehdl_sim::Settle;

use crate::chip_check::check_chip_run;
use crate::chip_dut::{ChipDut, ChipRunOpts};
use crate::strategies::{build_layer, Geometry};

/// One measured co-simulation run.
#[derive(Debug, Clone, Default)]
pub struct ChipRunFigures {
    pub what: String,
    pub chip: String,
    pub input_items: usize,
    pub host_outputs: usize,
    pub core_items: usize,
    pub cycles: u64,
    /// Wall time of the RTL run (configuration excluded).
    pub rtl_seconds: f64,
    /// Wall time of the checks (model + scoreboards).
    pub check_seconds: f64,
    pub events_per_second: f64,
    pub cycles_per_second: f64,
    pub matched: bool,
    /// The same run with the input settle on every eval, when measured.
    pub baseline: Option<Box<ChipRunFigures>>,
}

/// All figures.
#[derive(Debug, Clone, Default)]
pub struct ChipBenchFigures {
    /// The bundled example, the benchmark network, the dense network.
    pub runs: Vec<ChipRunFigures>,
    /// Cycles from the input spike's transfer into the chip to the readout
    /// spike's transfer out, through cores 0..8 (1x1 layers that always spike).
    pub chain9_latency_cycles: u64,
    /// Seconds to instantiate and configure the reference chip model.
    pub reference_setup_seconds: f64,
}

impl std::fmt::Display for ChipBenchFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for r in &self.runs {
            writeln!(
                f,
                "{} on {}: {} input items, {} core items, {} host outputs in {} cycles; checks {:.2} s; {}",
                r.what,
                r.chip,
                r.input_items,
                r.core_items,
                r.host_outputs,
                r.cycles,
                r.check_seconds,
                if r.matched { "MATCH" } else { "MISMATCH" }
            )?;
            let row = |f: &mut std::fmt::Formatter<'_>, name: &str, x: &ChipRunFigures| {
                writeln!(f, "  {name:<40} RTL {:>7.2} s {:>9.0} input items/s {:>7.3} M cycles/s", x.rtl_seconds, x.events_per_second, x.cycles_per_second / 1e6)
            };
            if let Some(b) = &r.baseline {
                row(f, "input settle on every eval (Verilator)", b)?;
                row(f, "input settle after an input changed", r)?;
                writeln!(f, "  speed-up {:.2}x items/s, {:.2}x cycles/s (same cycles: {})", r.events_per_second / b.events_per_second, r.cycles_per_second / b.cycles_per_second, r.cycles == b.cycles)?;
            } else {
                row(f, "input settle after an input changed", r)?;
            }
        }
        writeln!(
            f,
            "latency of one spike through 9 cores (host in -> readout out): {} cycles = {:.2} us at 100 MHz (Speck paper: 3.36 us through 9 layers)",
            self.chain9_latency_cycles,
            self.chain9_latency_cycles as f64 / 100.0
        )?;
        write!(f, "reference chip instantiate + configure: {:.2} s", self.reference_setup_seconds)
    }
}

fn off() -> Destination {
    Destination { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 }
}

fn conv(c: u32, w: u32, f: u32, th: i64, seed: u64) -> Layer {
    let g = Geometry { k: 3, stride: (1, 1), pad: (1, 1), w_in: w, h_in: w, w_out: w, h_out: w, c, f };
    let mut r = crate::Rng::new(seed);
    let weights: Vec<i64> = (0..f * c * 9).map(|_| (r.below(9)) as i64 - 2).collect();
    let n = (f * w * w) as usize;
    build_layer(REFERENCE[0], &g, th, -8, &weights, &vec![0; f as usize], &vec![0; n], false, false)
}

/// Runs `items` on the smallest chip that fits `cfg` and measures it; with
/// `baseline`, first with the input settle on every eval.
pub fn measure(what: &str, cfg: &ValidConfig, items: &[HostInput], baseline: bool) -> Result<ChipRunFigures, String> {
    let base = if baseline { Some(Box::new(measure_one(what, cfg, items, Settle::Always)?)) } else { None };
    let mut r = measure_one(what, cfg, items, Settle::OnInputChange)?;
    // MATCH only when the baseline run matched too: it is a co-simulation as well.
    r.matched &= base.as_ref().is_none_or(|b| b.matched);
    r.baseline = base;
    Ok(r)
}

fn measure_one(what: &str, cfg: &ValidConfig, items: &[HostInput], settle: Settle) -> Result<ChipRunFigures, String> {
    let chip = chip_for_config(cfg).ok_or("no chip preset fits the configuration")?;
    let mut dut = ChipDut::new(chip, None).map_err(|e| e.to_string())?;
    dut.set_settle(settle);
    dut.configure(cfg)?;
    let t = Instant::now();
    let run = dut.run(items, ChipRunOpts { watchdog: 1_000_000, ..Default::default() }, &mut |_| {});
    let rtl_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let matched = check_chip_run(cfg, items, &run).is_ok();
    let check_seconds = t.elapsed().as_secs_f64();
    Ok(ChipRunFigures {
        what: what.into(),
        chip: chip.module.into(),
        input_items: items.len(),
        host_outputs: run.outputs.len(),
        core_items: run.accepted.iter().map(Vec::len).sum(),
        cycles: run.cycles,
        rtl_seconds,
        check_seconds,
        events_per_second: items.len() as f64 / rtl_seconds.max(1e-9),
        cycles_per_second: run.cycles as f64 / rtl_seconds.max(1e-9),
        matched,
        baseline: None,
    })
}

/// The dense network on the reference chip: 64x64 DVS window (pooled 2 from
/// 128x128), conv 2->8 3x3 on 64x64... trimmed to fit: DVS pooled 2, crop
/// 32x32 -> core 0 conv 2->8 3x3 (32x32) -> pool 2 -> core 1 conv 8->16 3x3
/// (16x16) -> readout; monitors on core 1. Low thresholds: dense activity.
pub fn dense_network(events: usize) -> (ValidConfig, Vec<HostInput>) {
    let mut l0 = conv(2, 32, 8, 3, 11);
    let mut l1 = conv(8, 16, 16, 4, 12);
    l0.destinations = [Destination { chip: None, layer: 1, enable: true, pooling: 2, feature_shift: 0 }, off()];
    l1.destinations = [Destination { chip: None, layer: HOST_LAYER, enable: true, pooling: 1, feature_shift: 0 }, off()];
    l1.monitor_enable = true;
    let dvs = DvsLayer {
        pool_x: 2, pool_y: 2, origin_x: 16, origin_y: 16, cut_x: 47, cut_y: 47,
        mirror_x: false, mirror_y: false, mirror_diagonal: false, merge: false,
        on_channel: true, off_channel: true, monitor_enable: false, destinations: [Some(0), None],
    };
    let mut layers: Vec<Option<Layer>> = vec![Some(l0), Some(l1)];
    layers.resize(9, None);
    let cfg = ValidConfig { capacities: REFERENCE.to_vec(), layers, dvs: Some(dvs), allow_cycles: false };
    let mut r = crate::Rng::new(99);
    let items = (0..events)
        .map(|_| HostInput::Dvs { x: 32 + (r.below(64)) as u16, y: 32 + (r.below(64)) as u16, p: (r.below(2)) as u8 })
        .collect();
    (cfg, items)
}

/// Latency in cycles of one spike through a chain of 9 single-neuron cores.
pub fn chain9_latency() -> Result<u64, String> {
    let g = Geometry { k: 1, stride: (1, 1), pad: (0, 0), w_in: 1, h_in: 1, w_out: 1, h_out: 1, c: 1, f: 1 };
    let layers: Vec<Option<Layer>> = (0..9u8)
        .map(|i| {
            let mut l = build_layer(REFERENCE[i as usize], &g, 1, 0, &[1], &[0], &[0], true, false);
            l.destinations = [Destination { chip: None, layer: if i == 8 { HOST_LAYER } else { i + 1 }, enable: true, pooling: 1, feature_shift: 0 }, off()];
            Some(l)
        })
        .collect();
    let cfg = ValidConfig { capacities: REFERENCE.to_vec(), layers, dvs: None, allow_cycles: false };
    let mut dut = ChipDut::new(chip("chip_reference").ok_or("reference chip")?, None).map_err(|e| e.to_string())?;
    dut.configure(&cfg)?;
    let items = [HostInput::Spike { layer: 0, c: 0, x: 0, y: 0 }];
    let run = dut.run(&items, ChipRunOpts::default(), &mut |_| {});
    check_chip_run(&cfg, &items, &run).map_err(|m| m.report)?;
    let out = run.outputs.first().ok_or("no readout spike")?;
    Ok(out.cycle - run.input_cycles[0])
}

fn read_config(path: &Path) -> Result<ValidConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    spikehdl_model::parse_and_validate(&text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Every figure. `examples` is the repository's `examples/` directory (its
/// `dvs_3layer` example and `bench_net.json`); `net_events` DVS events of the
/// benchmark network's generator (0 skips it); `dense_events` of the dense
/// network.
pub fn chip_bench(examples: &Path, net_events: usize, dense_events: usize) -> Result<ChipBenchFigures, String> {
    let mut fig = ChipBenchFigures::default();
    let cfg = read_config(&examples.join("dvs_3layer.json"))?;
    let e = examples.join("dvs_3layer_events.csv");
    let items: Vec<HostInput> = spikehdl_model::io::read_inputs(&e, cfg.n_cores()).map_err(|err| err.to_string())?.into_iter().map(|t| t.item).collect();
    fig.runs.push(measure("bundled example (examples/dvs_3layer)", &cfg, &items, true)?);
    if net_events > 0 {
        let cfg = read_config(&examples.join("bench_net.json"))?;
        let items: Vec<HostInput> = spikehdl_model::bench_net::events(net_events, spikehdl_model::bench_net::EVENT_SEED).map(|t| t.item).collect();
        fig.runs.push(measure(&format!("benchmark network (examples/bench_net.json, first {net_events} generated events)"), &cfg, &items, true)?);
    }
    let t = Instant::now();
    let (cfg, items) = dense_network(dense_events);
    let mut dut = ChipDut::new(chip("chip_reference").ok_or("reference chip")?, None).map_err(|e| e.to_string())?;
    dut.configure(&cfg)?;
    fig.reference_setup_seconds = t.elapsed().as_secs_f64();
    drop(dut);
    fig.runs.push(measure("dense network (DVS -> conv 2->8 32x32 -> pool 2 -> conv 8->16 16x16 -> readout)", &cfg, &items, false)?);
    fig.chain9_latency_cycles = chain9_latency()?;
    Ok(fig)
}
