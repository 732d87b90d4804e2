//! Threads: the pipelined (whole cores, or cores cut by features between
//! stages) and the feature-split runs give the sequential model's result
//! exactly (host outputs in order with timestamps, final states, every
//! counter) on random fan-in-free chips, including features fewer than
//! threads, odd feature counts, edge geometries (kernel 16 with padding 7,
//! stride 8 in one axis) and random cut points (a core over up to four
//! stages), and fall back to one thread, saying why, when the rule does not
//! hold (fan-in, cycles, several host-output cores).

mod common;

use std::convert::Infallible;

use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use spikehdl_model::config::{ChipConfig, Xy};
use spikehdl_model::pipeline::{cut_at, pipeline_rule, run_stream, Fallback, Part, RunReport, StreamError, StreamOptions, ThreadMode};
use spikehdl_model::{bench_net, ChipModel, HostInput, HostOutput, Timed, ValidConfig};

type Outcome = (Vec<Timed<HostOutput>>, Vec<Option<Vec<i16>>>, Vec<spikehdl_model::core::CoreCounters>, spikehdl_model::chip::RouterCounters);

fn run(cfg: &ValidConfig, items: &[Timed<HostInput>], opts: StreamOptions) -> (Outcome, RunReport, Option<String>) {
    let mut chip = ChipModel::new(cfg);
    let mut out = Vec::new();
    let r = run_stream(&mut chip, &opts, items.iter().map(|&i| Ok::<_, Infallible>(i)), |o| {
        out.push(*o);
        Ok(())
    });
    let (report, err) = match r {
        Ok(rep) => (rep, None),
        Err(e) => (RunReport::default(), Some(e.to_string())),
    };
    let states = (0..chip.n_cores()).map(|i| chip.core(i).map(|c| c.states())).collect();
    let counters = (0..chip.n_cores()).map(|i| chip.core_counters(i)).collect();
    ((out, states, counters, chip.router_counters().clone()), report, err)
}

/// A uniform 4-channel 8×8 layer (k 1 or 3), low thresholds so that spikes travel.
fn small_layer(k: i64, seed: u64, th: i64, monitor: bool) -> spikehdl_model::config::CnnLayerConfig {
    shaped_layer(4, 4, k, 1, seed, th, monitor)
}

/// `c` channels to `f` features on an 8×8 input, k 1 or 3 (padded).
fn shaped_layer(c: i64, f: i64, k: i64, stride: i64, seed: u64, th: i64, monitor: bool) -> spikehdl_model::config::CnnLayerConfig {
    let mut l = layer(c, 8, 8, f, k, (stride, stride), ((k - 1) / 2, (k - 1) / 2));
    let rng = std::cell::RefCell::new(bench_net::Rng::new(seed));
    set_weights(&mut l, |_, _, _, _| rng.borrow_mut().below(61) as i64 - 20);
    l.threshold_high = th;
    l.threshold_low = -th;
    l.monitor_enable = monitor;
    l.leak_enable = seed.is_multiple_of(3);
    l.biases = Some((0..f).map(|i| (seed as i64 + i) % 7 - 3).collect());
    l.return_to_zero = seed.is_multiple_of(2);
    l
}

/// A random forest over `n` cores fed by the DVS layer (pooling 4, crop 8×8):
/// each core's one source is the DVS layer or an earlier core with a free
/// destination slot; `host` picks the one core that reads out (with monitor
/// on it when `monitor`). Host items: DVS events, spikes into any core,
/// leak ticks, neuron reads and writes (features 0..8, so some outside F).
/// Cores have 8 channels and F in {1, 2, 3, 4, 5, 7} (odd, and fewer than
/// the threads), k 1 or 3, stride 1 or 2. With `fan_in`, one more edge
/// gives some core a second source when possible (the rule then fails).
#[derive(Debug, Clone)]
struct Case {
    cfg: ChipConfig,
    items: Vec<Timed<HostInput>>,
}

fn case() -> impl Strategy<Value = Case> {
    case_with(false)
}

