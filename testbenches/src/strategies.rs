//! proptest generators for one core, biased towards the edges of the legal
//! space: kernel 16 and 1, stride 8, padding 7, C and F of 1 and
//! non-powers of two, thresholds 1 and 32767, threshold_low at −32768 and at
//! threshold_high − 1, weights at −128 / 127 / 0, states at the int16 rails.
//!
//! Every generated layer goes through the model's own validation against the
//! preset's capacity, so only legal configurations are produced.

use proptest::prelude::*;
use spikehdl_model::config::{ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, Shape, Xy};
use spikehdl_model::memory::ceil_log2;
use spikehdl_model::presets::CoreCapacity;
use spikehdl_model::{CoreItem, Layer};

use crate::core_dut::Stalls;
use crate::scoreboard::CoreCase;

/// Case count: `PROPTEST_CASES` if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The one proptest configuration of the co-simulation suites: `cases(default)`
/// cases, at most `shrink` shrink steps, and proptest's own persistence, which
/// keeps failing seeds in `tests/<test>.proptest-regressions` beside the test
/// file and replays them first on every run. Commit that file with the fix;
/// `tests/docs.rs` checks that no suite opts out of this convention.
pub fn config(default: u32, shrink: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default), max_shrink_iters: shrink, ..ProptestConfig::default() }
}

/// Geometry of one layer, before weights.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub k: u32,
    pub stride: (u32, u32),
    pub pad: (u32, u32),
    pub w_in: u32,
    pub h_in: u32,
    pub w_out: u32,
    pub h_out: u32,
    pub c: u32,
    pub f: u32,
}

fn stride() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(8u32), 2 => Just(1u32), 2 => Just(2u32), 2 => Just(4u32)]
}

fn pad() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(7u32), 2 => Just(0u32), 4 => 0u32..=7]
}

fn kernel() -> impl Strategy<Value = u32> {
    prop_oneof![2 => Just(16u32), 2 => Just(1u32), 5 => 1u32..=16]
}

fn out_size(input: u32, pad: u32, k: u32, stride: u32) -> Option<u32> {
    (input + 2 * pad).checked_sub(k).map(|n| n / stride + 1)
}

/// Geometries that fit `cap`, with C and F drawn to fill it sometimes.
pub fn geometry(cap: CoreCapacity, max_extra: u32) -> impl Strategy<Value = Geometry> {
    (kernel(), stride(), stride(), pad(), pad(), 0..=max_extra, 0..=max_extra)
        .prop_filter_map("output map too large for the core", move |(k, sx, sy, px, py, ex, ey)| {
            // Smallest input that still gives an output, plus a random extra.
            let w_in = (k.saturating_sub(2 * px)).max(1) + ex;
            let h_in = (k.saturating_sub(2 * py)).max(1) + ey;
            let (w_out, h_out) = (out_size(w_in, px, k, sx)?, out_size(h_in, py, k, sy)?);
            use spikehdl_model::validate::limits::{MAX_INPUT_SIZE, MAX_OUTPUT_SIZE};
            let (max_in, max_out) = (MAX_INPUT_SIZE as u32, MAX_OUTPUT_SIZE as u32);
            if w_in > max_in || h_in > max_in || w_out > max_out || h_out > max_out {
                return None;
            }
            let map = 1u64 << (ceil_log2(w_out.into()) + ceil_log2(h_out.into()));
            let kb = ceil_log2(u64::from(k * k));
            let f_max = (cap.neuron_words / map).min(1024).min(cap.bias_words).min(cap.kernel_words >> kb);
            (f_max >= 1).then_some((k, sx, sy, px, py, w_in, h_in, w_out, h_out, f_max as u32, kb))
        })
        .prop_flat_map(move |(k, sx, sy, px, py, w_in, h_in, w_out, h_out, f_max, kb)| {
            let f = prop_oneof![2 => Just(1u32), 1 => Just(f_max), 1 => Just(f_max.min(3)), 3 => 1..=f_max];
            (Just((k, sx, sy, px, py, w_in, h_in, w_out, h_out, kb)), f)
        })
        .prop_flat_map(move |((k, sx, sy, px, py, w_in, h_in, w_out, h_out, kb), f)| {
            let c_max = ((cap.kernel_words >> (kb + ceil_log2(f.into()))) as u32).clamp(1, 1024);
            let c = prop_oneof![2 => Just(1u32), 1 => Just(c_max), 1 => Just(c_max.min(3)), 3 => 1..=c_max];
            c.prop_map(move |c| Geometry { k, stride: (sx, sy), pad: (px, py), w_in, h_in, w_out, h_out, c, f })
        })
}

/// int8 weights biased towards −128, 127 and 0.
pub fn weight() -> impl Strategy<Value = i64> {
    prop_oneof![3 => Just(0i64), 2 => Just(127i64), 2 => Just(-128i64), 1 => -3i64..=3, 4 => -128i64..=127]
}

/// int16 values biased towards the rails and 0.
pub fn state(th: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0i64),
        1 => Just(32767i64),
        1 => Just(-32768i64),
        1 => Just(th - 1),
        1 => Just(th),
        3 => -32768i64..=32767
    ]
}

fn threshold_high() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(1i64), 2 => Just(32767i64), 3 => 1i64..=300, 2 => 1i64..=32767]
}

