//! Spec §5: the router. Pooling (floor) and the drop counter, concatenation
//! via feature_shift, the monitor copy before pooling, destination order
//! (monitor, destination 0, destination 1) and the host readout.

mod common;

use common::*;
use spikehdl_model::config::CnnLayerConfig;
use spikehdl_model::{HostInput, HostOutput};

/// A k 1 layer that passes every input spike on: output (f = c, x, y) for c < F.
fn relay(c: i64, f: i64, w: i64, h: i64) -> CnnLayerConfig {
    let mut l = pointwise(c, f, w, h);
    set_weights(&mut l, |fi, ci, _, _| i64::from(fi == ci));
    l.threshold_high = 1;
    l
}

/// A 1-feature relay that fires all of its features for any input channel.
fn fan(c: i64, f: i64, w: i64, h: i64) -> CnnLayerConfig {
    let mut l = pointwise(c, f, w, h);
    set_weights(&mut l, |_, _, _, _| 1);
    l.threshold_high = 1;
    l
}

fn monitor(layer: u8, f: u16, x: u16, y: u16) -> HostOutput {
    HostOutput::Monitor { layer, f, x, y }
}
fn readout(layer: u8, f: u16, x: u16, y: u16) -> HostOutput {
    HostOutput::Spike { layer, f, x, y }
}

#[test]
fn pooling_floors_and_out_of_range_events_are_dropped_and_counted() {
    // Core 0: 5×5 → pooled by 2 → 2×2 = core 1's input; the last row and column
    // of core 0 map to x' or y' = 2, outside core 1's map.
    let mut a = relay(1, 1, 5, 5);
    a.destinations[0] = dest(1, 2, 0);
    let mut b = relay(1, 1, 2, 2);
    b.monitor_enable = true;
    let mut chip = chip_model(&config(vec![Some(a), Some(b)]));
    // Core 0 position → core 1 input position, or None if dropped.
    type Pos = (u16, u16);
    let cases: &[(Pos, Option<Pos>)] = &[
        ((3, 2), Some((1, 1))),
        ((0, 0), Some((0, 0))),
        ((1, 1), Some((0, 0))),
        ((2, 1), Some((1, 0))),
        ((1, 3), Some((0, 1))),
        ((4, 1), None),
        ((1, 4), None),
        ((4, 4), None),
        ((3, 3), Some((1, 1))),
    ];
    let (mut drops, mut delivered) = (0, 0);
    for &((x, y), want) in cases {
        let out = run(&mut chip, &[host_spike(0, 0, x, y)]);
        match want {
            Some((px, py)) => {
                delivered += 1;
                assert_eq!(out, vec![monitor(1, 0, px, py)], "({x}, {y})");
            }
            None => {
                drops += 1;
                assert!(out.is_empty(), "({x}, {y}): {out:?}");
            }
        }
        let r = chip.router_counters();
        assert_eq!(r.drops, [vec![drops, 0], vec![0; 8]].concat(), "({x}, {y})");
        assert_eq!(r.delivered[1], delivered);
        assert_eq!(r.delivered[0], 0);
    }
    assert_eq!(chip.core_counters(1).errors, 0);
    assert_eq!(chip.core_counters(1).items_in, delivered);

    // Pooling 4: 9×9 → 2×2; x or y = 8 is dropped, 7 floors to 1.
    let mut a = relay(1, 1, 9, 9);
    a.destinations[1] = dest(2, 4, 0);
    let mut b = relay(1, 1, 2, 2);
    b.monitor_enable = true;
    let mut chip = chip_model(&config(vec![Some(a), None, Some(b)]));
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 7, 7)]), vec![monitor(2, 0, 1, 1)]);
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 4, 3)]), vec![monitor(2, 0, 1, 0)]);
    assert!(run(&mut chip, &[host_spike(0, 0, 8, 0)]).is_empty());
    assert!(run(&mut chip, &[host_spike(0, 0, 0, 8)]).is_empty());
    assert_eq!(chip.router_counters().drops[0], 2);
    assert_eq!(chip.router_counters().delivered[2], 2);
}

#[test]
fn concatenation_via_feature_shift() {
    // Core 0 (2 features) and core 1 (3 features) both feed core 2 (5 channels):
    // core 1's features land on channels 2..5.
    let mut a = fan(1, 2, 2, 2);
    a.destinations[0] = dest(2, 1, 0);
    let mut b = fan(1, 3, 2, 2);
    b.destinations[1] = dest(2, 1, 2);
    let mut c = relay(5, 5, 2, 2);
    c.destinations[0] = to_host(1, 0);
    let mut chip = chip_model(&config(vec![Some(a), Some(b), Some(c)]));
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 1, 0)]), vec![readout(2, 0, 1, 0), readout(2, 1, 1, 0)]);
    assert_eq!(
        run(&mut chip, &[host_spike(1, 0, 0, 1)]),
        vec![readout(2, 2, 0, 1), readout(2, 3, 0, 1), readout(2, 4, 0, 1)]
    );
    assert_eq!(chip.router_counters().delivered[2], 5);
    assert_eq!(chip.router_counters().drops, vec![0; 10]);
}