fn case_with(fan_in: bool) -> impl Strategy<Value = Case> {
    (1usize..=6, any::<u64>(), proptest::collection::vec((0u8..4, 0u16..32, 0u16..32, 0u8..2, 0u16..8, 0u16..8, 0u8..9), 1..400))
        .prop_map(move |(n, seed, raw)| {
            let n = if fan_in { n.max(3) } else { n };
            let mut rng = bench_net::Rng::new(seed);
            let ids: Vec<usize> = {
                let mut v: Vec<usize> = (0..9).collect();
                for i in (1..9).rev() {
                    v.swap(i, rng.below(i as u64 + 1) as usize);
                }
                v.truncate(n);
                v
            };
            let mut layers: Vec<Option<spikehdl_model::config::CnnLayerConfig>> = vec![None; 9];
            let mut dvs_free = 2usize;
            let mut dvs_dests = Vec::new();
            for (pos, &j) in ids.iter().enumerate() {
                let k = if rng.below(2) == 0 { 1 } else { 3 };
                let f = [1, 2, 3, 4, 5, 7][rng.below(6) as usize];
                layers[j] = Some(shaped_layer(8, f, k, 1, rng.below(1000), 10 + rng.below(60) as i64, false));
                // Pick a source: DVS or an earlier core with a free slot.
                let cands: Vec<usize> = ids[..pos]
                    .iter()
                    .copied()
                    .filter(|&i| layers[i].as_ref().unwrap().destinations.iter().any(|d| !d.enable))
                    .collect();
                let use_dvs = dvs_free > 0 && (cands.is_empty() || rng.below(3) == 0);
                if use_dvs {
                    dvs_free -= 1;
                    dvs_dests.push(dvs_dest(j as i64));
                } else if let Some(&i) = cands.get(rng.below(cands.len().max(1) as u64) as usize) {
                    let l = layers[i].as_mut().unwrap();
                    let slot = l.destinations.iter().position(|d| !d.enable).unwrap();
                    l.destinations[slot] = dest(j as i64, 1, 0);
                }
                // else: a root fed by host spikes only.
            }
            if fan_in {
                // A second source for a core fed by an earlier core: another earlier core with a free slot.
                let fed: Vec<(usize, usize)> = ids
                    .iter()
                    .enumerate()
                    .filter_map(|(pos, &j)| {
                        let src = ids[..pos].iter().copied().find(|&i| layers[i].as_ref().unwrap().destinations.iter().any(|d| d.enable && d.layer == j as i64))?;
                        let other = ids[..pos].iter().copied().find(|&i| i != src && layers[i].as_ref().unwrap().destinations.iter().any(|d| !d.enable))?;
                        Some((other, j))
                    })
                    .collect();
                if let Some(&(i, j)) = fed.get(rng.below(fed.len().max(1) as u64) as usize) {
                    let l = layers[i].as_mut().unwrap();
                    let slot = l.destinations.iter().position(|d| !d.enable).unwrap();
                    l.destinations[slot] = dest(j as i64, 1, 0);
                }
            }
            // One host-output core.
            let h = ids[rng.below(n as u64) as usize];
            let l = layers[h].as_mut().unwrap();
            match l.destinations.iter().position(|d| !d.enable) {
                Some(slot) => l.destinations[slot] = to_host(1, 0),
                None => l.monitor_enable = true,
            }
            if rng.below(2) == 0 {
                l.monitor_enable = true;
            }
            // Leaves (no core destination) may take edge geometries, their
            // output feeding no core: kernel 16 with padding 7, stride 8 in x
            // only (per-tap strips in x, row strips in y), different strides
            // and paddings per axis, stride 2. The merge of split or cut
            // cores orders spikes by (oy, ox), which these shapes stress.
            const EDGES: [(i64, (i64, i64), (i64, i64)); 4] = [(16, (1, 1), (7, 7)), (8, (8, 1), (7, 0)), (5, (1, 4), (2, 3)), (3, (2, 2), (1, 1))];
            for l in layers.iter_mut().flatten() {
                if !l.destinations.iter().any(|d| d.enable && d.layer < 12) && rng.below(2) == 0 {
                    let (k, (sx, sy), (px, py)) = EDGES[rng.below(EDGES.len() as u64) as usize];
                    l.kernel_size = k;
                    l.stride = Xy { x: sx, y: sy };
                    l.padding = Xy { x: px, y: py };
                    l.output_shape.x = out_size(8, px, k, sx);
                    l.output_shape.y = out_size(8, py, k, sy);
                    let (f, c) = (l.output_shape.features as usize, l.input_shape.features as usize);
                    l.weights = vec![vec![vec![vec![0; k as usize]; k as usize]; c]; f];
                    let seed = rng.next_u64();
                    set_weights(l, |f, c, ky, kx| ((seed >> ((f * 7 + c * 5 + ky * 3 + kx) % 48)) % 61) as i64 - 20);
                    if let Some(init) = l.neurons_initial_value.as_mut() {
                        *init = vec![vec![vec![0; l.output_shape.x as usize]; l.output_shape.y as usize]; f];
                    }
                }
            }
            let mut cfg = config(layers);
            let mut d = dvs_layer();
            d.pooling = Some(Xy { x: 4, y: 4 });
            d.cut = Some(Xy { x: 7, y: 7 });
            d.monitor_enable = rng.below(2) == 0;
            d.destinations = dvs_dests;
            cfg.dvs_layer = Some(d);
            let items = raw
                .into_iter()
                .enumerate()
                .map(|(t, (kind, x, y, p, f, v, core))| {
                    let core = ids[core as usize % n] as u8;
                    let item = match kind {
                        0 | 1 if rng.below(20) == 0 => HostInput::LeakTick,
                        0 | 1 => HostInput::Dvs { x, y, p },
                        2 if rng.below(4) == 0 => HostInput::ReadNeuron { layer: core, f, x: v % 8, y: y % 8 },
                        2 if rng.below(4) == 0 => HostInput::WriteNeuron { layer: core, f, x: v % 8, y: y % 8, value: x as i16 * 100 - 1600 },
                        _ => HostInput::Spike { layer: core, c: f, x: v, y: y % 8 },
                    };
                    Timed { t: t as u64 * 3, item }
                })
                .collect();
            Case { cfg, items }
        })
}

