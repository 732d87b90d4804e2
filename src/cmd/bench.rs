//! `spikehdl bench`: throughput figures, printed side by side in one run.
//! Never a timed assertion: it reports, it does not judge.
//!
//! Model workload (issue 2): 128×128 DVS events (pooled 2 → 64×64) into
//! conv 2→16 3×3 (pad 1) then, pooled 2, conv 16→32 3×3 (pad 1).

use std::time::Instant;

use anyhow::Result;
use spikehdl_model::config::{ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, DvsDestinationConfig, DvsLayerConfig, Shape, Xy};
use spikehdl_model::{chip::route, dvs, ChipModel, CoreItem, CoreModel, CoreOutput, HostInput, HostOutput};

#[derive(clap::Args)]
pub struct Args {
    /// Number of DVS events in the model workload.
    #[arg(long, default_value_t = 300_000)]
    events: usize,
    /// Repetitions; the best run is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Input spikes of the simulator comparison (Verilator vs rust-hdl's simulator).
    #[arg(long, default_value_t = 1500)]
    sim_spikes: usize,
    /// Only the model figures (no RTL).
    #[arg(long)]
    model_only: bool,
    /// DVS events of the dense whole-chip co-simulation (9-core reference chip).
    #[arg(long, default_value_t = 2_000)]
    chip_events: usize,
    /// Generated events of the benchmark network's whole-chip co-simulation; 0 skips it.
    #[arg(long, default_value_t = 1_000)]
    chip_net_events: usize,
    /// Events of the benchmark network run (examples/bench_net.json).
    #[arg(long, default_value_t = spikehdl_model::bench_net::EVENTS)]
    net_events: usize,
    /// Model threads for the pipelined figures (default: all CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    threads: Option<u64>,
    /// Recording lengths (events, comma-separated) whose peak memory `simulate` reports; "" skips.
    #[arg(long, default_value = "1000000,10000000")]
    rss_events: String,
}

use spikehdl_model::rng::Rng;

fn conv(c: i64, size: i64, f: i64, th: i64, rng: &mut Rng, dest: DestinationConfig) -> CnnLayerConfig {
    let weights = (0..f)
        .map(|_| (0..c).map(|_| (0..3).map(|_| (0..3).map(|_| rng.below(60) as i64 - 20).collect()).collect()).collect())
        .collect();
    CnnLayerConfig {
        input_shape: Shape { features: c, x: size, y: size },
        output_shape: Shape { features: f, x: size, y: size },
        kernel_size: 3,
        stride: Xy { x: 1, y: 1 },
        padding: Xy { x: 1, y: 1 },
        weights,
        biases: None,
        neurons_initial_value: None,
        threshold_high: th,
        threshold_low: -th,
        return_to_zero: false,
        leak_enable: false,
        monitor_enable: false,
        destinations: vec![dest, DestinationConfig { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 }],
    }
}

/// The dense benchmark network.
pub fn dense_config() -> ChipConfig {
    let mut rng = Rng::new(42);
    let d = |layer, pooling| DestinationConfig { chip: None, layer, enable: true, pooling, feature_shift: 0 };
    ChipConfig {
        chip: ChipSpec { preset: Some(spikehdl_model::presets::CHIP_REFERENCE.name.into()), cores: None },
        allow_cycles: false,
        dvs_layer: Some(DvsLayerConfig {
            pooling: Some(Xy { x: 2, y: 2 }),
            origin: None,
            cut: None,
            mirror: Default::default(),
            mirror_diagonal: false,
            merge: false,
            on_channel: true,
            off_channel: true,
            monitor_enable: false,
            destinations: vec![DvsDestinationConfig { layer: 0, enable: true }],
        }),
        cnn_layers: vec![
            Some(conv(2, 64, 16, 120, &mut rng, d(3, 2))),
            None,
            None,
            Some(conv(16, 32, 32, 200, &mut rng, d(12, 1))),
        ],
    }
}