#[test]
fn monitor_before_pooling_then_destination_0_then_1() {
    // Core 0: 2 features on 4×4, monitor on; destination 0 = host pooled by 2
    // shifted by 3, destination 1 = host pooled by 4 not shifted.
    let mut a = fan(1, 2, 4, 4);
    a.monitor_enable = true;
    a.destinations = vec![to_host(2, 3), to_host(4, 0)];
    let mut chip = chip_model(&config(vec![Some(a)]));
    let out = run(&mut chip, &[host_spike(0, 0, 3, 2)]);
    assert_eq!(
        out,
        vec![
            monitor(0, 0, 3, 2),
            readout(0, 3, 1, 1),
            readout(0, 0, 0, 0),
            monitor(0, 1, 3, 2),
            readout(0, 4, 1, 1),
            readout(0, 1, 0, 0),
        ]
    );
}

#[test]
fn disabled_destinations_send_nothing() {
    let mut a = fan(1, 1, 4, 4);
    a.destinations = vec![off(), to_host(1, 7)];
    let mut chip = chip_model(&config(vec![Some(a.clone())]));
    assert_eq!(run(&mut chip, &[host_spike(0, 0, 2, 3)]), vec![readout(0, 7, 2, 3)]);
    // A disabled destination naming a core sends nothing there either.
    let mut b = relay(1, 1, 4, 4);
    b.monitor_enable = true;
    a.destinations = vec![disabled_to(1), off()];
    let mut chip = chip_model(&config(vec![Some(a), Some(b)]));
    assert!(run(&mut chip, &[host_spike(0, 0, 2, 3)]).is_empty());
    assert_eq!(chip.router_counters().delivered, vec![0; 9]);
    assert_eq!(chip.core_counters(1).items_in, 0);
}

fn disabled_to(layer: i64) -> spikehdl_model::config::DestinationConfig {
    let mut d = dest(layer, 1, 0);
    d.enable = false;
    d
}

#[test]
fn host_readout_is_pooled_and_shifted_per_destination() {
    // Readout to 12 carries the source core id, the pooled position and the shifted feature.
    let mut a = relay(3, 3, 8, 8);
    a.destinations = vec![to_host(4, 1000), off()];
    let mut b = relay(3, 3, 8, 8);
    b.destinations = vec![off(), to_host(2, 5)];
    let mut chip = chip_model(&config(vec![None, None, None, Some(a), Some(b)]));
    let out = run(&mut chip, &[host_spike(3, 2, 7, 5), host_spike(4, 1, 7, 5), host_spike(3, 0, 3, 4)]);
    assert_eq!(out, vec![readout(3, 1002, 1, 1), readout(4, 6, 3, 2), readout(3, 1000, 0, 1)]);
}

#[test]
fn each_destination_gets_its_own_copy_in_source_order() {
    // Core 0 feeds core 1 (pooling 1) and the host; core 1 monitors what it gets.
    let mut a = fan(1, 2, 4, 4);
    a.destinations = vec![dest(1, 1, 0), to_host(2, 0)];
    let mut b = relay(2, 2, 4, 4);
    b.monitor_enable = true;
    let mut chip = chip_model(&config(vec![Some(a), Some(b)]));
    let inputs: Vec<HostInput> = [(0u16, 0u16), (3, 1), (2, 2)].iter().map(|&(x, y)| host_spike(0, 0, x, y)).collect();
    let out = run(&mut chip, &inputs);
    let mons: Vec<HostOutput> = out.iter().copied().filter(|o| matches!(o, HostOutput::Monitor { .. })).collect();
    let reads: Vec<HostOutput> = out.iter().copied().filter(|o| matches!(o, HostOutput::Spike { .. })).collect();
    assert_eq!(
        mons,
        vec![monitor(1, 0, 0, 0), monitor(1, 1, 0, 0), monitor(1, 0, 3, 1), monitor(1, 1, 3, 1), monitor(1, 0, 2, 2), monitor(1, 1, 2, 2)]
    );
    assert_eq!(
        reads,
        vec![readout(0, 0, 0, 0), readout(0, 1, 0, 0), readout(0, 0, 1, 0), readout(0, 1, 1, 0), readout(0, 0, 1, 1), readout(0, 1, 1, 1)]
    );
    assert_eq!(out.len(), 12);
    assert_eq!(chip.router_counters().delivered[1], 6);
}