/// A random legal stage plan over the cores of `order` (F from `cfg`): up to
/// `stages` − 1 cuts, each at a random point of the concatenated feature
/// lists, so half land inside a core (and two or three can cut the same
/// core, making middle holders) and some between cores.
fn random_plan(cfg: &ValidConfig, order: &[usize], stages: usize, seed: u64) -> Vec<Vec<Part>> {
    let f = |j: usize| cfg.layers[j].as_ref().map_or(1, |l| l.f as usize);
    let units: Vec<(usize, usize)> = order.iter().flat_map(|&j| (0..f(j)).map(move |x| (j, x))).collect();
    let mut rng = bench_net::Rng::new(seed);
    let mut cuts: Vec<usize> = (0..stages.saturating_sub(1)).map(|_| 1 + rng.below(units.len().max(2) as u64 - 1) as usize).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.retain(|&c| c < units.len());
    let mut plan: Vec<Vec<Part>> = vec![Vec::new()];
    for (u, &(j, x)) in units.iter().enumerate() {
        if cuts.contains(&u) {
            plan.push(Vec::new());
        }
        let stage = plan.last_mut().expect("a stage");
        match stage.last_mut() {
            Some(p) if p.0 == j => p.2 = x + 1,
            _ => stage.push((j, x, x + 1)),
        }
    }
    plan
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn threaded_runs_equal_the_sequential_model(
        c in case(),
        warm in 0u64..20,
        batch in 1usize..9,
        threads in 2usize..5,
        how in 0u8..6,
        plan_seed in any::<u64>(),
    ) {
        let cfg = valid(&c.cfg);
        let order = spikehdl_model::pipeline::thread_rule(&cfg);
        prop_assert!(order.is_ok(), "generated chips are fan-in free with one host core: {:?}", order);
        let (want, _, e1) = run(&cfg, &c.items, StreamOptions::sequential());
        prop_assert!(e1.is_none());
        // 0: whole-core pipeline item by item, 1: feature split, 2: cut pipeline on a random plan,
        // 3: cut pipeline as planned, 4: whole-core pipeline layered, 5: one thread layered.
        let split = how == 1;
        let mode = [ThreadMode::Pipeline, ThreadMode::Split, ThreadMode::Cut, ThreadMode::Cut, ThreadMode::Pipeline, ThreadMode::Auto][how as usize];
        let plan = (how == 2).then(|| random_plan(&cfg, order.as_ref().expect("rule holds"), threads, plan_seed));
        let threads = if how == 5 { 1 } else { threads };
        // Small batches (split and layered) so that a run crosses many batch boundaries.
        let opts = StreamOptions { warmup_items: warm, batch, mode, split_batch: batch * 7, plan: plan.clone(), layered: how != 0, ..StreamOptions::threads(threads) };
        let (got, report, e2) = run(&cfg, &c.items, opts);
        // Layered when asked and there is more than one core to run (the pipeline: past the warm-up).
        let cores = order.as_ref().map_or(0, |o| o.len());
        if how == 5 || (how == 4 && report.stages.len() >= 2) {
            prop_assert_eq!(report.layered, cores >= 2, "{:?}", report);
        }
        if let Some(p) = plan.filter(|p| p.len() >= 2 && report.warmup_items < c.items.len() as u64) {
            prop_assert_eq!(&report.parts, &p, "the run used another plan");
        }
        prop_assert!(e2.is_none());
        // The split needs a core with two features to share; else it pipelines.
        let shareable = cfg.layers.iter().flatten().any(|l| l.f >= 2);
        prop_assert_eq!(split && shareable, !report.split.is_empty(), "split {:?}", report.split);
        prop_assert_eq!(report.items, c.items.len() as u64);
        prop_assert_eq!(report.outputs, want.0.len() as u64);
        prop_assert_eq!(&got.0, &want.0, "host outputs differ; stages {:?} split {:?}", report.stages, report.split);
        prop_assert_eq!(&got.1, &want.1, "final states differ; stages {:?} split {:?}", report.stages, report.split);
        prop_assert_eq!(&got.2, &want.2, "core counters differ");
        prop_assert_eq!(&got.3, &want.3, "router counters differ");
    }

    #[test]
    fn fan_in_chips_run_sequentially_with_the_same_result(c in case_with(true), threads in 2usize..4) {
        let cfg = valid(&c.cfg);
        let (want, _, _) = run(&cfg, &c.items, StreamOptions::sequential());
        let (got, report, _) = run(&cfg, &c.items, StreamOptions::threads(threads));
        if let Err(Fallback::FanIn { .. }) = pipeline_rule(&cfg) {
            prop_assert!(matches!(report.fallback, Some(Fallback::FanIn { .. })), "{:?}", report);
            prop_assert!(report.split.is_empty());
        }
        prop_assert_eq!(&got, &want);
    }
}

