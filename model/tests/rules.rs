//! Spec §3: the neuron update rule, one directed test per clause and per
//! [decision], driven through a core (weights) and through leak ticks
//! (biases), plus a property test of `neuron::apply` against a reference
//! written here in i32 arithmetic.

mod common;

use common::*;
use proptest::prelude::*;
use spikehdl_model::neuron::{apply, NeuronParams};
use spikehdl_model::{CoreItem, CoreModel, CoreOutput};

/// A 1×1 map with one neuron; input channel `c` carries weight `ws[c]`.
fn probe(ws: &[i64], th: i64, tl: i64, rtz: bool) -> CoreModel {
    let mut l = pointwise(ws.len() as i64, 1, 1, 1);
    set_weights(&mut l, |_, c, _, _| ws[c]);
    l.threshold_high = th;
    l.threshold_low = tl;
    l.return_to_zero = rtz;
    core(&l)
}

/// A 1×1 map with one neuron whose leak applies `bias`.
fn leaky(bias: i64, th: i64, tl: i64, rtz: bool) -> CoreModel {
    let mut l = pointwise(1, 1, 1, 1);
    l.biases = Some(vec![bias]);
    l.leak_enable = true;
    l.threshold_high = th;
    l.threshold_low = tl;
    l.return_to_zero = rtz;
    core(&l)
}

fn set(core: &mut CoreModel, v: i16) {
    assert!(core.accept_vec(CoreItem::WriteNeuron { f: 0, x: 0, y: 0, value: v }).is_empty());
    assert_eq!(core.neuron(0, 0, 0), Some(v));
}

/// Sets the neuron to `v0`, applies `item`, returns (output spikes, new state).
fn step(core: &mut CoreModel, v0: i16, item: CoreItem) -> (usize, i16) {
    set(core, v0);
    let out = core.accept_vec(item);
    let n = spikes(&out).len();
    if n > 0 {
        assert_eq!(out, vec![CoreOutput::Spike { f: 0, x: 0, y: 0 }]);
    }
    (n, core.neuron(0, 0, 0).unwrap())
}

/// One update on channel `c`.
fn hit(core: &mut CoreModel, v0: i16, c: u16) -> (usize, i16) {
    step(core, v0, in_spike(c, 0, 0))
}

fn leak(core: &mut CoreModel, v0: i16) -> (usize, i16) {
    step(core, v0, CoreItem::LeakTick)
}

#[test]
fn saturates_at_upper_rail_without_wrapping() {
    let mut p = probe(&[127], 100, -32768, false);
    // 32700 + 127 saturates to 32767 (a wrap would give −32709 and no spike).
    assert_eq!(hit(&mut p, 32700, 0), (1, 32767 - 100));
    assert_eq!(hit(&mut p, 32767, 0), (1, 32767 - 100));
    let mut p = probe(&[127], 32767, -32768, false);
    assert_eq!(hit(&mut p, 32700, 0), (1, 0));
    // Leak with the largest bias on a full neuron.
    let mut l = leaky(32767, 1000, -32768, false);
    assert_eq!(leak(&mut l, 32767), (1, 32767 - 1000));
    assert_eq!(leak(&mut l, 1), (1, 32767 - 1000));
}

#[test]
fn saturates_at_lower_rail_without_wrapping() {
    let mut p = probe(&[-128], 100, -32768, false);
    // −32768 − 128 stays at −32768 (a wrap would give 32640 and a spike).
    assert_eq!(hit(&mut p, -32768, 0), (0, -32768));
    assert_eq!(hit(&mut p, -32700, 0), (0, -32768));
    assert_eq!(hit(&mut p, -32640, 0), (0, -32768));
    assert_eq!(hit(&mut p, -32639, 0), (0, -32767));
    let mut l = leaky(-32768, 1, -32768, false);
    assert_eq!(leak(&mut l, -1), (0, -32768));
    assert_eq!(leak(&mut l, -32768), (0, -32768));
    assert_eq!(leak(&mut l, 32767), (0, -1));
}

#[test]
fn zero_weight_is_skipped_entirely() {
    // Channel 0 has weight 0, channel 1 weight 1.
    let mut p = probe(&[0, 1], 100, -10, false);
    // At or above threshold: no spike check, no write.
    assert_eq!(hit(&mut p, 500, 0), (0, 500));
    assert_eq!(hit(&mut p, 100, 0), (0, 100));
    assert_eq!(hit(&mut p, 32767, 0), (0, 32767));
    // Below threshold_low: no write, so no floor either.
    assert_eq!(hit(&mut p, -32768, 0), (0, -32768));
    // The same states with a nonzero weight do update.
    assert_eq!(hit(&mut p, 500, 1), (1, 401));
    assert_eq!(hit(&mut p, -32768, 1), (0, -10));
    // Leak with bias 0: the same skip.
    let mut l = leaky(0, 100, -10, true);
    assert_eq!(leak(&mut l, 500), (0, 500));
    assert_eq!(leak(&mut l, -32768), (0, -32768));
}

#[test]
fn spikes_exactly_at_threshold_equality() {
    let mut p = probe(&[1, 5], 100, -32768, false);
    assert_eq!(hit(&mut p, 99, 0), (1, 0));
    assert_eq!(hit(&mut p, 98, 0), (0, 99));
    assert_eq!(hit(&mut p, 95, 1), (1, 0));
    assert_eq!(hit(&mut p, 94, 1), (0, 99));
    let mut p = probe(&[1], 1, -32768, false);
    assert_eq!(hit(&mut p, 0, 0), (1, 0));
    assert_eq!(hit(&mut p, -1, 0), (0, 0));
    let mut p = probe(&[1], 32767, -32768, false);
    assert_eq!(hit(&mut p, 32766, 0), (1, 0));
    assert_eq!(hit(&mut p, 32765, 0), (0, 32766));
    let mut l = leaky(7, 107, -32768, true);
    assert_eq!(leak(&mut l, 100), (1, 0));
    assert_eq!(leak(&mut l, 99), (0, 106));
}

