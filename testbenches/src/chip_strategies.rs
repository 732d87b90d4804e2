//! proptest generators for whole-chip runs: random topologies on a chip
//! preset (chains, fan-out 2, fan-in merges, concatenation via
//! feature_shift, DVS into one or two cores, readout to the host, pooling
//! 1/2/4 with sizes not divisible by it, monitors on and off), random host
//! item streams and random host output backpressure.
//!
//! Layers come from [`crate::strategies::layer`] (validated by the model);
//! the topology then sets destinations so that every edge goes from a lower
//! to a higher core id (no cycles), and resizes nothing: events that fall
//! outside a destination's input shape are dropped and counted, which the
//! checks cover too.

use proptest::prelude::*;
use spikehdl_model::presets::{CoreCapacity, HOST_LAYER};
use spikehdl_model::validate::{Destination, DvsLayer};
use spikehdl_model::{HostInput, Layer, ValidConfig};

use crate::chip_dut::ChipRunOpts;
use crate::strategies::layer;

/// One whole-chip case.
#[derive(Debug, Clone)]
pub struct ChipCase {
    pub cfg: ValidConfig,
    pub items: Vec<HostInput>,
    pub opts: ChipRunOpts,
    /// What the topology generator chose (for the transcript).
    pub topology: String,
}

fn pooling() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), Just(2u32), Just(4u32)]
}

/// Topology kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topo {
    /// DVS -> 0 -> 1 -> ... -> last -> host
    Chain,
    /// DVS -> 0 -> {1, 2}
    FanOut,
    /// DVS -> {0, 1} -> 2 (residual sum: same channels)
    FanIn,
    /// DVS -> {0, 1} -> 2 with core 1's features shifted past core 0's (concatenation)
    Concat,
    /// Host spikes only, random destinations (lower -> higher id or host)
    Random,
}

fn dest(layer: u8, pooling: u32, shift: u32) -> Destination {
    Destination { layer, enable: true, pooling, feature_shift: shift }
}

fn off() -> Destination {
    Destination { layer: 0, enable: false, pooling: 1, feature_shift: 0 }
}

/// A DVS layer whose crop is small enough to land mostly inside a tiny core.
fn dvs_layer() -> impl Strategy<Value = DvsLayer> {
    (pooling(), pooling(), 0u32..6, 0u32..6, 1u32..10, 1u32..10, any::<[bool; 4]>(), prop::bool::weighted(0.8), prop::bool::weighted(0.8), any::<bool>())
        .prop_map(|(px, py, ox, oy, wx, wy, [mx, my, md, merge], on, off_ch, mon)| DvsLayer {
            pool_x: px,
            pool_y: py,
            origin_x: ox,
            origin_y: oy,
            cut_x: ox + wx - 1,
            cut_y: oy + wy - 1,
            mirror_x: mx,
            mirror_y: my,
            mirror_diagonal: md,
            merge,
            on_channel: on,
            off_channel: off_ch,
            monitor_enable: mon,
            destinations: [None, None],
        })
}

/// A random topology on a chip with `caps` (at least 2 cores; uses up to 3).
pub fn chip_config(caps: Vec<CoreCapacity>) -> impl Strategy<Value = (ValidConfig, String)> {
    let n = caps.len();
    let used = n.min(3);
    let cap = caps[0];
    let topo = if used >= 3 {
        prop_oneof![Just(Topo::Chain), Just(Topo::FanOut), Just(Topo::FanIn), Just(Topo::Concat), Just(Topo::Random)].boxed()
    } else {
        prop_oneof![Just(Topo::Chain), Just(Topo::Random)].boxed()
    };
    (
        topo,
        proptest::collection::vec(layer(cap, 10), used),
        dvs_layer(),
        proptest::collection::vec((pooling(), pooling(), 0u32..3, any::<bool>(), any::<bool>(), any::<bool>()), used),
    )
        .prop_map(move |(topo, mut layers, mut dvs, knobs, )| {
            for (l, k) in layers.iter_mut().zip(&knobs) {
                l.monitor_enable = k.3;
                l.destinations = [off(), off()];
            }
            let last = used - 1;
            let mut desc = format!("{topo:?}");
            match topo {
                Topo::Chain => {
                    dvs.destinations = [Some(0), None];
                    for i in 0..last {
                        layers[i].destinations[0] = dest(i as u8 + 1, knobs[i].0, knobs[i].2);
                    }
                    layers[last].destinations[0] = dest(HOST_LAYER, knobs[last].0, 0);
                }
                Topo::FanOut => {
                    dvs.destinations = [Some(0), None];
                    layers[0].destinations = [dest(1, knobs[0].0, 0), dest(2, knobs[0].1, knobs[0].2)];
                    layers[1].destinations[0] = dest(HOST_LAYER, knobs[1].0, 0);
                    layers[2].destinations[1] = dest(HOST_LAYER, 1, knobs[2].2);
                }
                Topo::FanIn | Topo::Concat => {
                    dvs.destinations = [Some(0), Some(1)];
                    let shift = if topo == Topo::Concat { layers[0].f } else { 0 };
                    layers[0].destinations[0] = dest(2, knobs[0].0, 0);
                    layers[1].destinations[1] = dest(2, knobs[0].0, shift.min(1023));
                    layers[2].destinations[0] = dest(HOST_LAYER, knobs[2].0, 0);
                }
                Topo::Random => {
                    dvs.destinations = [if knobs[0].4 { Some(0) } else { None }, if knobs[0].5 && used > 1 { Some(1) } else { None }];
                    for i in 0..used {
                        for d in 0..2 {
                            let roll = (knobs[i].2 as usize + d + i) % 3;
                            if roll == 0 || (d == 1 && !knobs[i].4) {
                                continue;
                            }
                            let tgt = if i + 1 < used && roll == 1 { (i + 1 + d).min(last) as u8 } else { HOST_LAYER };
                            if tgt as usize == i {
                                continue;
                            }
                            layers[i].destinations[d] = dest(tgt, if d == 0 { knobs[i].0 } else { knobs[i].1 }, knobs[i].2);
                        }
                    }
                }
            }
            for (i, l) in layers.iter().enumerate() {
                desc.push_str(&format!(
                    "; core {i}: C{} {}x{} -> F{} {}x{} k{} mon {} dests {:?}",
                    l.c, l.w_in, l.h_in, l.f, l.w_out, l.h_out, l.k, l.monitor_enable,
                    l.destinations.iter().filter(|d| d.enable).map(|d| (d.layer, d.pooling, d.feature_shift)).collect::<Vec<_>>()
                ));
            }
            desc.push_str(&format!("; dvs {dvs:?}"));
            let mut all: Vec<Option<Layer>> = layers.into_iter().map(Some).collect();
            all.resize(n, None);
            (ValidConfig { capacities: caps.clone(), layers: all, dvs: Some(dvs), allow_cycles: false }, desc)
        })
}

