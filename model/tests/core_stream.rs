//! Spec §4 (out-of-shape inputs), §6 (leak ticks) and §8 (neuron reads and
//! writes in the core's stream): one core's input stream, at the core and
//! through the chip.

mod common;

use common::*;
use spikehdl_model::{CoreItem, CoreOutput, HostInput, HostOutput};

fn read(f: u16, x: u16, y: u16) -> CoreItem {
    CoreItem::ReadNeuron { f, x, y }
}
fn write(f: u16, x: u16, y: u16, value: i16) -> CoreItem {
    CoreItem::WriteNeuron { f, x, y, value }
}

/// F 2 on a 3×2 map (x by y), biases 5 and 7, leak on, threshold 1.
fn leak_layer() -> spikehdl_model::config::CnnLayerConfig {
    let mut l = pointwise(1, 2, 3, 2);
    l.biases = Some(vec![5, 7]);
    l.leak_enable = true;
    l.threshold_high = 1;
    l
}

#[test]
fn leak_updates_in_f_then_y_then_x_order_and_spikes() {
    let mut m = core(&leak_layer());
    let got = spikes(&m.accept_vec(CoreItem::LeakTick));
    let mut want = Vec::new();
    for f in 0..2 {
        for y in 0..2 {
            for x in 0..3 {
                want.push((f, x, y));
            }
        }
    }
    assert_eq!(got, want);
    // Subtract threshold 1: states are bias − 1.
    assert_eq!(m.states(), [vec![4i16; 6], vec![6i16; 6]].concat());
    assert_eq!(m.counters().spikes_out, 12);
    assert_eq!(m.counters().synaptic_updates, 12);
}