#[test]
fn split_merges_the_spikes_of_one_input_by_tap_then_feature() {
    // One 3x3 core, F = 4 on two threads, every weight far above the
    // threshold: each input spike makes every feature of every tap spike,
    // so the two slices' spikes of one input interleave (f 0 1 | 2 3 per
    // tap). Concatenating the slices instead of merging them by (tap,
    // feature) would emit f 0 1 0 1 ... 2 3 2 3 and fail here.
    let mut l = layer(1, 4, 4, 4, 3, (1, 1), (1, 1));
    set_weights(&mut l, |_, _, _, _| 100);
    l.threshold_high = 50;
    l.threshold_low = -50;
    l.destinations[0] = to_host(1, 0);
    let cfg = valid(&config(vec![Some(l)]));
    let items: Vec<_> = (0..20).map(|t| Timed { t, item: host_spike(0, 0, (t % 4) as u16, (t / 4 % 4) as u16) }).collect();
    let (want, _, _) = run(&cfg, &items, StreamOptions::sequential());
    let (got, report, _) = run(&cfg, &items, StreamOptions { split_batch: 3, mode: ThreadMode::Split, ..StreamOptions::threads(2) });
    assert_eq!(report.split, vec![(0, vec![(0, 0, 2), (1, 2, 4)])]);
    let fs: Vec<u16> = want.0.iter().take(8).map(|o| if let HostOutput::Spike { f, .. } = o.item { f } else { 99 }).collect();
    assert_eq!(fs, [0, 1, 2, 3, 0, 1, 2, 3], "every tap spikes in every feature");
    assert!(got == want, "split outputs differ from the sequential ones");
}

