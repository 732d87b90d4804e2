//! The vectorized update loop against the scalar rule, at every kernel level
//! this CPU supports (scalar, portable, AVX2, AVX-512):
//!
//! 1. one strip of random length (chunk boundaries 8/16/32/48/64 included) at the
//!    rails: full-range states, th ∈ {1, 32767}, tl ∈ {−32768, th − 1}, both
//!    resets, zero weights (which must change nothing, even a state ≥ th);
//! 2. whole cores on random geometries with many features (long strips,
//!    strides 1 and > 1), neuron reads/writes and leak ticks in the stream;
//! 3. the benchmark network: outputs, counters and every final state.

mod common;

use common::*;
use proptest::prelude::*;
use spikehdl_model::kernel::{for_each_bit, Kernel, Level};
use spikehdl_model::neuron::{apply, NeuronParams};
use spikehdl_model::{bench_net, ChipModel, CoreItem, CoreModel, HostOutput};

fn rail_state() -> impl Strategy<Value = i16> {
    prop_oneof![2 => Just(i16::MIN), 2 => Just(i16::MAX), 1 => Just(0), 1 => Just(-1), 1 => Just(32767 - 100), 3 => any::<i16>()]
}

/// Weights and biases: 0 often, the int8 rails, and full-range i16 (biases are i16).
fn weight() -> impl Strategy<Value = i16> {
    prop_oneof![3 => Just(0i16), 1 => Just(-128), 1 => Just(127), 2 => -128i16..=127, 1 => any::<i16>()]
}

fn params() -> impl Strategy<Value = NeuronParams> {
    (prop_oneof![2 => Just(1i16), 2 => Just(32767), 2 => 1i16..=400, 1 => 1i16..=32767], any::<bool>()).prop_flat_map(|(th, rtz)| {
        let tl = prop_oneof![2 => Just(i16::MIN), 2 => Just(th - 1), 1 => Just(0i16.min(th - 1)), 2 => i16::MIN..th];
        tl.prop_map(move |tl| NeuronParams { threshold_high: th, threshold_low: tl, return_to_zero: rtz })
    })
}