pub fn dvs_events(n: usize, seed: u64) -> Vec<HostInput> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| HostInput::Dvs { x: rng.below(128) as u16, y: rng.below(128) as u16, p: rng.below(2) as u8 }).collect()
}

fn best<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best_t = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let r = f();
        best_t = best_t.min(t0.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best_t, last.expect("at least one run"))
}

pub fn run(a: Args) -> Result<u8> {
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run `cargo run --release -- bench` for meaningful figures");
    }
    super::bench_net::run(a.net_events, a.repeat, a.threads.map_or_else(super::simulate::default_threads, |n| n as usize), &a.rss_events)?;
    println!();
    let cfg = spikehdl_model::validate(&dense_config()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let events = dvs_events(a.events, 7);
    println!("model workload: {} DVS events, DVS pool 2 -> conv 2->16 3x3 (64x64) -> pool 2 -> conv 16->32 3x3 (32x32)", events.len());

    // Whole chip.
    let (secs, chip) = best(a.repeat, || {
        let mut chip = ChipModel::new(&cfg);
        let mut out: Vec<HostOutput> = Vec::new();
        for e in &events {
            out.clear();
            chip.accept(e, &mut out).expect("valid item");
        }
        chip
    });
    let per_core: Vec<u64> = (0..chip.n_cores()).map(|i| chip.core_counters(i).synaptic_updates).collect();
    let total: u64 = per_core.iter().sum();

    // Where the time goes: each core alone on exactly the items it saw in the chip run.
    let d = cfg.dvs.expect("dvs configured");
    let core0_in: Vec<CoreItem> = events
        .iter()
        .filter_map(|e| match *e {
            HostInput::Dvs { x, y, p } => dvs::transform(&d, x.into(), y.into(), p).map(|(c, x, y)| CoreItem::Spike { c, x, y }),
            _ => None,
        })
        .collect();
    let l0 = cfg.layers[0].as_ref().expect("core 0");
    let l3 = cfg.layers[3].as_ref().expect("core 3");
    let (t0, (core0, out0)) = best(a.repeat, || {
        let mut core = CoreModel::new(l0);
        let mut out: Vec<CoreOutput> = Vec::with_capacity(1 << 20);
        for it in &core0_in {
            core.accept(*it, &mut out);
        }
        (core, out)
    });
    let core3_in: Vec<CoreItem> = out0
        .iter()
        .filter_map(|o| match *o {
            CoreOutput::Spike { f, x, y } => {
                let (c, x, y) = route(&l0.destinations[0], f, x, y);
                Some(CoreItem::Spike { c, x, y })
            }
            _ => None,
        })
        .collect();
    let (t3, core3) = best(a.repeat, || {
        let mut core = CoreModel::new(l3);
        let mut out: Vec<CoreOutput> = Vec::with_capacity(1 << 20);
        for it in &core3_in {
            out.clear();
            core.accept(*it, &mut out);
        }
        core
    });
    let u0 = core0.counters().synaptic_updates;
    let u3 = core3.counters().synaptic_updates;
    println!();
    println!("{:<34} {:>14} {:>10} {:>14}", "stage", "updates", "seconds", "M updates/s");
    let row = |name: &str, u: u64, s: f64| println!("{:<34} {:>14} {:>10.4} {:>14.1}", name, u, s, u as f64 / s / 1e6);
    row("whole chip (DVS, router, 2 cores)", total, secs);
    row("core 0 alone (2->16, 64x64)", u0, t0);
    row("core 3 alone (16->32, 32x32)", u3, t3);
    println!(
        "spikes: core 0 {} -> core 3 {}; routing/DVS/queue overhead: {:.1}% of the chip run",
        core0.counters().spikes_out,
        core3.counters().spikes_out,
        ((secs - t0 - t3) / secs * 100.0).max(0.0)
    );
    println!("target: >= 300 M updates/s on one thread -> {:.1} M updates/s", total as f64 / secs / 1e6);
    if a.model_only {
        return Ok(crate::EXIT_OK);
    }
    #[cfg(feature = "cosim")]
    rtl_figures(&a, (l0, &core0_in), (l3, &core3_in))?;
    #[cfg(not(feature = "cosim"))]
    println!("\nRTL figures skipped: this build has no `cosim` feature, which needs {}", super::Feature::Cosim.needs());
    Ok(crate::EXIT_OK)
}

