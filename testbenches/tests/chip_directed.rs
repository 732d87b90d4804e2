//! Directed whole-chip tests on the tiny chip: a DVS -> 0 -> 1 -> 2 -> host
//! chain with monitors, fan-out, fan-in, a leak tick broadcast, neuron
//! writes and reads, out-of-shape drops, heavy host backpressure; and a
//! destination cycle (opt-in) that the watchdog reports instead of hanging.

use spikehdl_hdl::chip_regmap::chip;
use spikehdl_model::presets::{CoreCapacity, CHIP_TINY, CORE_TINY};
use spikehdl_model::validate::{Destination, DvsLayer};
use spikehdl_model::{HostInput, Layer, ValidConfig};
use spikehdl_testbenches::chip_check::run_and_check;
use spikehdl_testbenches::chip_dut::{ChipDut, ChipRunOpts};
use spikehdl_testbenches::strategies::{build_layer, Geometry};

fn layer(cap: CoreCapacity, c: u32, w: u32, f: u32, k: u32, th: i64) -> Layer {
    let g = Geometry { k, stride: (1, 1), pad: (k / 2, k / 2), w_in: w, h_in: w, w_out: w + 2 * (k / 2) + 1 - k, h_out: w + 2 * (k / 2) + 1 - k, c, f };
    let n_w = (f * c * k * k) as usize;
    let weights: Vec<i64> = (0..n_w).map(|i| [3i64, 0, 5, -1, 7][i % 5]).collect();
    let n_n = (f * g.h_out * g.w_out) as usize;
    build_layer(cap, &g, th, -20, &weights, &vec![2; f as usize], &vec![0; n_n], false, true)
}

fn d(layer: u8, pooling: u32, shift: u32) -> Destination {
    Destination { chip: None, layer, enable: true, pooling, feature_shift: shift }
}

fn dvs(dests: [Option<u8>; 2]) -> DvsLayer {
    DvsLayer {
        pool_x: 2, pool_y: 1, origin_x: 1, origin_y: 2, cut_x: 6, cut_y: 7,
        mirror_x: true, mirror_y: false, mirror_diagonal: true, merge: false,
        on_channel: true, off_channel: true, monitor_enable: true, destinations: dests,
    }
}

fn items() -> Vec<HostInput> {
    let mut v = Vec::new();
    for i in 0..300u16 {
        v.push(HostInput::Dvs { x: (i * 7) % 16, y: (i * 5) % 12, p: (i % 2) as u8 });
        if i % 37 == 0 {
            v.push(HostInput::LeakTick);
        }
        if i % 41 == 0 {
            v.push(HostInput::WriteNeuron { layer: 1, f: 0, x: 1, y: 1, value: 9 });
            v.push(HostInput::ReadNeuron { layer: 1, f: 0, x: 1, y: 1 });
        }
    }
    v.push(HostInput::ReadNeuron { layer: 2, f: 60, x: 0, y: 0 }); // out of shape: counted, no answer
    v
}

fn tiny() -> &'static spikehdl_hdl::chip_regmap::ChipPreset {
    chip("chip_tiny").expect("tiny chip")
}

#[test]
fn chain_with_monitors_and_backpressure() {
    let cap = CORE_TINY.capacity;
    let mut l0 = layer(cap, 2, 6, 4, 3, 4);
    let mut l1 = layer(cap, 4, 3, 3, 3, 3);
    let mut l2 = layer(cap, 3, 3, 2, 1, 2);
    l0.monitor_enable = true;
    l0.destinations = [d(1, 2, 0), d(12, 1, 0)];
    l1.destinations = [d(2, 1, 0), Destination { enable: false, ..d(0, 1, 0) }];
    l2.monitor_enable = true;
    l2.destinations = [d(12, 2, 5), Destination { enable: false, ..d(0, 1, 0) }];
    let cfg = ValidConfig { capacities: CHIP_TINY.capacities(), layers: vec![Some(l0), Some(l1), Some(l2)], dvs: Some(dvs([Some(0), None])), allow_cycles: false };
    for out_stall in [0u8, 60, 95] {
        let opts = ChipRunOpts { out_stall, seed: 7 + u64::from(out_stall), ..Default::default() };
        let s = run_and_check(tiny(), &cfg, &items(), opts, "directed chain").unwrap_or_else(|e| panic!("{e}"));
        assert!(s.end_to_end, "a chain is single-source");
        assert!(s.outputs > 50, "the chain should produce host outputs, got {}", s.outputs);
        assert!(s.core_items.iter().all(|&n| n > 20), "every core should see traffic: {:?}", s.core_items);
    }
}