#[test]
fn leak_spikes_only_where_the_bias_reaches_threshold() {
    let mut l = leak_layer();
    l.threshold_high = 10;
    // f 0 (bias 5): only neuron (x 2, y 0) at 5 reaches 10; f 1 (bias 7): (x 0, y 1) at 3 and (x 1, y 1) at 100.
    set_initial(&mut l, |f, y, x| match (f, y, x) {
        (0, 0, 2) => 5,
        (1, 1, 0) => 3,
        (1, 1, 1) => 100,
        _ => 0,
    });
    l.return_to_zero = true;
    let mut m = core(&l);
    assert_eq!(spikes(&m.accept_vec(CoreItem::LeakTick)), vec![(0, 2, 0), (1, 0, 1), (1, 1, 1)]);
    assert_eq!(m.states(), vec![5, 5, 0, 5, 5, 5, 7, 7, 7, 0, 0, 7]);
    // Second tick: f 0 at 5 + 5 = 10 spikes everywhere except the reset one; f 1 at 7 + 7 = 14 likewise.
    let got = spikes(&m.accept_vec(CoreItem::LeakTick));
    assert_eq!(got, vec![(0, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (0, 2, 1), (1, 0, 0), (1, 1, 0), (1, 2, 0), (1, 2, 1)]);
}

#[test]
fn leak_is_ignored_without_leak_enable() {
    let mut l = leak_layer();
    l.leak_enable = false;
    set_initial(&mut l, |f, y, x| (f * 100 + y * 10 + x) as i64);
    let mut m = core(&l);
    let before = m.states();
    assert!(m.accept_vec(CoreItem::LeakTick).is_empty());
    assert_eq!(m.states(), before);
    assert_eq!(m.counters().synaptic_updates, 0);
    assert_eq!(m.counters().items_in, 1);
    // Through the chip: a leak tick reaches every core, only the enabled one leaks.
    let mut a = leak_layer();
    a.destinations[0] = to_host(1, 0);
    let mut b = leak_layer();
    b.leak_enable = false;
    b.destinations[0] = to_host(1, 0);
    let mut chip = chip_model(&config(vec![Some(b), Some(a)]));
    let out = run(&mut chip, &[HostInput::LeakTick]);
    assert_eq!(out.len(), 12);
    assert!(out.iter().all(|o| matches!(o, HostOutput::Spike { layer: 1, .. })), "{out:?}");
    assert_eq!(chip.core(0).unwrap().states(), vec![0; 12]);
    assert_eq!(chip.core_counters(0).items_in, 1);
}

#[test]
fn reads_and_writes_are_ordered_with_spikes() {
    let mut l = pointwise(1, 2, 2, 2);
    set_weights(&mut l, |f, _, _, _| 3 + f as i64);
    l.threshold_high = 100;
    let mut m = core(&l);
    // A read after a spike sees its effect.
    assert!(m.accept_vec(in_spike(0, 1, 0)).is_empty());
    assert_eq!(m.accept_vec(read(0, 1, 0)), vec![CoreOutput::NeuronValue { f: 0, x: 1, y: 0, value: 3 }]);
    assert_eq!(m.accept_vec(read(1, 1, 0)), vec![CoreOutput::NeuronValue { f: 1, x: 1, y: 0, value: 4 }]);
    // A write then a read returns the written value.
    assert!(m.accept_vec(write(0, 1, 0, -1234)).is_empty());
    assert_eq!(m.accept_vec(read(0, 1, 0)), vec![CoreOutput::NeuronValue { f: 0, x: 1, y: 0, value: -1234 }]);
    // A write is not an update: no floor, no spike check, even far above threshold.
    assert!(m.accept_vec(write(1, 0, 1, 32767)).is_empty());
    assert_eq!(m.neuron(1, 0, 1), Some(32767));
    // A spike after a write starts from the written value.
    assert!(m.accept_vec(write(0, 0, 1, 97)).is_empty());
    assert_eq!(spikes(&m.accept_vec(in_spike(0, 0, 1))), vec![(0, 0, 1), (1, 0, 1)]);
    assert_eq!(m.accept_vec(read(0, 0, 1)), vec![CoreOutput::NeuronValue { f: 0, x: 0, y: 1, value: 0 }]);
    // Feature 1 saturated at 32767 + 4 → 32767, spiked, and lost one threshold.
    assert_eq!(m.neuron(1, 0, 1), Some(32667));
    // Other neurons are untouched by the writes.
    assert_eq!(m.neuron(1, 1, 1), Some(0));
}

#[test]
fn reads_and_writes_through_the_chip_stream() {
    // Core 0 (threshold 1) feeds core 1 (threshold 100); core 1 is read back.
    let mut a = pointwise(1, 1, 2, 2);
    set_weights(&mut a, |_, _, _, _| 1);
    a.threshold_high = 1;
    a.destinations[0] = dest(1, 1, 0);
    a.destinations[1] = to_host(1, 0);
    let mut b = pointwise(1, 1, 2, 2);
    set_weights(&mut b, |_, _, _, _| 7);
    b.threshold_high = 100;
    let mut chip = chip_model(&config(vec![Some(a), Some(b)]));
    let out = run(
        &mut chip,
        &[
            host_spike(0, 0, 1, 1),
            HostInput::ReadNeuron { layer: 1, f: 0, x: 1, y: 1 },
            HostInput::WriteNeuron { layer: 1, f: 0, x: 1, y: 1, value: 95 },
            HostInput::ReadNeuron { layer: 1, f: 0, x: 1, y: 1 },
            host_spike(0, 0, 1, 1),
            HostInput::ReadNeuron { layer: 1, f: 0, x: 1, y: 1 },
            HostInput::ReadNeuron { layer: 0, f: 0, x: 1, y: 1 },
        ],
    );
    assert_eq!(
        out,
        vec![
            HostOutput::Spike { layer: 0, f: 0, x: 1, y: 1 },
            HostOutput::NeuronValue { layer: 1, f: 0, x: 1, y: 1, value: 7 },
            HostOutput::NeuronValue { layer: 1, f: 0, x: 1, y: 1, value: 95 },
            HostOutput::Spike { layer: 0, f: 0, x: 1, y: 1 },
            HostOutput::NeuronValue { layer: 1, f: 0, x: 1, y: 1, value: 2 },
            HostOutput::NeuronValue { layer: 0, f: 0, x: 1, y: 1, value: 0 },
        ]
    );
}

#[test]
fn out_of_shape_inputs_are_counted_and_not_processed() {
    // C 2, input 4×3, k 1, F 1, all weights 1, threshold 1.
    let mut l = pointwise(2, 1, 4, 3);
    set_weights(&mut l, |_, _, _, _| 1);
    l.threshold_high = 1;
    let mut m = core(&l);
    for (i, item) in [
        in_spike(2, 0, 0),
        in_spike(0, 4, 0),
        in_spike(0, 0, 3),
        in_spike(1023, 127, 127),
        read(1, 0, 0),
        read(0, 4, 0),
        read(0, 0, 3),
        write(0, 4, 0, 5),
        write(0, 0, 3, 5),
        write(1, 0, 0, 5),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(m.accept_vec(item).is_empty(), "{item:?}");
        assert_eq!(m.counters().errors, i as u64 + 1, "{item:?}");
        assert_eq!(m.states(), vec![0; 12], "{item:?}");
    }
    assert_eq!(m.counters().spikes_out, 0);
    assert_eq!(m.counters().synaptic_updates, 0);
    // In range: processed, not counted.
    assert_eq!(spikes(&m.accept_vec(in_spike(1, 3, 2))), vec![(0, 3, 2)]);
    assert_eq!(m.counters().errors, 10);

    // Through the chip: statically valid (x < 128) but outside core 0's map.
    let mut l = l.clone();
    l.destinations[0] = to_host(1, 0);
    let mut chip = chip_model(&config(vec![Some(l)]));
    let out = run(&mut chip, &[host_spike(0, 0, 100, 0), host_spike(0, 5, 0, 0), host_spike(0, 0, 3, 2)]);
    assert_eq!(out, vec![HostOutput::Spike { layer: 0, f: 0, x: 3, y: 2 }]);
    assert_eq!(chip.core_counters(0).errors, 2);
    assert_eq!(chip.core_counters(0).items_in, 3);
    // A spike to a core without a layer is counted there.
    let out = run(&mut chip, &[host_spike(5, 0, 0, 0), HostInput::ReadNeuron { layer: 5, f: 0, x: 0, y: 0 }]);
    assert!(out.is_empty());
    assert_eq!(chip.core_counters(5).errors, 2);
    assert_eq!(chip.core_counters(0).errors, 2);
}