#[test]
fn cut_pipeline_merges_the_parts_of_a_core_in_the_cores_order() {
    // The same all-spiking core as above (F = 4), cut between stages at
    // every legal place, over two and three stages (a middle holder); with
    // leak ticks (every neuron, by feature), reads and writes of features on
    // either side of a cut, and items outside the shapes (counted once).
    // Concatenating the parts instead of merging them fails here.
    let mut l = layer(1, 4, 4, 4, 3, (1, 1), (1, 1));
    set_weights(&mut l, |_, _, _, _| 100);
    l.threshold_high = 50;
    l.threshold_low = -50;
    l.leak_enable = true;
    l.biases = Some(vec![60, -5, 60, 7]);
    l.destinations[0] = to_host(1, 0);
    let cfg = valid(&config(vec![Some(l)]));
    let items: Vec<_> = (0..40u64)
        .map(|t| {
            let (x, y) = ((t % 4) as u16, (t / 4 % 4) as u16);
            let item = match t % 9 {
                3 => HostInput::LeakTick,
                5 => HostInput::ReadNeuron { layer: 0, f: (t % 5) as u16, x, y },
                7 => HostInput::WriteNeuron { layer: 0, f: (t % 4) as u16, x, y, value: 40 },
                8 => host_spike(0, 0, x + 3, y),
                _ => host_spike(0, 0, x, y),
            };
            Timed { t, item }
        })
        .collect();
    let (want, _, _) = run(&cfg, &items, StreamOptions::sequential());
    assert!(want.2[0].errors > 0, "some items lie outside the shapes");
    let plans: Vec<Vec<Vec<Part>>> = vec![
        vec![vec![(0, 0, 1)], vec![(0, 1, 4)]],
        vec![vec![(0, 0, 2)], vec![(0, 2, 4)]],
        vec![vec![(0, 0, 3)], vec![(0, 3, 4)]],
        vec![vec![(0, 0, 1)], vec![(0, 1, 3)], vec![(0, 3, 4)]],
    ];
    for plan in plans {
        let threads = plan.len();
        let opts = StreamOptions { warmup_items: 2, batch: 3, mode: ThreadMode::Cut, plan: Some(plan.clone()), ..StreamOptions::threads(threads) };
        let (got, report, err) = run(&cfg, &items, opts);
        assert_eq!(err, None);
        assert_eq!(report.parts, plan);
        assert!(got == want, "plan {plan:?}: outputs, states or counters differ from the sequential run");
    }
}

#[test]
fn benchmark_network_cut_pipeline_matches() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let items: Vec<_> = bench_net::events(30_000, bench_net::EVENT_SEED).collect();
    let (want, _, _) = run(&cfg, &items, StreamOptions::sequential());
    assert!(!want.0.is_empty());
    let plans: Vec<Vec<Vec<Part>>> = vec![
        cut_at(&cfg, 5, 16).expect("core 5 has 64 features"),
        vec![vec![(0, 0, 16), (3, 0, 7)], vec![(3, 7, 32), (5, 0, 40)], vec![(5, 40, 64), (6, 0, 10)]],
    ];
    for plan in plans {
        let threads = plan.len();
        let (got, report, _) = run(&cfg, &items, StreamOptions { warmup_items: 1_000, batch: 256, mode: ThreadMode::Cut, plan: Some(plan.clone()), ..StreamOptions::threads(threads) });
        assert_eq!(report.parts, plan);
        assert!(report.fallback.is_none());
        assert!(got.0 == want.0, "host outputs differ");
        assert!(got.1 == want.1, "states differ");
        assert_eq!(got.2, want.2);
        assert_eq!(got.3, want.3);
    }
    // As planned (whatever the plan): the same result.
    let (got, report, _) = run(&cfg, &items, StreamOptions { mode: ThreadMode::Cut, ..StreamOptions::threads(2) });
    assert!(report.fallback.is_none() && report.stages.len() == 2, "{report:?}");
    assert!(got == want, "planned run differs");
}

