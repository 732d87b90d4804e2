//! Spec §7: the DVS input layer, step by step (polarity filter, merge,
//! pooling, crop, mirror.y then mirror.x then the diagonal swap, monitor,
//! destinations), at `dvs::transform` and through the chip.

mod common;

use common::*;
use spikehdl_model::config::{DvsLayerConfig, Xy, XyFlags};
use spikehdl_model::dvs::transform;
use spikehdl_model::validate::DvsLayer;
use spikehdl_model::{HostInput, HostOutput};

fn validated(d: &DvsLayerConfig) -> DvsLayer {
    let mut cfg = config(vec![]);
    cfg.dvs_layer = Some(d.clone());
    valid(&cfg).dvs.expect("DVS layer configured")
}

fn with(f: impl FnOnce(&mut DvsLayerConfig)) -> DvsLayer {
    let mut d = dvs_layer();
    f(&mut d);
    validated(&d)
}

#[test]
fn polarity_filter() {
    let both = with(|_| {});
    assert_eq!(transform(&both, 3, 4, 0), Some((0, 3, 4)));
    assert_eq!(transform(&both, 3, 4, 1), Some((1, 3, 4)));
    let no_on = with(|d| d.on_channel = false);
    assert_eq!(transform(&no_on, 3, 4, 1), None);
    assert_eq!(transform(&no_on, 3, 4, 0), Some((0, 3, 4)));
    let no_off = with(|d| d.off_channel = false);
    assert_eq!(transform(&no_off, 3, 4, 0), None);
    assert_eq!(transform(&no_off, 3, 4, 1), Some((1, 3, 4)));
    let none = with(|d| {
        d.on_channel = false;
        d.off_channel = false;
    });
    assert_eq!(transform(&none, 3, 4, 0), None);
    assert_eq!(transform(&none, 3, 4, 1), None);
    // The filter looks at the polarity before merge turns it into channel 0.
    let merged_no_on = with(|d| {
        d.merge = true;
        d.on_channel = false;
    });
    assert_eq!(transform(&merged_no_on, 3, 4, 1), None);
    assert_eq!(transform(&merged_no_on, 3, 4, 0), Some((0, 3, 4)));
}

#[test]
fn merge_puts_both_polarities_on_channel_0() {
    let m = with(|d| d.merge = true);
    assert_eq!(transform(&m, 9, 2, 1), Some((0, 9, 2)));
    assert_eq!(transform(&m, 9, 2, 0), Some((0, 9, 2)));
    assert_eq!(m.output_shape(), (1, 128, 128));
    assert_eq!(with(|_| {}).output_shape(), (2, 128, 128));
}

#[test]
fn pooling_floors_per_axis() {
    let p = with(|d| d.pooling = Some(Xy { x: 4, y: 2 }));
    assert_eq!(transform(&p, 7, 5, 1), Some((1, 1, 2)));
    assert_eq!(transform(&p, 8, 6, 1), Some((1, 2, 3)));
    assert_eq!(transform(&p, 3, 1, 0), Some((0, 0, 0)));
    assert_eq!(transform(&p, 127, 127, 0), Some((0, 31, 63)));
    assert_eq!(p.output_shape(), (2, 32, 64));
    let p = with(|d| d.pooling = Some(Xy { x: 1, y: 4 }));
    assert_eq!(transform(&p, 127, 127, 0), Some((0, 127, 31)));
}

#[test]
fn crop_is_inclusive_and_in_pooled_coordinates() {
    // Pooled 64×64; keep x 10..=12, y 20..=25.
    let c = with(|d| {
        d.pooling = Some(Xy { x: 2, y: 2 });
        d.origin = Some(Xy { x: 10, y: 20 });
        d.cut = Some(Xy { x: 12, y: 25 });
    });
    assert_eq!(c.output_shape(), (2, 3, 6));
    // Raw (21, 41) pools to (10, 20): the origin, kept at (0, 0).
    assert_eq!(transform(&c, 21, 41, 1), Some((1, 0, 0)));
    assert_eq!(transform(&c, 20, 40, 1), Some((1, 0, 0)));
    // The cut corner, inclusive.
    assert_eq!(transform(&c, 25, 51, 0), Some((0, 2, 5)));
    // One pooled pixel outside on each side.
    assert_eq!(transform(&c, 19, 41, 0), None);
    assert_eq!(transform(&c, 26, 41, 0), None);
    assert_eq!(transform(&c, 21, 39, 0), None);
    assert_eq!(transform(&c, 21, 52, 0), None);
    // Raw coordinates inside the raw window 10..=12 would be dropped: crop happens after pooling.
    assert_eq!(transform(&c, 11, 21, 0), None);
}

