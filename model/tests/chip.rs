//! Spec §5 (cycles) and §8 (host port): static limits of host input items
//! rejected by `ChipModel::accept`, destination cycles rejected unless
//! `allow_cycles`, and a runaway cycle reported instead of hanging.

mod common;

use common::*;
use spikehdl_model::chip::RouterCounters;
use spikehdl_model::config::CnnLayerConfig;
use spikehdl_model::events::Timed;
use spikehdl_model::{validate, ChipModel, HostInput, HostOutput, ItemError};

fn relay(w: i64, h: i64) -> CnnLayerConfig {
    let mut l = pointwise(1, 1, w, h);
    set_weights(&mut l, |_, _, _, _| 1);
    l.threshold_high = 1;
    l
}

/// A chip with a DVS layer into core 0, and core 0 reading out to the host.
fn small_chip() -> ChipModel {
    let mut l = layer(2, 128, 128, 1, 1, (2, 2), (0, 0));
    assert_eq!((l.output_shape.x, l.output_shape.y), (64, 64));
    l.destinations[0] = to_host(1, 0);
    let mut cfg = config(vec![Some(l)]);
    let mut d = dvs_layer();
    d.destinations = vec![dvs_dest(0)];
    d.monitor_enable = true;
    cfg.dvs_layer = Some(d);
    chip_model(&cfg)
}

fn assert_rejected(item: HostInput, name: &str, field: &str, value: i64, limit: &str) {
    let mut chip = small_chip();
    let mut out = Vec::new();
    let err = chip.accept(&item, &mut out).expect_err(&format!("{item:?} must be rejected"));
    assert_eq!(
        err,
        ItemError::OutOfRange { item: leak(name), field: leak(field), value, limit: limit.to_string() },
        "{item:?}"
    );
    let msg = err.to_string();
    for part in [name, field, &value.to_string(), limit] {
        assert!(msg.contains(part), "message {msg:?} does not name {part:?}");
    }
    // It never reached the chip.
    assert!(out.is_empty());
    for i in 0..chip.n_cores() {
        assert_eq!(chip.core_counters(i).items_in, 0);
        assert_eq!(chip.core_counters(i).errors, 0);
    }
    let r = chip.router_counters();
    assert_eq!((r.dvs_in, r.dvs_out), (0, 0));
    assert_eq!(*r, RouterCounters { drops: vec![0; 10], delivered: vec![0; 9], dvs_in: 0, dvs_out: 0, link_out: 0 });
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[test]
fn host_items_breaking_static_limits_are_rejected() {
    assert_rejected(HostInput::Dvs { x: 128, y: 0, p: 0 }, "dvs", "x", 128, "0..=127");
    assert_rejected(HostInput::Dvs { x: 0, y: 128, p: 1 }, "dvs", "y", 128, "0..=127");
    assert_rejected(HostInput::Dvs { x: 5, y: 5, p: 2 }, "dvs", "p", 2, "0..=1");
    assert_rejected(HostInput::Dvs { x: 5, y: 5, p: 255 }, "dvs", "p", 255, "0..=1");
    // Layer ids that are not cores of the 9-core reference chip.
    for layer in [9u8, 12, 13, 255] {
        assert_rejected(host_spike(layer, 0, 0, 0), "spike", "layer", layer.into(), "0..=8");
        assert_rejected(HostInput::ReadNeuron { layer, f: 0, x: 0, y: 0 }, "read_neuron", "layer", layer.into(), "0..=8");
        assert_rejected(
            HostInput::WriteNeuron { layer, f: 0, x: 0, y: 0, value: 1 },
            "write_neuron",
            "layer",
            layer.into(),
            "0..=8",
        );
    }
    assert_rejected(host_spike(0, 0, 128, 0), "spike", "x", 128, "0..=127");
    assert_rejected(host_spike(0, 0, 0, 128), "spike", "y", 128, "0..=127");
    assert_rejected(host_spike(0, 1024, 0, 0), "spike", "c", 1024, "0..=1023");
    assert_rejected(HostInput::ReadNeuron { layer: 0, f: 1024, x: 0, y: 0 }, "read_neuron", "f", 1024, "0..=1023");
}

#[test]
fn statically_valid_items_at_the_limits_are_accepted() {
    let mut chip = small_chip();
    let mut out = Vec::new();
    for item in [
        HostInput::Dvs { x: 127, y: 127, p: 1 },
        HostInput::Dvs { x: 0, y: 0, p: 0 },
        host_spike(8, 1023, 127, 127),
        host_spike(0, 1, 127, 127),
        HostInput::LeakTick,
    ] {
        chip.accept(&item, &mut out).unwrap_or_else(|e| panic!("{item:?}: {e}"));
    }
    // Both DVS events reached core 0 (monitor copies, then the readout of core 0's 64×64 map);
    // the spike to unconfigured core 8 was counted there.
    assert_eq!(chip.router_counters().dvs_in, 2);
    assert_eq!(chip.core_counters(8).errors, 1);
    assert_eq!(chip.core_counters(0).items_in, 2 + 1 + 1);
    assert!(out.contains(&HostOutput::Monitor { layer: 13, f: 1, x: 127, y: 127 }));
    assert!(out.contains(&HostOutput::Monitor { layer: 13, f: 0, x: 0, y: 0 }));
}

#[test]
fn run_stops_at_the_first_rejected_item_with_its_index() {
    let mut chip = small_chip();
    let items = [
        Timed { t: 1, item: HostInput::Dvs { x: 1, y: 1, p: 1 } },
        Timed { t: 2, item: HostInput::Dvs { x: 1, y: 200, p: 1 } },
        Timed { t: 3, item: HostInput::Dvs { x: 2, y: 2, p: 1 } },
    ];
    let (i, e) = chip.run(&items).unwrap_err();
    assert_eq!(i, 1);
    assert!(matches!(e, ItemError::OutOfRange { field: "y", value: 200, .. }), "{e:?}");
    let mut chip = small_chip();
    let out = chip.run(&items[..1]).unwrap();
    assert!(!out.is_empty());
    assert!(out.iter().all(|o| o.t == 1));
}

fn cycle_config(allow: bool) -> spikehdl_model::ChipConfig {
    // 0 → 1 → 0, each a relay: every spike goes round for ever.
    let mut a = relay(2, 2);
    a.destinations[0] = dest(1, 1, 0);
    let mut b = relay(2, 2);
    b.destinations[1] = dest(0, 1, 0);
    b.monitor_enable = true;
    let mut cfg = config(vec![Some(a), Some(b)]);
    cfg.allow_cycles = allow;
    cfg
}

#[test]
fn destination_cycles_are_rejected_unless_allowed() {
    let errs = validate(&cycle_config(false)).unwrap_err().0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "cnn_layers[0].destinations");
    assert!(errs[0].message.contains("0 -> 1 -> 0"), "{}", errs[0].message);
    assert!(errs[0].message.contains("allow_cycles"), "{}", errs[0].message);

    // A self loop.
    let mut a = relay(2, 2);
    a.destinations[1] = dest(2, 1, 0);
    let errs = validate(&config(vec![None, None, Some(a.clone())])).unwrap_err().0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "cnn_layers[2].destinations");
    assert!(errs[0].message.contains("cycle 2 -> 2"), "{}", errs[0].message);
    let mut cfg = config(vec![None, None, Some(a)]);
    cfg.allow_cycles = true;
    assert!(validate(&cfg).is_ok());

    // A longer cycle behind an acyclic prefix: 0 → 3 → 4 → 5 → 3.
    let mut l0 = relay(2, 2);
    l0.destinations[0] = dest(3, 1, 0);
    let mut l3 = relay(2, 2);
    l3.destinations[0] = dest(4, 1, 0);
    let mut l4 = relay(2, 2);
    l4.destinations[1] = dest(5, 1, 0);
    let mut l5 = relay(2, 2);
    l5.destinations = vec![to_host(1, 0), dest(3, 1, 0)];
    let cfg = config(vec![Some(l0), None, None, Some(l3), Some(l4), Some(l5)]);
    let errs = validate(&cfg).unwrap_err().0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "cnn_layers[3].destinations");
    assert!(errs[0].message.contains("3 -> 4 -> 5 -> 3"), "{}", errs[0].message);

    // No cycle: a diamond 0 → 1, 0 → 2, 1 → 3, 2 → 3 is fine.
    let mut l0 = relay(2, 2);
    l0.destinations = vec![dest(1, 1, 0), dest(2, 1, 0)];
    let mut l1 = relay(2, 2);
    l1.destinations[0] = dest(3, 1, 0);
    let mut l2 = relay(2, 2);
    l2.destinations[0] = dest(3, 1, 0);
    assert!(validate(&config(vec![Some(l0), Some(l1), Some(l2), Some(relay(2, 2))])).is_ok());
}

