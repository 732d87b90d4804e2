//! Independent oracles for the core, written here without the model's code:
//!
//! 1. a dense PyTorch-style cross-correlation accumulating a random event
//!    batch, with thresholds out of reach and no saturation possible, must
//!    equal the model's final states over random geometries biased towards
//!    the edges (kernel 16, stride 8, padding 7);
//! 2. a scalar reference of spec §3 applied in spec §4 / §6 order, with
//!    saturation, both reset modes and leak ticks in play, must give the
//!    model's exact output spike sequence and final states, at every kernel
//!    level the CPU supports.

mod common;

use common::*;
use proptest::prelude::*;
use spikehdl_model::config::CnnLayerConfig;
use spikehdl_model::kernel::Level;
use spikehdl_model::{CoreItem, CoreOutput};

/// One layer's geometry: input `c`×`h`×`w`, output features `f`, kernel `k`,
/// stride and padding per axis.
#[derive(Debug, Clone, Copy)]
struct Geo {
    c: usize,
    f: usize,
    k: usize,
    sx: usize,
    sy: usize,
    px: usize,
    py: usize,
    w: usize,
    h: usize,
}

impl Geo {
    fn w_out(&self) -> usize {
        (self.w + 2 * self.px - self.k) / self.sx + 1
    }
    fn h_out(&self) -> usize {
        (self.h + 2 * self.py - self.k) / self.sy + 1
    }
    fn config(&self) -> CnnLayerConfig {
        let l = layer(self.c as i64, self.w as i64, self.h as i64, self.f as i64, self.k as i64, (self.sx as i64, self.sy as i64), (self.px as i64, self.py as i64));
        assert_eq!((l.output_shape.x as usize, l.output_shape.y as usize), (self.w_out(), self.h_out()));
        l
    }
    /// Index of weight [f][c][ky][kx] in a flat PyTorch-order vector.
    fn wi(&self, f: usize, c: usize, ky: usize, kx: usize) -> usize {
        ((f * self.c + c) * self.k + ky) * self.k + kx
    }
    /// Multiply-accumulates of the dense oracle.
    fn dense_cost(&self) -> usize {
        self.f * self.c * self.k * self.k * self.w_out() * self.h_out()
    }
}

fn kernel() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(16usize), 1 => Just(1), 4 => 1usize..=16]
}
fn stride() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(8usize), 1 => Just(1), 1 => Just(2), 1 => Just(4)]
}
fn padding() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(7usize), 1 => Just(0), 3 => 0usize..=7]
}
/// Channel counts including 1 and non-powers of two.
fn channels(max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![2 => Just(1usize), 1 => Just(3), 1 => Just(max), 3 => 1usize..=max]
}

/// (stride, padding, input size) of one axis such that the output size is 1..=64.
fn axis(k: usize, max_in: usize) -> impl Strategy<Value = (usize, usize, usize)> {
    (stride(), padding(), prop_oneof![2 => 1usize..=24, 1 => 1usize..=max_in, 1 => Just(max_in), 1 => Just(1)])
        .prop_filter("output size must be 1..=64", move |&(s, p, n)| {
            n + 2 * p >= k && (n + 2 * p - k) / s < 64
        })
}

fn geometry(max_c: usize, max_in: usize) -> impl Strategy<Value = Geo> {
    (kernel(), channels(max_c), channels(max_c))
        .prop_flat_map(move |(k, c, f)| (Just(k), Just(c), Just(f), axis(k, max_in), axis(k, max_in)))
        .prop_map(|(k, c, f, (sx, px, w), (sy, py, h))| Geo { c, f, k, sx, sy, px, py, w, h })
}

/// Input events (c, x, y) on a geometry's input map, edges favoured, some repeated.
fn events(g: Geo, max: usize) -> impl Strategy<Value = Vec<(usize, usize, usize)>> {
    let coord = |n: usize| prop_oneof![1 => Just(0usize), 1 => Just(n - 1), 4 => 0..n];
    proptest::collection::vec(((0..g.c), coord(g.w), coord(g.h), 1usize..=3), 0..=max / 2).prop_map(move |v| {
        v.into_iter().flat_map(|(c, x, y, n)| std::iter::repeat_n((c, x, y), n)).take(max).collect()
    })
}

/// `out[f][oy][ox] = Σ_{c,ky,kx} w[f][c][ky][kx] · in[c][oy·sy + ky − py][ox·sx + kx − px]`
/// (PyTorch `conv2d`, zero padding), dense, in i64.
fn dense_conv(g: &Geo, weights: &[i64], input: &[Vec<Vec<i64>>]) -> Vec<i64> {
    let (wo, ho) = (g.w_out(), g.h_out());
    let mut out = vec![0i64; g.f * ho * wo];
    for f in 0..g.f {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut acc = 0i64;
                for (c, plane) in input.iter().enumerate() {
                    for ky in 0..g.k {
                        let iy = (oy * g.sy + ky) as i64 - g.py as i64;
                        if iy < 0 || iy >= g.h as i64 {
                            continue;
                        }
                        for kx in 0..g.k {
                            let ix = (ox * g.sx + kx) as i64 - g.px as i64;
                            if ix < 0 || ix >= g.w as i64 {
                                continue;
                            }
                            acc += weights[g.wi(f, c, ky, kx)] * plane[iy as usize][ix as usize];
                        }
                    }
                }
                out[(f * ho + oy) * wo + ox] = acc;
            }
        }
    }
    out
}