#[test]
fn cut_at_builds_a_two_stage_plan_from_the_config() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let want = vec![vec![(0, 0, 16), (3, 0, 32), (5, 0, 16)], vec![(5, 16, 64), (6, 0, 10)]];
    assert_eq!(cut_at(&cfg, 5, 16), Some(want));
    assert_eq!(cut_at(&cfg, 0, 1), Some(vec![vec![(0, 0, 1)], vec![(0, 1, 16), (3, 0, 32), (5, 0, 64), (6, 0, 10)]]));
    // At the ends of the features, or on a core without a layer: no plan.
    assert_eq!(cut_at(&cfg, 5, 0), None);
    assert_eq!(cut_at(&cfg, 5, 64), None);
    assert_eq!(cut_at(&cfg, 1, 1), None);
}

#[test]
fn plan_cuts_a_dominant_core_only_when_the_model_says_it_pays() {
    use spikehdl_model::pipeline::plan;
    // One core: nothing to pipeline without a cut; with cheap items the two
    // halves balance the stages.
    let p = plan(&[0], &[64], &[1_000_000_000], &[1_000], 2);
    assert_eq!(p, vec![vec![(0, 0, 32)], vec![(0, 32, 64)]]);
    // Expensive items (each part pays them): the cut cannot pay, one stage.
    let p = plan(&[0], &[64], &[1_000], &[1_000_000], 2);
    assert_eq!(p, vec![vec![(0, 0, 64)]]);
    // Two cores of equal cost: whole cores, no cut.
    let p = plan(&[0, 1], &[8, 8], &[1_000_000, 1_000_000], &[10, 10], 2);
    assert_eq!(p, vec![vec![(0, 0, 8)], vec![(1, 0, 8)]]);
    // One light core and one heavy one: the heavy one is cut, on a multiple of 16.
    let p = plan(&[0, 1], &[16, 64], &[100_000, 10_000_000_000], &[100, 100], 2);
    assert_eq!(p.len(), 2);
    assert!(p[0].contains(&(0, 0, 16)) && p[0].last().is_some_and(|&(j, lo, hi)| j == 1 && lo == 0 && hi % 16 == 0), "{p:?}");
}

#[test]
fn benchmark_network_splits_and_matches() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let items: Vec<_> = bench_net::events(30_000, bench_net::EVENT_SEED).collect();
    let (want, _, _) = run(&cfg, &items, StreamOptions::sequential());
    assert!(!want.0.is_empty());
    for threads in [2, 3] {
        let (got, report, _) = run(&cfg, &items, StreamOptions { split_batch: 1000, mode: ThreadMode::Split, ..StreamOptions::threads(threads) });
        assert_eq!(report.split.len(), 4, "{report:?}");
        assert!(report.fallback.is_none());
        assert!(got.0 == want.0, "host outputs differ");
        assert!(got.1 == want.1, "states differ");
        assert_eq!(got.2, want.2);
        assert_eq!(got.3, want.3);
    }
}