#[test]
fn return_to_zero_versus_subtract_threshold() {
    let mut sub = probe(&[20, 127], 100, -32768, false);
    let mut rtz = probe(&[20, 127], 100, -32768, true);
    assert_eq!(hit(&mut sub, 90, 0), (1, 10));
    assert_eq!(hit(&mut rtz, 90, 0), (1, 0));
    // Far above threshold: still one subtraction of threshold_high.
    assert_eq!(hit(&mut sub, 300, 0), (1, 220));
    assert_eq!(hit(&mut rtz, 300, 0), (1, 0));
    assert_eq!(hit(&mut sub, 32000, 1), (1, 32027));
    let mut l = leaky(50, 100, -32768, false);
    assert_eq!(leak(&mut l, 60), (1, 10));
    let mut l = leaky(50, 100, -32768, true);
    assert_eq!(leak(&mut l, 60), (1, 0));
}

#[test]
fn threshold_low_floors_after_every_update() {
    let mut p = probe(&[-128, 20, 1], 100, -10, false);
    assert_eq!(hit(&mut p, 0, 0), (0, -10));
    assert_eq!(hit(&mut p, -5, 2), (0, -4));
    assert_eq!(hit(&mut p, -10, 0), (0, -10));
    // A state below the floor (written by the host) is floored by the next update.
    assert_eq!(hit(&mut p, -1000, 2), (0, -10));
    // After a spike too: the reset value is floored (threshold_low may be positive).
    for rtz in [false, true] {
        let mut p = probe(&[-128, 20, 1], 100, 50, rtz);
        assert_eq!(hit(&mut p, 90, 1), (1, 50), "return_to_zero = {rtz}");
        assert_eq!(hit(&mut p, 60, 0), (0, 50));
        assert_eq!(hit(&mut p, 60, 2), (0, 61));
    }
    let mut l = leaky(-100, 100, -32, false);
    assert_eq!(leak(&mut l, 0), (0, -32));
    let mut l = leaky(100, 100, 99, true);
    assert_eq!(leak(&mut l, 0), (1, 99));
}

#[test]
fn initial_value_below_floor_is_kept_until_an_update() {
    let mut l = pointwise(1, 1, 1, 1);
    set_weights(&mut l, |_, _, _, _| 1);
    l.threshold_high = 100;
    l.threshold_low = -10;
    set_initial(&mut l, |_, _, _| -1000);
    let mut c = core(&l);
    assert_eq!(c.neuron(0, 0, 0), Some(-1000));
    assert!(c.accept_vec(in_spike(0, 0, 0)).is_empty());
    assert_eq!(c.neuron(0, 0, 0), Some(-10));
}

#[test]
fn at_most_one_spike_per_update_and_no_check_without_input() {
    let mut p = probe(&[127], 1, -32768, false);
    assert_eq!(hit(&mut p, 0, 0), (1, 126));
    assert_eq!(hit(&mut p, 32767, 0), (1, 32766));
    // The neuron now sits far above threshold: reads and (disabled) leak
    // ticks do not make it spike.
    let out = p.accept_vec(CoreItem::ReadNeuron { f: 0, x: 0, y: 0 });
    assert_eq!(out, vec![CoreOutput::NeuronValue { f: 0, x: 0, y: 0, value: 32766 }]);
    assert!(p.accept_vec(CoreItem::LeakTick).is_empty());
    assert_eq!(p.neuron(0, 0, 0), Some(32766));
    // The next input spikes once more, once.
    let out = p.accept_vec(in_spike(0, 0, 0));
    assert_eq!(spikes(&out), vec![(0, 0, 0)]);
    assert_eq!(p.neuron(0, 0, 0), Some(32766));
    let mut l = leaky(32767, 1, -32768, false);
    assert_eq!(leak(&mut l, 32767), (1, 32766));
}

/// Spec §3 written independently, in i32.
fn reference(v: i16, w: i16, th: i16, tl: i16, rtz: bool) -> (bool, i16) {
    if w == 0 {
        return (false, v);
    }
    let mut s = (i32::from(v) + i32::from(w)).clamp(-32768, 32767);
    let spike = s >= i32::from(th);
    if spike {
        s = if rtz { 0 } else { s - i32::from(th) };
    }
    (spike, s.max(i32::from(tl)) as i16)
}

fn edge_i16() -> impl Strategy<Value = i16> {
    prop_oneof![2 => Just(i16::MIN), 2 => Just(i16::MAX), 1 => Just(0), 1 => Just(-1), 1 => Just(1), 4 => any::<i16>(), 2 => -300i16..300]
}

proptest! {
    #[test]
    fn apply_matches_reference(
        v in edge_i16(),
        w in prop_oneof![Just(0i16), edge_i16()],
        th in prop_oneof![Just(1i16), Just(32767), 1i16..=300, 1i16..=32767],
        tl_pick in 0u8..4,
        tl_any in any::<i16>(),
        rtz in any::<bool>(),
    ) {
        let tl = match tl_pick {
            0 => i16::MIN,
            1 => th - 1,
            _ => tl_any.min(th - 1),
        };
        let p = NeuronParams { threshold_high: th, threshold_low: tl, return_to_zero: rtz };
        let mut got = v;
        let spike = apply(&mut got, w, &p);
        prop_assert_eq!((spike, got), reference(v, w, th, tl, rtz));
    }
}