#[test]
fn runaway_cycle_returns_an_error_instead_of_hanging() {
    let mut chip = chip_model(&cycle_config(true));
    chip.max_items_per_input = 1000;
    let mut out = Vec::new();
    let err = chip.accept(&host_spike(0, 0, 1, 1), &mut out).unwrap_err();
    assert_eq!(err, ItemError::Runaway(1000));
    assert!(err.to_string().contains("1000"));
    // Exactly the budget was processed: 500 items at each core, one monitor copy per core-1 spike.
    assert_eq!(chip.core_counters(0).items_in + chip.core_counters(1).items_in, 1000);
    assert_eq!(out.len(), 500);
    // The chip is usable afterwards: the pending items were discarded.
    let mut out = Vec::new();
    chip.accept(&HostInput::ReadNeuron { layer: 1, f: 0, x: 1, y: 1 }, &mut out).unwrap();
    assert_eq!(out, vec![HostOutput::NeuronValue { layer: 1, f: 0, x: 1, y: 1, value: 0 }]);
}

#[test]
fn a_cycle_that_dies_out_settles() {
    // 0 → 1 → 0 where core 1 needs two inputs per spike: each host spike
    // goes round a bounded number of times.
    let mut cfg = cycle_config(true);
    let b = cfg.cnn_layers[1].as_mut().unwrap();
    b.threshold_high = 2;
    let mut a = cfg.cnn_layers[0].clone().unwrap();
    a.monitor_enable = true;
    cfg.cnn_layers[0] = Some(a);
    let mut chip = chip_model(&cfg);
    chip.max_items_per_input = 1000;
    let m0 = HostOutput::Monitor { layer: 0, f: 0, x: 1, y: 0 };
    let m1 = HostOutput::Monitor { layer: 1, f: 0, x: 1, y: 0 };
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 1, 0)]), vec![m0]);
    // Core 1 reaches 2, spikes back into core 0, which spikes into core 1 again (now at 1).
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 1, 0)]), vec![m0, m1, m0]);
    assert_eq!(chip.core(1).unwrap().neuron(0, 1, 0), Some(1));
}
