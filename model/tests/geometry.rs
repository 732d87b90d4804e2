//! Spec §2 and §4: convolution geometry against hand computations (stride 8,
//! padding 7, kernel 16 on a non-square map; per-axis strides and paddings)
//! and the exact update order within one input event (ky, kx, f).

mod common;

use common::*;
use spikehdl_model::CoreModel;

/// A weight that differs when ky and kx, f or c are exchanged; never 0.
fn wt(f: usize, c: usize, ky: usize, kx: usize) -> i64 {
    1 + ((ky * 7 + kx * 3 + f * 11 + c * 13) % 120) as i64
}

/// Expected `[F][H][W]` states: every listed (f, ox, oy) holds `value`, all others 0.
fn expect_states(f: usize, w: usize, h: usize, set: &[(usize, usize, usize, i64)]) -> Vec<i16> {
    let mut v = vec![0i16; f * w * h];
    for &(fi, x, y, val) in set {
        v[(fi * h + y) * w + x] = val as i16;
    }
    v
}

/// The big edge case: C 2, input 37×21 (x by y), F 3, kernel 16, stride 8, padding 7.
fn big_layer() -> spikehdl_model::config::CnnLayerConfig {
    let mut l = layer(2, 37, 21, 3, 16, (8, 8), (7, 7));
    set_weights(&mut l, wt);
    l
}

#[test]
fn stride8_padding7_kernel16_output_shape() {
    let l = big_layer();
    // W_out = floor((37 + 14 − 16)/8) + 1 = 5, H_out = floor((21 + 14 − 16)/8) + 1 = 3.
    assert_eq!((l.output_shape.x, l.output_shape.y), (5, 3));
    let c = core(&l);
    assert_eq!((c.layer().w_out, c.layer().h_out), (5, 3));
    assert_eq!(c.states().len(), 3 * 5 * 3);
}

/// One input spike per case; hand-computed taps (ky, kx) -> output (ox, oy).
#[test]
fn stride8_padding7_kernel16_taps_by_hand() {
    // (c, x, y) and the taps it reaches, hand computed from
    // nx = x + 7 − kx, ny = y + 7 − ky, kept when ≥ 0 and divisible by 8,
    // ox = nx/8 < 5, oy = ny/8 < 3.
    type Input = (u16, u16, u16);
    type Tap = ((usize, usize), (usize, usize));
    let cases: &[(Input, &[Tap])] = &[
        // x = 10: nx = 17 − kx → 16 (kx 1, ox 2), 8 (kx 9, ox 1); y = 5: ny = 12 − ky → 8 (ky 4, oy 1), 0 (ky 12, oy 0)
        ((1, 10, 5), &[((4, 1), (2, 1)), ((4, 9), (1, 1)), ((12, 1), (2, 0)), ((12, 9), (1, 0))]),
        // the corner: only kx = ky = 7 reaches neuron (0, 0)
        ((0, 0, 0), &[((7, 7), (0, 0))]),
        // the far corner: kx 3 would give ox 5 and ky 3 would give oy 3, both out of range
        ((0, 36, 20), &[((11, 11), (4, 2))]),
        ((1, 8, 8), &[((7, 7), (1, 1)), ((7, 15), (0, 1)), ((15, 7), (1, 0)), ((15, 15), (0, 0))]),
        // x = 1: nx = 8 − kx → 8 (kx 0, ox 1), 0 (kx 8, ox 0); y = 20: ny = 27 − ky → 16 (ky 11, oy 2)
        ((0, 1, 20), &[((11, 0), (1, 2)), ((11, 8), (0, 2))]),
    ];
    for &((c, x, y), taps) in cases {
        // States, thresholds out of reach.
        let mut m = core(&big_layer());
        assert!(m.accept_vec(in_spike(c, x, y)).is_empty());
        let mut want = Vec::new();
        for &((ky, kx), (ox, oy)) in taps {
            for f in 0..3 {
                want.push((f, ox, oy, wt(f, c as usize, ky, kx)));
            }
        }
        assert_eq!(m.states(), expect_states(3, 5, 3, &want), "input ({c}, {x}, {y})");

        // Spike order with threshold 1: taps in (ky, kx) order, features ascending within a tap.
        let mut l = big_layer();
        l.threshold_high = 1;
        let mut m = core(&l);
        let got = spikes(&m.accept_vec(in_spike(c, x, y)));
        let want: Vec<(u16, u16, u16)> =
            taps.iter().flat_map(|&(_, (ox, oy))| (0..3).map(move |f| (f, ox as u16, oy as u16))).collect();
        assert_eq!(got, want, "input ({c}, {x}, {y})");
        assert_eq!(m.counters().synaptic_updates, 3 * taps.len() as u64);
    }
}

fn run_one(l: &spikehdl_model::config::CnnLayerConfig, c: u16, x: u16, y: u16) -> CoreModel {
    let mut m = core(l);
    assert!(m.accept_vec(in_spike(c, x, y)).is_empty());
    m
}