/// The RTL half: verilated cores on the dense streams, the simulators side by
/// side, and the whole chip.
#[cfg(feature = "cosim")]
fn rtl_figures(a: &Args, (l0, core0_in): (&spikehdl_model::Layer, &[CoreItem]), (l3, core3_in): (&spikehdl_model::Layer, &[CoreItem])) -> Result<()> {
    // RTL throughput: the same per-core streams on the verilated reference cores.
    println!();
    println!("RTL core under Verilator, dense streams from the run above (no stalls):");
    println!("{:<36} {:>10} {:>12} {:>12} {:>10} {:>12}", "core (preset)", "items", "updates", "cycles", "upd/cycle", "M cycles/s");
    let n0 = core0_in.len().min(20_000);
    let n3 = core3_in.len().min(2_000);
    for (name, preset, layer, items) in
        [("core 0 2->16 64x64 (ref_a)", "ref_a", l0, &core0_in[..n0]), ("core 3 16->32 32x32 (ref_b)", "ref_b", l3, &core3_in[..n3])]
    {
        let f = rtl_dense(preset, layer, items)?;
        println!(
            "{:<36} {:>10} {:>12} {:>12} {:>10.4} {:>12.2}",
            name, items.len(), f.updates, f.cycles, f.updates as f64 / f.cycles as f64, f.cycles as f64 / f.seconds / 1e6
        );
    }
    println!("target: >= 0.95 updates/cycle (1.0 = one neuron update per clock)");

    // The same core and stimulus in Verilator, Icarus and rust-hdl's simulator.
    simulators(a.sim_spikes)?;

    // Whole chip under Verilator, against the model.
    println!();
    println!("whole-chip co-simulation (Verilator, every check on):");
    let fig = spikehdl_testbenches::chip_bench::chip_bench(std::path::Path::new("examples"), a.chip_net_events, a.chip_events)
        .map_err(|e| anyhow::anyhow!("chip benchmark: {e}"))?;
    print!("{fig}");
    Ok(())
}

#[cfg(feature = "cosim")]
struct RtlFigures {
    updates: u64,
    cycles: u64,
    seconds: f64,
}

/// Runs `items` on the verilated core of `preset`, checking the outputs against the model.
#[cfg(feature = "cosim")]
fn rtl_dense(preset: &str, layer: &spikehdl_model::Layer, items: &[CoreItem]) -> Result<RtlFigures> {
    use spikehdl_cosim::core_dut::{CoreDut, Stalls};
    let p = spikehdl_hdl::presets::preset(preset).ok_or_else(|| anyhow::anyhow!("no core preset {preset}"))?;
    let mut dut = CoreDut::new(p, None)?;
    dut.configure(layer).map_err(|e| anyhow::anyhow!(e))?;
    let t0 = Instant::now();
    let r = dut.run(items, Stalls::default(), u64::MAX);
    let seconds = t0.elapsed().as_secs_f64();
    let mut model = CoreModel::new(layer);
    let mut want = Vec::new();
    for it in items {
        model.accept(*it, &mut want);
    }
    if r.outputs != want || !r.protocol_violations.is_empty() {
        anyhow::bail!("RTL core {preset} disagrees with the model on the benchmark stream (run `cosim` for a transcript)");
    }
    Ok(RtlFigures { updates: model.counters().synaptic_updates, cycles: r.cycles, seconds })
}