/// A complete legal layer for a core of capacity `cap`.
pub fn layer(cap: CoreCapacity, max_extra: u32) -> impl Strategy<Value = Layer> {
    (geometry(cap, max_extra), threshold_high())
        .prop_flat_map(|(g, th)| {
            let n_w = (g.f * g.c * g.k * g.k) as usize;
            let n_n = (g.f * g.h_out * g.w_out) as usize;
            let tl = prop_oneof![2 => Just(-32768i64), 2 => Just(th - 1), 1 => Just((th - 1).min(0)), 2 => -32768i64..th];
            let init = prop_oneof![1 => Just(vec![0i64; n_n]), 2 => proptest::collection::vec(state(th), n_n)];
            let biases = proptest::collection::vec(prop_oneof![2 => Just(0i64), 3 => state(th), 3 => -300i64..=300], g.f as usize);
            (Just(g), Just(th), tl, proptest::collection::vec(weight(), n_w), biases, init, any::<bool>(), prop::bool::weighted(0.6))
        })
        .prop_map(move |(g, th, tl, w, b, init, rtz, leak)| build_layer(cap, &g, th, tl, &w, &b, &init, rtz, leak))
}

fn nest4(v: &[i64], d: [usize; 4]) -> Vec<Vec<Vec<Vec<i64>>>> {
    v.chunks(d[1] * d[2] * d[3])
        .map(|a| a.chunks(d[2] * d[3]).map(|b| b.chunks(d[3]).map(|c| c.to_vec()).collect()).collect())
        .collect()
}

/// Builds a layer through the model's config validation (panics only if the
/// generator produced something illegal, which is a generator bug).
#[allow(clippy::too_many_arguments)]
pub fn build_layer(
    cap: CoreCapacity,
    g: &Geometry,
    th: i64,
    tl: i64,
    weights: &[i64],
    biases: &[i64],
    init: &[i64],
    rtz: bool,
    leak: bool,
) -> Layer {
    let (f, c, k) = (g.f as usize, g.c as usize, g.k as usize);
    let disabled = DestinationConfig { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 };
    let l = CnnLayerConfig {
        input_shape: Shape { features: g.c.into(), x: g.w_in.into(), y: g.h_in.into() },
        output_shape: Shape { features: g.f.into(), x: g.w_out.into(), y: g.h_out.into() },
        kernel_size: g.k.into(),
        stride: Xy { x: g.stride.0.into(), y: g.stride.1.into() },
        padding: Xy { x: g.pad.0.into(), y: g.pad.1.into() },
        weights: nest4(weights, [f, c, k, k]),
        biases: Some(biases.to_vec()),
        neurons_initial_value: Some(nest4(init, [1, f, g.h_out as usize, g.w_out as usize]).remove(0)),
        threshold_high: th,
        threshold_low: tl,
        return_to_zero: rtz,
        leak_enable: leak,
        monitor_enable: false,
        destinations: vec![disabled, disabled],
    };
    let cfg = ChipConfig { chip: ChipSpec { preset: None, cores: Some(vec![cap]) }, allow_cycles: false, dvs_layer: None, cnn_layers: vec![Some(l)] };
    match spikehdl_model::validate(&cfg) {
        Ok(v) => v.layers[0].clone().expect("layer 0"),
        Err(e) => panic!("generator produced an illegal layer {g:?}: {e}"),
    }
}

/// A core input item for `l`: mostly in-shape spikes, some out-of-shape ones,
/// leak ticks, neuron writes (values at the rails and near the threshold) and reads.
pub fn item(l: &Layer) -> impl Strategy<Value = CoreItem> {
    let (c, w, h, f, wo, ho) = (l.c as u16, l.w_in as u16, l.h_in as u16, l.f as u16, l.w_out as u16, l.h_out as u16);
    let th = i64::from(l.params.threshold_high);
    prop_oneof![
        12 => (0..c, 0..w, 0..h).prop_map(|(c, x, y)| CoreItem::Spike { c, x, y }),
        // out of shape on one axis (still within the host port's static limits)
        1 => (c..=c.max(1023), 0..w, 0..h).prop_map(|(c, x, y)| CoreItem::Spike { c, x, y }),
        1 => (0..c, w..=w.max(127), 0..h).prop_map(|(c, x, y)| CoreItem::Spike { c, x, y }),
        1 => (0..c, 0..w, h..=h.max(127)).prop_map(|(c, x, y)| CoreItem::Spike { c, x, y }),
        2 => Just(CoreItem::LeakTick),
        2 => (0..f, 0..wo, 0..ho, state(th)).prop_map(|(f, x, y, v)| CoreItem::WriteNeuron { f, x, y, value: v as i16 }),
        2 => (0..f, 0..wo, 0..ho).prop_map(|(f, x, y)| CoreItem::ReadNeuron { f, x, y }),
        1 => (f..=f.max(1023), 0..wo, 0..ho).prop_map(|(f, x, y)| CoreItem::ReadNeuron { f, x, y }),
        1 => (0..f, wo..=wo.max(63), 0..ho, state(th)).prop_map(|(f, x, y, v)| CoreItem::WriteNeuron { f, x, y, value: v as i16 }),
    ]
}

/// Random stall probabilities.
pub fn stalls() -> impl Strategy<Value = Stalls> {
    (prop_oneof![2 => Just(0u8), 2 => 0u8..=60], prop_oneof![2 => Just(0u8), 1 => Just(90u8), 2 => 0u8..=80], any::<u64>())
        .prop_map(|(input, output, seed)| Stalls { input, output, seed })
}

/// A whole equivalence case: layer, item sequence, stalls.
pub fn core_case(cap: CoreCapacity, max_extra: u32, max_items: usize) -> impl Strategy<Value = CoreCase> {
    layer(cap, max_extra).prop_flat_map(move |l| {
        let items = proptest::collection::vec(item(&l), 0..=max_items);
        (Just(l), items, stalls()).prop_map(|(layer, items, stalls)| CoreCase { layer, items, stalls })
    })
}