#[test]
fn the_generator_really_pipelines() {
    // Guard against a vacuous property: some generated cases must split.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut split = 0;
    for _ in 0..40 {
        let c = case().new_tree(&mut runner).unwrap().current();
        let cfg = valid(&c.cfg);
        let (_, report, _) = run(&cfg, &c.items, StreamOptions { warmup_items: 0, batch: 3, mode: ThreadMode::Pipeline, ..StreamOptions::threads(3) });
        if report.stages.len() >= 2 && report.fallback.is_none() {
            split += 1;
        }
    }
    assert!(split >= 20, "only {split} of 40 generated chips ran pipelined");
    // The edge geometries are reached: kernel 16, stride 8.
    let (mut k16, mut s8) = (0, 0);
    for _ in 0..60 {
        let c = case().new_tree(&mut runner).unwrap().current();
        for l in c.cfg.cnn_layers.iter().flatten() {
            k16 += (l.kernel_size == 16) as usize;
            s8 += (l.stride.x == 8) as usize;
        }
    }
    assert!(k16 >= 3 && s8 >= 3, "kernel-16 leaves {k16}, stride-8 leaves {s8} in 60 cases");
    let mut fan_in = 0;
    for _ in 0..40 {
        let c = case_with(true).new_tree(&mut runner).unwrap().current();
        fan_in += matches!(pipeline_rule(&valid(&c.cfg)), Err(Fallback::FanIn { .. })) as usize;
    }
    assert!(fan_in >= 10, "only {fan_in} of 40 fan-in cases have fan-in");
}

#[test]
fn benchmark_network_pipelines_and_matches() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    assert_eq!(pipeline_rule(&cfg), Ok(vec![0, 3, 5, 6]));
    let items: Vec<_> = bench_net::events(30_000, bench_net::EVENT_SEED).collect();
    let (want, _, _) = run(&cfg, &items, StreamOptions::sequential());
    for (threads, layered) in [(2, false), (2, true), (1, true), (3, true)] {
        let (got, report, _) = run(&cfg, &items, StreamOptions { warmup_items: 2_000, batch: 512, mode: ThreadMode::Pipeline, layered, ..StreamOptions::threads(threads) });
        assert_eq!(report.stages.len(), threads, "{report:?}");
        assert_eq!(report.layered, layered);
        assert!(report.fallback.is_none());
        assert!(got.0 == want.0, "host outputs differ ({threads} threads, layered {layered})");
        assert!(got.1 == want.1, "states differ ({threads} threads, layered {layered})");
        assert_eq!(got.2, want.2);
        assert_eq!(got.3, want.3);
    }
}

#[test]
fn fallback_rule_names_the_reason() {
    // Fan-in: cores 0 and 1 both send to core 2.
    let mut a = small_layer(1, 1, 20, false);
    let mut b = small_layer(1, 2, 20, false);
    a.destinations[0] = dest(2, 1, 0);
    b.destinations[0] = dest(2, 1, 0);
    let mut c2 = small_layer(1, 3, 20, false);
    c2.destinations[0] = to_host(1, 0);
    let cfg = valid(&config(vec![Some(a.clone()), Some(b), Some(c2.clone())]));
    assert_eq!(pipeline_rule(&cfg), Err(Fallback::FanIn { core: 2, sources: vec!["core 0".into(), "core 1".into()] }));
    let items: Vec<_> = (0..50).map(|t| Timed { t, item: host_spike((t % 2) as u8, 0, 3, 3) }).collect();
    let (_, report, _) = run(&cfg, &items, StreamOptions { warmup_items: 0, batch: 4, ..StreamOptions::threads(2) });
    assert!(matches!(report.fallback, Some(Fallback::FanIn { core: 2, .. })), "{report:?}");
    assert_eq!(report.stages.len(), 1);

    // Two host-output cores: a chain 0 -> 2 with a monitor on 0.
    a.monitor_enable = true;
    let cfg = valid(&config(vec![Some(a.clone()), None, Some(c2.clone())]));
    assert_eq!(pipeline_rule(&cfg), Err(Fallback::HostOutputs { cores: vec![0, 2] }));

    // A cycle (allowed explicitly).
    let mut x = small_layer(1, 4, 20, false);
    let mut y = small_layer(1, 5, 20, false);
    x.destinations[0] = dest(1, 1, 0);
    y.destinations[0] = dest(0, 1, 0);
    let mut cc = config(vec![Some(x), Some(y)]);
    cc.allow_cycles = true;
    assert_eq!(pipeline_rule(&valid(&cc)), Err(Fallback::Cycle));

    // One thread asked for: no reason to report.
    a.monitor_enable = false;
    let cfg = valid(&config(vec![Some(a), None, Some(c2)]));
    assert!(pipeline_rule(&cfg).is_ok());
    let (_, report, _) = run(&cfg, &items, StreamOptions::threads(1));
    assert_eq!(report.fallback, None);
    assert_eq!(report.stages.len(), 1);
}