fn dense_case() -> impl Strategy<Value = (Geo, Vec<i64>, Vec<(usize, usize, usize)>)> {
    geometry(7, 128)
        .prop_filter("keep the dense oracle cheap", |g| g.dense_cost() <= 3_000_000)
        .prop_flat_map(|g| {
            let n = g.f * g.c * g.k * g.k;
            let w = proptest::collection::vec(prop_oneof![1 => Just(0i64), 1 => Just(-128), 1 => Just(127), 5 => -128i64..=127], n);
            // At most 255 events: |Σ| ≤ 255 · 128 = 32640 < 32767, so nothing saturates.
            (Just(g), w, events(g, 255))
        })
}

/// Spec §3, written independently in i32: returns whether it spiked.
fn update(v: &mut i16, w: i16, th: i16, tl: i16, rtz: bool) -> bool {
    if w == 0 {
        return false;
    }
    let mut s = (i32::from(*v) + i32::from(w)).clamp(i32::from(i16::MIN), i32::from(i16::MAX));
    let spike = s >= i32::from(th);
    if spike {
        s = if rtz { 0 } else { s - i32::from(th) };
    }
    *v = s.max(i32::from(tl)) as i16;
    spike
}

/// An input item of the saturation test: a spike (c, x, y) or a leak tick.
#[derive(Debug, Clone, Copy)]
enum Item {
    Spike(usize, usize, usize),
    Leak,
}

#[derive(Debug, Clone)]
struct Neuro {
    weights: Vec<i16>,
    biases: Vec<i16>,
    init: Vec<i16>,
    th: i16,
    tl: i16,
    rtz: bool,
    leak: bool,
}

/// Spec §4 and §6 order over a `[F][H][W]` state; returns the spikes (f, x, y) in order.
fn scalar_reference(g: &Geo, n: &Neuro, items: &[Item], state: &mut [i16]) -> Vec<(u16, u16, u16)> {
    let (wo, ho) = (g.w_out(), g.h_out());
    let mut out = Vec::new();
    for &item in items {
        match item {
            Item::Spike(c, x, y) => {
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        let nx = (x + g.px) as i64 - kx as i64;
                        let ny = (y + g.py) as i64 - ky as i64;
                        if nx < 0 || ny < 0 || nx % g.sx as i64 != 0 || ny % g.sy as i64 != 0 {
                            continue;
                        }
                        let (ox, oy) = (nx as usize / g.sx, ny as usize / g.sy);
                        if ox >= wo || oy >= ho {
                            continue;
                        }
                        for f in 0..g.f {
                            if update(&mut state[(f * ho + oy) * wo + ox], n.weights[g.wi(f, c, ky, kx)], n.th, n.tl, n.rtz) {
                                out.push((f as u16, ox as u16, oy as u16));
                            }
                        }
                    }
                }
            }
            Item::Leak if n.leak => {
                for f in 0..g.f {
                    for y in 0..ho {
                        for x in 0..wo {
                            if update(&mut state[(f * ho + y) * wo + x], n.biases[f], n.th, n.tl, n.rtz) {
                                out.push((f as u16, x as u16, y as u16));
                            }
                        }
                    }
                }
            }
            Item::Leak => {}
        }
    }
    out
}

fn rail_i16() -> impl Strategy<Value = i16> {
    prop_oneof![2 => Just(i16::MAX), 2 => Just(i16::MIN), 1 => Just(0), 1 => Just(32700), 1 => Just(-32700), 2 => any::<i16>(), 2 => -300i16..=300]
}

fn saturation_case() -> impl Strategy<Value = (Geo, Neuro, Vec<Item>)> {
    geometry(4, 24)
        .prop_flat_map(|g| {
            let nw = g.f * g.c * g.k * g.k;
            let weights = proptest::collection::vec(
                prop_oneof![3 => Just(-128i16), 3 => Just(127), 2 => Just(0), 3 => -128i16..=127],
                nw,
            );
            let biases = proptest::collection::vec(prop_oneof![1 => Just(0i16), 3 => rail_i16()], g.f);
            let init = proptest::collection::vec(rail_i16(), g.f * g.w_out() * g.h_out());
            let th = prop_oneof![2 => Just(1i16), 2 => Just(32767), 2 => 1i16..=300, 1 => 1i16..=32767];
            let neuro = (weights, biases, init, th, any::<bool>(), any::<bool>()).prop_flat_map(|(weights, biases, init, th, rtz, leak)| {
                let tl = prop_oneof![2 => Just(i16::MIN), 2 => Just(th - 1), 1 => i16::MIN..th];
                (Just((weights, biases, init, th, rtz, leak)), tl)
            });
            let item = prop_oneof![
                8 => (0..g.c, 0..g.w, 0..g.h).prop_map(|(c, x, y)| Item::Spike(c, x, y)),
                1 => Just(Item::Leak),
            ];
            (Just(g), neuro, proptest::collection::vec(item, 0..=60))
        })
        .prop_map(|(g, ((weights, biases, init, th, rtz, leak), tl), items)| {
            (g, Neuro { weights, biases, init, th, tl, rtz, leak }, items)
        })
}