#[test]
fn fan_out_and_fan_in_with_drops() {
    let cap = CORE_TINY.capacity;
    let mut l0 = layer(cap, 2, 6, 4, 3, 3);
    let mut l1 = layer(cap, 2, 6, 4, 3, 3);
    let mut l2 = layer(cap, 6, 4, 2, 3, 2);
    l0.destinations = [d(2, 2, 0), d(12, 4, 0)]; // 6x6 -> 3x3 into a 4x4 input: all inside
    l1.destinations = [d(2, 1, 2), d(12, 1, 0)]; // 6x6 into 4x4: edge events dropped
    l2.monitor_enable = true;
    l2.destinations = [d(12, 1, 0), Destination { enable: false, ..d(0, 1, 0) }];
    let cfg = ValidConfig { capacities: CHIP_TINY.capacities(), layers: vec![Some(l0), Some(l1), Some(l2)], dvs: Some(dvs([Some(0), Some(1)])), allow_cycles: false };
    let opts = ChipRunOpts { out_stall: 50, seed: 3, ..Default::default() };
    let s = run_and_check(tiny(), &cfg, &items(), opts, "directed fan-in").unwrap_or_else(|e| panic!("{e}"));
    assert!(!s.end_to_end, "core 2 has two sources");
}

#[test]
fn destination_cycle_is_reported_not_hung() {
    let cap = CORE_TINY.capacity;
    let mut l0 = layer(cap, 2, 4, 2, 1, 1);
    let mut l1 = layer(cap, 2, 4, 2, 1, 1);
    // Every input spikes (threshold 1, positive weights): 0 -> 1 -> 0 forever.
    l0.weights = vec![5; l0.weights.len()];
    l1.weights = vec![5; l1.weights.len()];
    l0.destinations = [d(1, 1, 0), Destination { enable: false, ..d(0, 1, 0) }];
    l1.destinations = [d(0, 1, 0), Destination { enable: false, ..d(0, 1, 0) }];
    let cfg = ValidConfig { capacities: CHIP_TINY.capacities(), layers: vec![Some(l0), Some(l1), None], dvs: None, allow_cycles: true };
    let mut dut = ChipDut::new(tiny(), None).expect("chip");
    dut.configure(&cfg).expect("configure");
    let items: Vec<HostInput> = (0..4).map(|i| HostInput::Spike { layer: 0, c: 0, x: i, y: 0 }).chain([HostInput::LeakTick]).collect();
    let run = dut.run(&items, ChipRunOpts { watchdog: 2000, max_cycles: 200_000, ..Default::default() }, &mut |_| {});
    assert!(!run.errors.is_empty(), "a self-sustaining cycle must end in a watchdog or cycle-limit error");
    let e = &run.errors[0];
    assert!(e.contains("stall") || e.contains("cycle limit"), "{e}");
}

#[test]
fn cycles_are_rejected_without_opt_in() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/dvs_3layer.json")).expect("example");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    // core 1 -> core 0 closes a cycle with the example's 0 -> 1.
    v["cnn_layers"][1]["destinations"][1] = serde_json::json!({"layer": 0, "enable": true, "pooling": 1, "feature_shift": 0});
    let e = spikehdl_model::parse_and_validate(&v.to_string()).expect_err("cycle must be rejected");
    assert!(e.to_string().contains("cycle"), "{e}");
}