#[test]
fn a_bad_item_stops_both_runs_at_the_same_place() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let mut items: Vec<_> = bench_net::events(30_000, bench_net::EVENT_SEED).collect();
    items[25_000].item = HostInput::Spike { layer: 9, c: 0, x: 0, y: 0 }; // no core 9 on the reference chip
    let (want, _, e1) = run(&cfg, &items, StreamOptions::sequential());
    let e1 = e1.expect("sequential run fails");
    assert!(e1.starts_with("input item 25000 "), "{e1}");
    let cut = cut_at(&cfg, 5, 16).expect("core 5 has 64 features");
    for (threads, mode, layered) in [(2, ThreadMode::Pipeline, false), (2, ThreadMode::Pipeline, true), (1, ThreadMode::Auto, true), (2, ThreadMode::Split, true), (2, ThreadMode::Cut, true)] {
        let plan = (mode == ThreadMode::Cut).then(|| cut.clone());
        let opts = StreamOptions { warmup_items: 1_000, batch: 64, mode, split_batch: 999, plan, layered, ..StreamOptions::threads(threads) };
        let (got, _, e2) = run(&cfg, &items, opts);
        assert_eq!(e2.as_deref(), Some(e1.as_str()), "{threads} threads {mode:?} layered {layered}");
        // Outputs before the bad item, and the states and counters it left.
        assert!(got == want, "the run up to the bad item differs ({threads} threads {mode:?} layered {layered})");
    }
    assert!(!want.0.is_empty());
    let _ = StreamError::<Infallible>::Output(std::io::Error::other("unused"));
}

#[test]
fn an_input_error_stops_every_mode_after_the_items_before_it() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let items: Vec<_> = bench_net::events(20_000, bench_net::EVENT_SEED).collect();
    let fail_at = 12_345;
    let stream = || items.iter().enumerate().map(move |(k, &it)| if k == fail_at { Err("disk on fire") } else { Ok(it) });
    let mut results = Vec::new();
    let cut = cut_at(&cfg, 5, 16).expect("core 5 has 64 features");
    let runs = [
        (1, ThreadMode::Auto, false),
        (1, ThreadMode::Auto, true),
        (2, ThreadMode::Pipeline, false),
        (2, ThreadMode::Pipeline, true),
        (2, ThreadMode::Split, true),
        (3, ThreadMode::Split, true),
        (2, ThreadMode::Cut, true),
    ];
    for (threads, mode, layered) in runs {
        let mut chip = ChipModel::new(&cfg);
        let mut out = Vec::new();
        let plan = (mode == ThreadMode::Cut).then(|| cut.clone());
        let opts = StreamOptions { warmup_items: 1_000, batch: 64, mode, split_batch: 1_000, plan, layered, ..StreamOptions::threads(threads) };
        let r = run_stream(&mut chip, &opts, stream(), |o| {
            out.push(*o);
            Ok(())
        });
        match r {
            Err(StreamError::Input { index, error }) => {
                assert_eq!((index, error), (fail_at as u64, "disk on fire"), "{threads} threads {mode:?}");
            }
            other => panic!("{threads} threads {mode:?}: expected the input error, got {:?}", other.map(|r| r.items)),
        }
        results.push(out);
    }
    assert!(!results[0].is_empty());
    for r in &results[1..] {
        assert!(r == &results[0], "outputs before the failed item differ");
    }
}