proptest! {
    #[test]
    fn model_equals_dense_conv2d((g, weights, evs) in dense_case()) {
        let mut l = g.config();
        set_weights(&mut l, |f, c, ky, kx| weights[g.wi(f, c, ky, kx)]);
        let mut m = core(&l);
        let mut input = vec![vec![vec![0i64; g.w]; g.h]; g.c];
        for &(c, x, y) in &evs {
            input[c][y][x] += 1;
            let out = m.accept_vec(CoreItem::Spike { c: c as u16, x: x as u16, y: y as u16 });
            prop_assert!(out.is_empty(), "no spike can reach threshold 32767: {:?}", out);
        }
        let want = dense_conv(&g, &weights, &input);
        prop_assert!(want.iter().all(|v| v.abs() < 32767));
        let got: Vec<i64> = m.states().into_iter().map(i64::from).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(m.counters().errors, 0);
    }

    #[test]
    fn model_equals_scalar_reference_with_saturation((g, n, items) in saturation_case()) {
        let mut l = g.config();
        set_weights(&mut l, |f, c, ky, kx| n.weights[g.wi(f, c, ky, kx)].into());
        l.biases = Some(n.biases.iter().map(|&b| b.into()).collect());
        let (wo, ho) = (g.w_out(), g.h_out());
        set_initial(&mut l, |f, y, x| n.init[(f * ho + y) * wo + x].into());
        l.threshold_high = n.th.into();
        l.threshold_low = n.tl.into();
        l.return_to_zero = n.rtz;
        l.leak_enable = n.leak;
        let mut state = n.init.clone();
        let want = scalar_reference(&g, &n, &items, &mut state);
        // Every kernel level this CPU supports gives the reference exactly.
        for level in Level::supported() {
        let mut m = core(&l);
        prop_assert!(m.set_kernel_level(level));
        let mut got = Vec::new();
        for &it in &items {
            let item = match it {
                Item::Spike(c, x, y) => CoreItem::Spike { c: c as u16, x: x as u16, y: y as u16 },
                Item::Leak => CoreItem::LeakTick,
            };
            for o in m.accept_vec(item) {
                match o {
                    CoreOutput::Spike { f, x, y } => got.push((f, x, y)),
                    other => prop_assert!(false, "unexpected output {:?}", other),
                }
            }
        }
        prop_assert_eq!(&got, &want, "kernel {}", level);
        prop_assert_eq!(m.states(), state.clone(), "kernel {}", level);
        prop_assert_eq!(m.counters().spikes_out, want.len() as u64);
        }
    }
}

#[test]
fn dense_oracle_sanity() {
    // The oracle itself on a hand-computed case: 1 channel 3×3 input, 2×2
    // kernel [[1, 2], [3, 4]], stride 1, padding 0 → out[y][x] = in·kernel window.
    let g = Geo { c: 1, f: 1, k: 2, sx: 1, sy: 1, px: 0, py: 0, w: 3, h: 3 };
    let input = vec![vec![vec![1, 0, 0], vec![0, 2, 0], vec![0, 0, 0]]];
    // out[0][0] = 1·1 + 4·2 = 9, out[0][1] = 3·2 = 6 (in[1][1] at kernel (1, 0)),
    // out[1][0] = 2·2 = 4 (in[1][1] at kernel (0, 1)), out[1][1] = 1·2 = 2.
    assert_eq!(dense_conv(&g, &[1, 2, 3, 4], &input), vec![9, 6, 4, 2]);
    // With stride 2 and padding 1 on x only: w_out = (3 + 2 − 2)/2 + 1 = 2.
    let g = Geo { sx: 2, px: 1, ..g };
    assert_eq!(g.w_out(), 2);
    // out[0][0]: ix = kx − 1 → kx 1 → in[0][0]·2 + in[1][0]·4 = 2; out[0][1]: ix = 1 + kx → in[0][1]·1 + in[0][2]·2 + in[1][1]·3 + in[1][2]·4 = 6;
    // out[1][0]: rows 1, 2, ix 0 → in[1][0]·2 + in[2][0]·4 = 0; out[1][1]: in[1][1]·1 = 2.
    assert_eq!(dense_conv(&g, &[1, 2, 3, 4], &input), vec![2, 6, 0, 2]);
}
