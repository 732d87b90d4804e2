//! Protocol contract of the layer core's streams, apart from equivalence:
//! every item is accepted exactly once and in order, the output payload holds
//! while stalled (checked on every cycle by the driver), backpressure
//! propagates to the input instead of losing outputs, and the core recovers
//! from a reset in the middle of a stream.

use proptest::prelude::*;
use spikehdl_hdl::presets::preset;
use spikehdl_model::{CoreItem, CoreModel};
use spikehdl_testbenches::core_dut::{CoreDut, Stalls};
use spikehdl_testbenches::strategies::{config, core_case};

proptest! {
    #![proptest_config(config(300, 4000))]

    #[test]
    fn every_item_accepted_once_in_order_and_outputs_hold(case in core_case(preset("tiny").unwrap().capacity, 8, 32)) {
        let mut dut = CoreDut::with_power_up(preset("tiny").unwrap(), None, spikehdl_sim::PowerUp::random(case.stalls.seed)).unwrap();
        dut.configure(&case.layer).unwrap();
        let stalls = Stalls { output: case.stalls.output.max(50), ..case.stalls };
        let r = dut.run(&case.items, stalls, 2_000_000);
        prop_assert!(r.protocol_violations.is_empty(), "{:?}", r.protocol_violations);
        prop_assert_eq!(&r.accepted, &case.items);
        // Nothing lost, nothing duplicated: as many outputs as the model makes.
        let mut m = CoreModel::new(&case.layer);
        let n: usize = case.items.iter().map(|i| m.accept_vec(*i).len()).sum();
        prop_assert_eq!(r.outputs.len(), n);
    }
}

fn busy_layer() -> spikehdl_model::Layer {
    // 1 channel in, 4 features out, 3x3 kernel of 127s, threshold 1: every
    // update spikes, so one input spike makes 9 taps x 4 features = 36 outputs.
    let cap = preset("tiny").unwrap().capacity;
    let g = spikehdl_testbenches::strategies::Geometry { k: 3, stride: (1, 1), pad: (1, 1), w_in: 4, h_in: 4, w_out: 4, h_out: 4, c: 1, f: 4 };
    spikehdl_testbenches::strategies::build_layer(cap, &g, 1, -32768, &[127; 36], &[0; 4], &[0; 64], true, false)
}

#[test]
fn output_backpressure_stalls_input_and_loses_nothing() {
    let layer = busy_layer();
    let mut dut = CoreDut::new(preset("tiny").unwrap(), None).unwrap();
    dut.configure(&layer).unwrap();
    let items: Vec<CoreItem> = (0..20).map(|i| CoreItem::Spike { c: 0, x: i % 4, y: (i / 4) % 4 }).collect();
    // Output never ready for a long time: the core must stop accepting input.
    let r = dut.run(&items, Stalls { input: 0, output: 100, seed: 1 }, 5_000);
    assert!(r.outputs.is_empty());
    assert!(r.accepted.len() < items.len(), "core accepted all {} items with its output blocked: it must buffer without bound or drop", r.accepted.len());
    // Release: everything comes out, in the model's order.
    let rest: Vec<CoreItem> = items[r.accepted.len()..].to_vec();
    let r2 = dut.run(&rest, Stalls { input: 0, output: 30, seed: 2 }, 100_000);
    assert!(r2.protocol_violations.is_empty(), "{:?}", r2.protocol_violations);
    let mut m = CoreModel::new(&layer);
    let want: Vec<_> = items.iter().flat_map(|i| m.accept_vec(*i)).collect();
    assert_eq!(r2.outputs, want);
}

#[test]
fn reset_mid_stream_returns_to_idle_and_reconfigures() {
    for seed in 1..=3 {
        reset_mid_stream(spikehdl_sim::PowerUp::Random(seed));
    }
    reset_mid_stream(spikehdl_sim::PowerUp::Zero);
}

fn reset_mid_stream(power_up: spikehdl_sim::PowerUp) {
    let layer = busy_layer();
    let mut dut = CoreDut::with_power_up(preset("tiny").unwrap(), None, power_up).unwrap();
    dut.configure(&layer).unwrap();
    let items: Vec<CoreItem> = (0..8).map(|i| CoreItem::Spike { c: 0, x: i % 4, y: 0 }).collect();
    let _ = dut.run(&items, Stalls { input: 0, output: 100, seed: 3 }, 200);
    dut.reset();
    dut.configure(&layer).unwrap();
    let r = dut.run(&items, Stalls::default(), 100_000);
    assert!(r.protocol_violations.is_empty(), "{:?}", r.protocol_violations);
    assert_eq!(r.err_count, 0, "reset clears the error counter");
    let mut m = CoreModel::new(&layer);
    let want: Vec<_> = items.iter().flat_map(|i| m.accept_vec(*i)).collect();
    assert_eq!(r.outputs, want);
}
