//! Directed tests of the Sinabs discretization rules, values computed by hand.

use spikehdl_nir::discretize::{discretize_layer, scale, FloatLayer};

fn layer<'a>(w: &'a [f32], b: &'a [f32], thr: f32, min_v_mem: Option<f32>) -> FloatLayer<'a> {
    FloatLayer { weights: w, biases: b, threshold: thr, min_v_mem, state: None }
}

#[test]
fn weights_limit_the_scale_and_round_half_to_even() {
    // sw = 127 / 0.5 = 254; sb = inf (all-zero bias); st = 32767 / 1 -> 254 wins.
    let d = discretize_layer(&layer(&[0.5, -0.25, 0.1, 0.0], &[0.0], 1.0, Some(-1.0)));
    assert_eq!(d.scales.weights, 254.0);
    assert!(d.scales.biases.is_infinite());
    assert_eq!(d.scales.thresholds, 32767.0);
    assert_eq!(d.scales.chosen, 254.0);
    // -0.25 * 254 = -63.5 -> -64 (even); 0.1 * 254 = 25.4 -> 25
    assert_eq!(d.weights, vec![127, -64, 25, 0]);
    assert_eq!((d.threshold_high, d.threshold_low), (254, -254));
    assert_eq!(d.scales.limited_by(), "weights");
}

#[test]
fn exact_halves_round_to_even() {
    // max 63.5 -> scale exactly 2: 0.25 -> 0.5 -> 0, 0.75 -> 1.5 -> 2, 1.25 -> 2.5 -> 2, -1.25 -> -2
    let d = discretize_layer(&layer(&[63.5, 0.25, 0.75, 1.25, -1.25], &[0.0], 10.0, Some(-10.0)));
    assert_eq!(d.scales.chosen, 2.0);
    assert_eq!(d.weights, vec![127, 0, 2, 2, -2]);
    assert_eq!((d.threshold_high, d.threshold_low), (20, -20));
}

#[test]
fn missing_min_v_mem_enters_as_minus_2_pow_15_and_caps_the_scale_at_1() {
    // thresholds (-32768, 1): |-32768| > 1 * 128/127 -> 32768 / 32768 = 1.
    let d = discretize_layer(&layer(&[0.5, -0.25], &[0.0], 1.0, None));
    assert_eq!(d.scales.thresholds, 1.0);
    assert_eq!(d.scales.chosen, 1.0);
    assert_eq!(d.weights, vec![0, 0]); // 0.5 -> 0 (even), -0.25 -> 0
    assert_eq!((d.threshold_high, d.threshold_low), (1, -32768));
    assert!(d.scales.limited_by().starts_with("thresholds"));
}

#[test]
fn biases_use_the_8_bit_scale() {
    // sw = 1270, sb = 127 / 2 = 63.5, st = 32767 / 10 = 3276.7 -> 63.5
    let d = discretize_layer(&layer(&[0.1], &[2.0, -1.0], 10.0, Some(-10.0)));
    assert_eq!(d.scales.biases, 63.5);
    assert_eq!(d.scales.chosen, 63.5);
    assert_eq!(d.weights, vec![6]); // 6.35
    assert_eq!(d.biases, vec![127, -64]); // -63.5 -> -64
    assert_eq!((d.threshold_high, d.threshold_low), (635, -635));
    assert_eq!(d.scales.limited_by(), "biases");
}

#[test]
fn a_large_threshold_limits_the_scale() {
    // st = 32767 / 1000 = 32.767 < sw = 127
    let d = discretize_layer(&layer(&[1.0, -0.5], &[0.0], 1000.0, Some(-1000.0)));
    assert_eq!(d.scales.chosen, 32767.0f32 / 1000.0);
    assert_eq!(d.weights, vec![33, -16]); // 32.767, -16.38
    assert_eq!((d.threshold_high, d.threshold_low), (32767, -32767));
}

#[test]
fn negative_side_uses_128() {
    // min -1 dominates: 128 / 1 = 128
    let d = discretize_layer(&layer(&[-1.0, 0.5], &[0.0], 1.0, Some(-1.0)));
    assert_eq!(d.scales.weights, 128.0);
    assert_eq!(d.weights, vec![-128, 64]);
    // min_v_mem below -threshold * 32768/32767 -> the negative branch of the 16-bit scale
    assert_eq!(scale(&[-2.0, 1.0], 16), 16384.0);
}

#[test]
fn initial_state_enters_the_scale_and_is_discretized() {
    // sn = 32767 / 100 = 327.67 < sw = 12700, st = 32767
    let state = [0.0f32, 100.0, -50.0];
    let d = discretize_layer(&FloatLayer { weights: &[0.01], biases: &[0.0], threshold: 1.0, min_v_mem: Some(-1.0), state: Some(&state) });
    assert_eq!(d.scales.state, Some(327.67));
    assert_eq!(d.scales.chosen, 327.67);
    assert_eq!(d.weights, vec![3]);
    assert_eq!(d.state, Some(vec![0, 32767, -16384])); // -50 * 327.67 -> -16384
    assert_eq!((d.threshold_high, d.threshold_low), (328, -328));
    assert_eq!(d.scales.limited_by(), "initial state");
}