/// Verilator vs rust-hdl's simulator on the tiny core, same layer, same spikes.
#[cfg(feature = "cosim")]
fn simulators(n_spikes: usize) -> Result<()> {
    use spikehdl_cosim::core_dut::{CoreDut, Stalls};
    let cap = spikehdl_hdl::presets::preset("tiny").expect("tiny preset").capacity;
    // C=2, 16x16, 3x3 pad 1, F=4: 36 updates per spike, 1 Ki neurons (the tiny preset's capacity).
    let g = spikehdl_testbenches::strategies::Geometry { k: 3, stride: (1, 1), pad: (1, 1), w_in: 16, h_in: 16, w_out: 16, h_out: 16, c: 2, f: 4 };
    let mut rng = Rng::new(11);
    let w: Vec<i64> = (0..2 * 4 * 9).map(|_| rng.below(60) as i64 - 20).collect();
    let layer = spikehdl_testbenches::strategies::build_layer(cap, &g, 100, -100, &w, &[0; 4], &vec![0; 1024], false, false);
    let items: Vec<CoreItem> =
        (0..n_spikes).map(|_| CoreItem::Spike { c: rng.below(2) as u16, x: rng.below(16) as u16, y: rng.below(16) as u16 }).collect();
    let mut model = CoreModel::new(&layer);
    let want: Vec<CoreOutput> = items.iter().flat_map(|i| model.accept_vec(*i)).collect();

    let p = spikehdl_hdl::presets::preset("tiny").expect("tiny preset");
    let mut best_v = f64::INFINITY;
    let mut v_cycles = 0;
    for _ in 0..5 {
        let mut dut = CoreDut::new(p, None)?;
        dut.configure(&layer).map_err(|e| anyhow::anyhow!(e))?;
        let t0 = Instant::now();
        let r = dut.run(&items, Stalls::default(), u64::MAX);
        best_v = best_v.min(t0.elapsed().as_secs_f64());
        v_cycles = r.cycles;
        if r.outputs != want {
            anyhow::bail!("Verilator run of the tiny core disagrees with the model");
        }
    }
    let h = spikehdl_hdl::rhdl_sim::run_tiny(&layer, &items, false).map_err(|e| anyhow::anyhow!(e))?;
    if h.outputs != want {
        anyhow::bail!("rust-hdl simulation of the tiny core disagrees with the model");
    }
    let work = std::path::Path::new("target/bench/icarus");
    let ic = spikehdl_testbenches::icarus::icarus_core_bench(p, std::path::Path::new("rtl"), &layer, &items, work)
        .map_err(|e| anyhow::anyhow!("Icarus run: {e}"))?;
    if ic.stream_cycles != v_cycles {
        anyhow::bail!("Icarus ran {} stream cycles, Verilator {v_cycles}: the drivers differ", ic.stream_cycles);
    }
    let v_rate = v_cycles as f64 / best_v;
    let h_rate = h.stream_cycles as f64 / h.stream_seconds;
    println!();
    println!("one core, same layer and stimulus ({n_spikes} spikes, tiny preset, C=2 16x16 3x3 F=4), driven from Rust:");
    println!("{:<28} {:>10} {:>10} {:>14} {:>10}", "simulator", "cycles", "seconds", "cycles/s", "ratio");
    println!("{:<28} {:>10} {:>10.4} {:>14.0} {:>10.1}", "Verilator 5 (our shim)", v_cycles, best_v, v_rate, v_rate / h_rate);
    println!(
        "{:<28} {:>10} {:>10.4} {:>14.0} {:>10.1}",
        format!("Icarus {}", ic.version.split_whitespace().nth(3).unwrap_or("")),
        ic.total_cycles,
        ic.run_seconds,
        ic.cycles_per_second,
        ic.cycles_per_second / h_rate
    );
    println!("{:<28} {:>10} {:>10.4} {:>14.0} {:>10.1}", "rust-hdl 0.46 simulator", h.stream_cycles, h.stream_seconds, h_rate, 1.0);
    println!("(Icarus counts reset and configuration cycles too and includes vvp start-up; Verilator / Icarus = {:.0}x)", v_rate / ic.cycles_per_second);
    println!("targets: >= 5 M cycles/s and >= 300x rust-hdl -> {:.2} M cycles/s, {:.0}x", v_rate / 1e6, v_rate / h_rate);
    Ok(())
}