#[test]
fn per_axis_strides_and_paddings() {
    // stride (x 1, y 4), padding (x 0, y 3), k 3, input 6×9 → output 4×4.
    let mut l = layer(1, 6, 9, 1, 3, (1, 4), (0, 3));
    set_weights(&mut l, wt);
    assert_eq!((l.output_shape.x, l.output_shape.y), (4, 4));
    // (x 2, y 5): nx = 2 − kx → ox 2, 1, 0; ny = 8 − ky → only 8 (ky 0) is divisible by 4 → oy 2.
    let m = run_one(&l, 0, 2, 5);
    let want = [(0, 2, 2, wt(0, 0, 0, 0)), (0, 1, 2, wt(0, 0, 0, 1)), (0, 0, 2, wt(0, 0, 0, 2))];
    assert_eq!(m.states(), expect_states(1, 4, 4, &want));

    // The transposed geometry: stride (x 4, y 1), padding (x 3, y 0), input 9×6 → 4×4.
    let mut l = layer(1, 9, 6, 1, 3, (4, 1), (3, 0));
    set_weights(&mut l, wt);
    assert_eq!((l.output_shape.x, l.output_shape.y), (4, 4));
    // (x 5, y 2): nx = 8 − kx → kx 0, ox 2; ny = 2 − ky → oy 2, 1, 0.
    let m = run_one(&l, 0, 5, 2);
    let want = [(0, 2, 2, wt(0, 0, 0, 0)), (0, 2, 1, wt(0, 0, 1, 0)), (0, 2, 0, wt(0, 0, 2, 0))];
    assert_eq!(m.states(), expect_states(1, 4, 4, &want));

    // Same stride, different paddings: stride (2, 2), padding (x 0, y 2), k 3, input 7×5 → 3×4.
    let mut l = layer(1, 7, 5, 1, 3, (2, 2), (0, 2));
    set_weights(&mut l, wt);
    assert_eq!((l.output_shape.x, l.output_shape.y), (3, 4));
    // (x 3, y 0): nx = 3 − kx → 2 (kx 1, ox 1); ny = 2 − ky → 2 (ky 0, oy 1), 0 (ky 2, oy 0).
    let m = run_one(&l, 0, 3, 0);
    let want = [(0, 1, 1, wt(0, 0, 0, 1)), (0, 1, 0, wt(0, 0, 2, 1))];
    assert_eq!(m.states(), expect_states(1, 3, 4, &want));

    // Strides 8 and 1 with paddings 7 and 0 on a 1-pixel-high map, k 16:
    // input 20×16 → W_out = floor((20 + 14 − 16)/8) + 1 = 3, H_out = 1.
    let mut l = layer(1, 20, 16, 2, 16, (8, 1), (7, 0));
    set_weights(&mut l, wt);
    assert_eq!((l.output_shape.x, l.output_shape.y), (3, 1));
    // (x 19, y 3): nx = 26 − kx → 24 (kx 2, ox 3: out), 16 (kx 10, ox 2); ny = 3 − ky → 0 (ky 3).
    let m = run_one(&l, 0, 19, 3);
    let want = [(0, 2, 0, wt(0, 0, 3, 10)), (1, 2, 0, wt(1, 0, 3, 10))];
    assert_eq!(m.states(), expect_states(2, 3, 1, &want));
}

#[test]
fn feature_order_within_one_event() {
    // F 5, k 2, stride 1, padding 1, 3×3 input → 4×4 output; all weights 1
    // except feature 2 at tap (0, 0), which is 0 and therefore skipped.
    let mut l = layer(1, 3, 3, 5, 2, (1, 1), (1, 1));
    set_weights(&mut l, |f, _, ky, kx| if (f, ky, kx) == (2, 0, 0) { 0 } else { 1 });
    l.threshold_high = 1;
    let mut m = core(&l);
    let got = spikes(&m.accept_vec(in_spike(0, 1, 1)));
    // (x 1, y 1): taps (ky, kx) = (0,0)→(2,2), (0,1)→(1,2), (1,0)→(2,1), (1,1)→(1,1) as (ox, oy).
    let taps = [(2u16, 2u16), (1, 2), (2, 1), (1, 1)];
    let mut want = Vec::new();
    for (t, &(ox, oy)) in taps.iter().enumerate() {
        for f in 0..5u16 {
            if !(t == 0 && f == 2) {
                want.push((f, ox, oy));
            }
        }
    }
    assert_eq!(want.len(), 19);
    assert_eq!(got, want);
    // The zero weight left neuron (2, 2, 2) untouched; every other reached neuron spiked and reset to 0.
    assert_eq!(m.neuron(2, 2, 2), Some(0));
    assert_eq!(m.counters().spikes_out, 19);
}

#[test]
fn weights_are_pytorch_out_in_y_x() {
    // C 2, F 2, k 3 on a 3×3 map without padding: the single output neuron
    // receives weight [f][c][ky][kx] from input (c, kx, ky).
    let mut l = layer(2, 3, 3, 2, 3, (1, 1), (0, 0));
    set_weights(&mut l, wt);
    assert_eq!((l.output_shape.x, l.output_shape.y), (1, 1));
    for c in 0..2u16 {
        for y in 0..3u16 {
            for x in 0..3u16 {
                let m = run_one(&l, c, x, y);
                let want = [(0, 0, 0, wt(0, c as usize, y as usize, x as usize)), (1, 0, 0, wt(1, c as usize, y as usize, x as usize))];
                assert_eq!(m.states(), expect_states(2, 1, 1, &want), "input ({c}, {x}, {y})");
            }
        }
    }
}