fn strip_case() -> impl Strategy<Value = (Vec<i16>, Vec<i16>, NeuronParams)> {
    prop_oneof![3 => 1usize..=200, 1 => Just(8usize), 1 => Just(64usize), 1 => Just(65usize), 1 => Just(17usize), 1 => Just(48usize), 1 => Just(96usize), 1 => Just(112usize)]
        .prop_flat_map(|n| (proptest::collection::vec(rail_state(), n), proptest::collection::vec(weight(), n), params()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn strip_equals_the_scalar_rule_at_the_rails((state, weights, p) in strip_case()) {
        let mut want = state.clone();
        let want_spikes: Vec<usize> = (0..want.len()).filter(|&i| apply(&mut want[i], weights[i], &p)).collect();
        for level in Level::supported() {
            let k = Kernel::new(level).expect("supported");
            let mut got = state.clone();
            let mut bits = vec![!0u64; state.len().div_ceil(64) + 1];
            let any = k.strip(&mut got, &weights, &p, &mut bits);
            let mut spikes = Vec::new();
            for_each_bit(&bits, 0, state.len(), |i| spikes.push(i));
            prop_assert_eq!(&got, &want, "kernel {} states", level);
            prop_assert_eq!(&spikes, &want_spikes, "kernel {} spikes", level);
            prop_assert_eq!(any != 0, !want_spikes.is_empty(), "kernel {} any", level);
        }
    }
}

/// A random layer with many features: (layer, items).
fn core_case() -> impl Strategy<Value = (spikehdl_model::config::CnnLayerConfig, Vec<CoreItem>)> {
    let k = prop_oneof![2 => Just(3i64), 1 => Just(1), 1 => Just(8), 1 => 1i64..=16];
    let f = prop_oneof![1 => Just(1i64), 1 => Just(8), 1 => Just(64), 1 => Just(10), 2 => 1i64..=100];
    let stride = prop_oneof![3 => Just(1i64), 1 => Just(2), 1 => Just(4), 1 => Just(8)];
    (k, f, 1i64..=3, stride.clone(), stride, 0i64..=7, 0i64..=7, 1i64..=20, 1i64..=20, params(), any::<bool>())
        .prop_filter("output must exist and fit 64x64", |&(k, _, _, sx, sy, px, py, w, h, _, _)| {
            let px = px.min(k - 1);
            let py = py.min(k - 1);
            w + 2 * px >= k && h + 2 * py >= k && (w + 2 * px - k) / sx < 64 && (h + 2 * py - k) / sy < 64
        })
        .prop_flat_map(|(k, f, c, sx, sy, px, py, w, h, p, leak)| {
            let (px, py) = (px.min(k - 1), py.min(k - 1));
            let mut l = layer(c, w, h, f, k, (sx, sy), (px, py));
            // Fit core 0's memories (spec §2 footprint): shrink the map, then F.
            let bits = |n: i64| 64 - ((n - 1).max(0) as u64).leading_zeros() as i64;
            let fits = |l: &spikehdl_model::config::CnnLayerConfig| {
                let (f, wo, ho) = (l.output_shape.features, l.output_shape.x, l.output_shape.y);
                c << (bits(k * k) + bits(f)) <= 16 * 1024 && f << (bits(wo) + bits(ho)) <= 64 * 1024
            };
            let mut f = f;
            while !fits(&l) && f > 1 {
                f = (f / 2).max(1);
                l = layer(c, w, h, f, k, (sx, sy), (px, py));
            }
            let (wo, ho) = (l.output_shape.x, l.output_shape.y);
            let nw = (f * c * k * k) as usize;
            let weights = proptest::collection::vec(prop_oneof![2 => Just(0i64), 1 => Just(-128), 1 => Just(127), 4 => -128i64..=127], nw);
            let init = proptest::collection::vec(rail_state(), (f * wo * ho) as usize);
            let biases = proptest::collection::vec(weight(), f as usize);
            let item = prop_oneof![
                12 => (0..c + 1, 0..w + 1, 0..h + 1).prop_map(|(c, x, y)| CoreItem::Spike { c: c as u16, x: x as u16, y: y as u16 }),
                1 => Just(CoreItem::LeakTick),
                1 => (0..f, 0..wo, 0..ho, rail_state()).prop_map(|(f, x, y, value)| CoreItem::WriteNeuron { f: f as u16, x: x as u16, y: y as u16, value }),
                1 => (0..f, 0..wo, 0..ho).prop_map(|(f, x, y)| CoreItem::ReadNeuron { f: f as u16, x: x as u16, y: y as u16 }),
            ];
            (Just((l, p, leak)), weights, init, biases, proptest::collection::vec(item, 0..=80))
        })
        .prop_map(|((mut l, p, leak), weights, init, biases, items)| {
            let (f, c, k) = (l.output_shape.features as usize, l.input_shape.features as usize, l.kernel_size as usize);
            set_weights(&mut l, |fi, ci, ky, kx| weights[((fi * c + ci) * k + ky) * k + kx]);
            let (wo, ho) = (l.output_shape.x as usize, l.output_shape.y as usize);
            set_initial(&mut l, |fi, y, x| init[(fi * ho + y) * wo + x].into());
            l.biases = Some(biases.iter().map(|&b| b.into()).collect());
            l.threshold_high = p.threshold_high.into();
            l.threshold_low = p.threshold_low.into();
            l.return_to_zero = p.return_to_zero;
            l.leak_enable = leak;
            let _ = f;
            (l, items)
        })
}

fn run_core(m: &mut CoreModel, items: &[CoreItem]) -> Vec<spikehdl_model::CoreOutput> {
    let mut out = Vec::new();
    for it in items {
        m.accept(*it, &mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_level_equals_the_scalar_core((l, items) in core_case()) {
        let mut reference = core(&l);
        prop_assert!(reference.set_kernel_level(Level::Scalar));
        let want = run_core(&mut reference, &items);
        for level in Level::supported() {
            let mut m = core(&l);
            prop_assert!(m.set_kernel_level(level));
            let got = run_core(&mut m, &items);
            prop_assert_eq!(&got, &want, "kernel {}", level);
            prop_assert_eq!(m.states(), reference.states(), "kernel {}", level);
            prop_assert_eq!(m.counters(), reference.counters(), "kernel {}", level);
        }
    }
}

#[test]
fn benchmark_network_is_identical_at_every_level() {
    let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
    let events: Vec<_> = bench_net::events(30_000, bench_net::EVENT_SEED).collect();
    let run = |level: Level| {
        let mut chip = ChipModel::new(&cfg);
        assert!(chip.set_kernel_level(level));
        let mut out: Vec<HostOutput> = Vec::new();
        for e in &events {
            chip.accept(&e.item, &mut out).expect("valid item");
        }
        let states: Vec<Vec<i16>> = (0..chip.n_cores()).filter_map(|i| chip.core(i).map(|c| c.states())).collect();
        let counters: Vec<_> = (0..chip.n_cores()).map(|i| chip.core_counters(i)).collect();
        (out, states, counters)
    };
    let want = run(Level::Scalar);
    assert!(!want.0.is_empty(), "the benchmark network reads out spikes");
    assert!(want.2.iter().map(|c| c.spikes_out).sum::<u64>() > 10_000, "and spikes on every layer");
    for level in Level::supported() {
        let got = run(level);
        assert!(got.0 == want.0, "kernel {level}: host outputs differ");
        assert!(got.1 == want.1, "kernel {level}: final states differ");
        assert_eq!(got.2, want.2, "kernel {level}: counters differ");
    }
}

#[test]
fn unsupported_levels_are_refused() {
    for level in Level::ALL {
        assert_eq!(Kernel::new(level).is_some(), level.is_supported());
        let l = layer(1, 4, 4, 2, 3, (1, 1), (1, 1));
        let mut m = core(&l);
        assert_eq!(m.set_kernel_level(level), level.is_supported());
    }
}