#[test]
fn flips_are_mirror_y_then_mirror_x_then_diagonal_on_the_cropped_size() {
    // Crop to 5×3 (x by y) at origin (2, 1): Wc = 5, Hc = 3.
    let flip = |mx: bool, my: bool, diag: bool| {
        with(|d| {
            d.origin = Some(Xy { x: 2, y: 1 });
            d.cut = Some(Xy { x: 6, y: 3 });
            d.mirror = XyFlags { x: mx, y: my };
            d.mirror_diagonal = diag;
        })
    };
    // Raw (3, 1) is (1, 0) in the cropped window.
    let cases = [
        ((false, false, false), (1, 0)),
        ((true, false, false), (3, 0)),
        ((false, true, false), (1, 2)),
        ((false, false, true), (0, 1)),
        ((true, true, false), (3, 2)),
        ((true, false, true), (0, 3)),
        ((false, true, true), (2, 1)),
        ((true, true, true), (2, 3)),
    ];
    for ((mx, my, diag), (x, y)) in cases {
        let d = flip(mx, my, diag);
        assert_eq!(transform(&d, 3, 1, 1), Some((1, x, y)), "mirror x {mx}, y {my}, diagonal {diag}");
        let want = if diag { (2, 3, 5) } else { (2, 5, 3) };
        assert_eq!(d.output_shape(), want);
    }
    // The whole pipeline on one event: pool (2, 4), crop origin (3, 5) cut (10, 7) → 8×3,
    // raw (9, 23) → pooled (4, 5) → cropped (1, 0) → mirror.y (1, 2) → mirror.x (6, 2) → swap (2, 6).
    let d = with(|d| {
        d.pooling = Some(Xy { x: 2, y: 4 });
        d.origin = Some(Xy { x: 3, y: 5 });
        d.cut = Some(Xy { x: 10, y: 7 });
        d.mirror = XyFlags { x: true, y: true };
        d.mirror_diagonal = true;
        d.merge = true;
    });
    assert_eq!(transform(&d, 9, 23, 1), Some((0, 2, 6)));
    assert_eq!(d.output_shape(), (1, 3, 8));
}

/// A relay core on an input map of `c`×`w`×`h` that fires feature c for channel c.
fn relay(c: i64, w: i64, h: i64) -> spikehdl_model::config::CnnLayerConfig {
    let mut l = pointwise(c, c, w, h);
    set_weights(&mut l, |f, ci, _, _| i64::from(f == ci));
    l.threshold_high = 1;
    l.monitor_enable = true;
    l
}

#[test]
fn monitor_then_destinations_through_the_chip() {
    // DVS pooled by 4 (32×32, 2 channels) → cores 2 and 1, in that order.
    let mut cfg = config(vec![None, Some(relay(2, 32, 32)), Some(relay(2, 32, 32))]);
    let mut d = dvs_layer();
    d.pooling = Some(Xy { x: 4, y: 4 });
    d.monitor_enable = true;
    d.destinations = vec![dvs_dest(2), dvs_dest(1)];
    cfg.dvs_layer = Some(d);
    let mut chip = chip_model(&cfg);
    let out = run(&mut chip, &[HostInput::Dvs { x: 13, y: 126, p: 1 }]);
    assert_eq!(
        out,
        vec![
            HostOutput::Monitor { layer: 13, f: 1, x: 3, y: 31 },
            HostOutput::Monitor { layer: 2, f: 1, x: 3, y: 31 },
            HostOutput::Monitor { layer: 1, f: 1, x: 3, y: 31 },
        ]
    );
    let r = chip.router_counters();
    assert_eq!((r.dvs_in, r.dvs_out), (1, 1));
    assert_eq!(r.delivered, vec![0, 1, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(r.drops, vec![0; 10]);

    // Filtered events are counted in but not out, and go nowhere.
    let mut cfg = cfg.clone();
    let d = cfg.dvs_layer.as_mut().unwrap();
    d.off_channel = false;
    d.destinations[0].enable = false;
    let mut chip = chip_model(&cfg);
    let out = run(&mut chip, &[HostInput::Dvs { x: 13, y: 126, p: 0 }, HostInput::Dvs { x: 0, y: 4, p: 1 }]);
    assert_eq!(
        out,
        vec![HostOutput::Monitor { layer: 13, f: 1, x: 0, y: 1 }, HostOutput::Monitor { layer: 1, f: 1, x: 0, y: 1 }]
    );
    let r = chip.router_counters();
    assert_eq!((r.dvs_in, r.dvs_out), (2, 1));
    assert_eq!(r.delivered, vec![0, 1, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn cropped_and_flipped_events_reach_the_core_in_output_coordinates() {
    // Crop 5×3 with the diagonal swap → a 3×5 map; merged to one channel.
    let mut d = dvs_layer();
    d.origin = Some(Xy { x: 2, y: 1 });
    d.cut = Some(Xy { x: 6, y: 3 });
    d.mirror_diagonal = true;
    d.merge = true;
    d.destinations = vec![dvs_dest(0)];
    let mut l = relay(1, 3, 5);
    l.destinations[0] = to_host(1, 4);
    let mut cfg = config(vec![Some(l)]);
    cfg.dvs_layer = Some(d);
    let mut chip = chip_model(&cfg);
    let out = run(&mut chip, &[HostInput::Dvs { x: 6, y: 1, p: 0 }, HostInput::Dvs { x: 7, y: 1, p: 0 }]);
    // (6, 1) → cropped (4, 0) → swapped (0, 4); (7, 1) is outside the crop.
    assert_eq!(
        out,
        vec![HostOutput::Monitor { layer: 0, f: 0, x: 0, y: 4 }, HostOutput::Spike { layer: 0, f: 4, x: 0, y: 4 }]
    );
    // Without a DVS layer, DVS events are accepted and go nowhere.
    let mut chip = chip_model(&config(vec![Some(relay(1, 3, 5))]));
    assert!(run(&mut chip, &[HostInput::Dvs { x: 6, y: 1, p: 0 }]).is_empty());
    assert_eq!(chip.core_counters(0).items_in, 0);
}