/// Host items for `cfg`: DVS events biased into the crop window, spikes into
/// cores, some leak ticks, writes and reads; then (optionally) a read of every neuron.
pub fn host_items(cfg: &ValidConfig, max_items: usize, readback: bool) -> impl Strategy<Value = Vec<HostInput>> {
    let d = cfg.dvs.expect("generated configs have a DVS layer");
    let (x0, x1) = (d.origin_x * d.pool_x, ((d.cut_x + 1) * d.pool_x).min(128));
    let (y0, y1) = (d.origin_y * d.pool_y, ((d.cut_y + 1) * d.pool_y).min(128));
    let cores: Vec<(u8, Layer)> = cfg.layers.iter().enumerate().filter_map(|(i, l)| l.clone().map(|l| (i as u8, l))).collect();
    let cores2 = cores.clone();
    let spike = proptest::sample::select(cores.clone()).prop_flat_map(|(i, l)| {
        (Just(i), 0..l.c as u16, 0..l.w_in as u16, 0..l.h_in as u16).prop_map(|(layer, c, x, y)| HostInput::Spike { layer, c, x, y })
    });
    let rw = proptest::sample::select(cores.clone()).prop_flat_map(|(i, l)| {
        (Just(i), 0..l.f as u16, 0..l.w_out as u16, 0..l.h_out as u16, any::<bool>(), -300i16..300).prop_map(|(layer, f, x, y, w, value)| {
            if w {
                HostInput::WriteNeuron { layer, f, x, y, value }
            } else {
                HostInput::ReadNeuron { layer, f, x, y }
            }
        })
    });
    let item = prop_oneof![
        10 => (x0..x1.max(x0 + 1), y0..y1.max(y0 + 1), 0u8..2).prop_map(|(x, y, p)| HostInput::Dvs { x: x as u16, y: y as u16, p }),
        1 => (0u16..128, 0u16..128, 0u8..2).prop_map(|(x, y, p)| HostInput::Dvs { x, y, p }),
        4 => spike,
        1 => Just(HostInput::LeakTick),
        1 => rw,
    ];
    proptest::collection::vec(item, 0..=max_items).prop_map(move |mut v| {
        if readback {
            for (i, l) in &cores2 {
                for it in spikehdl_hdl::regmap::readback_items(l) {
                    if let spikehdl_model::CoreItem::ReadNeuron { f, x, y } = it {
                        v.push(HostInput::ReadNeuron { layer: *i, f, x, y });
                    }
                }
            }
        }
        v
    })
}

/// Host output backpressure and input gaps.
pub fn run_opts() -> impl Strategy<Value = ChipRunOpts> {
    (prop_oneof![2 => Just(0u8), 1 => Just(90u8), 3 => 0u8..=80], prop_oneof![3 => Just(0u8), 1 => 0u8..=50], any::<u64>())
        .prop_map(|(out_stall, in_stall, seed)| ChipRunOpts { out_stall, in_stall, seed, max_cycles: 20_000_000, watchdog: 200_000 })
}

/// A complete case on a chip with capacities `caps`.
pub fn chip_case(caps: Vec<CoreCapacity>, max_items: usize) -> impl Strategy<Value = ChipCase> {
    chip_config(caps).prop_flat_map(move |(cfg, topology)| {
        let items = host_items(&cfg, max_items, true);
        // Without host spikes, chains and fan-outs are single-source: the end-to-end comparison applies.
        (Just(cfg), Just(topology), items, run_opts(), any::<bool>()).prop_map(|(cfg, topology, mut items, opts, host_spikes)| {
            if !host_spikes {
                items.retain(|i| !matches!(i, HostInput::Spike { .. }));
            }
            ChipCase { cfg, items, opts, topology }
        })
    })
}
