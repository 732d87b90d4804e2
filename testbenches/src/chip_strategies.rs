//! proptest generators for whole-chip runs: random topologies on a chip
//! preset, random host item streams and random host output backpressure.
//!
//! Topologies are drawn over *logical* nodes (chain, fan-out 2, fan-in merge,
//! concatenation via feature_shift, a random DAG with fan-in and fan-out, a
//! self-loop, a two-core cycle), and the logical nodes are then placed on a
//! random permutation of the chip's cores, so edges go from any core id to
//! any other, as in real mappings (Sinabs' max-flow placement, our importer).
//! Further knobs: DVS into one or two cores, readout to the host, pooling
//! 1/2/4 with sizes it does not divide, monitors on and off, unused cores.
//!
//! Cycles (`allow_cycles`) settle by construction: a node on a cycle has
//! F = 1 and a 1×1 kernel (one input causes at most one spike) and no leak,
//! and the cycle's back edge lands, through `feature_shift`, on an input
//! channel whose weights are all zero (an update with a zero weight changes
//! nothing and never spikes). Every edge of the cycle still carries traffic
//! through the router. That settles logically, not physically: with input
//! events streaming in, a cycle core's 4-deep input queue can fill with them
//! while its own output waits for room in that queue (both stall for good;
//! spec §5 allows a cycle to deadlock). So cyclic cases present their items
//! one at a time ([`ChipRunOpts::serial`]); at most one event per input then
//! circulates and the queues cannot deadlock.
//!
//! Layers otherwise come from [`crate::strategies::layer`] (validated by the
//! model) and nothing is resized: events that fall outside a destination's
//! input shape are dropped and counted, which the checks cover too.

use proptest::prelude::*;
use spikehdl_model::presets::{CoreCapacity, HOST_LAYER};
use spikehdl_model::validate::{Destination, DvsLayer};
use spikehdl_model::{HostInput, Layer, ValidConfig};

use crate::chip_dut::ChipRunOpts;
use crate::strategies::{build_layer, layer, state, weight, Geometry};

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

/// Topology kinds, over logical nodes 0, 1, 2 (placed on permuted cores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topo {
    /// DVS -> 0 -> 1 -> ... -> last -> host
    Chain,
    /// DVS -> 0 -> {1, 2}
    FanOut,
    /// DVS -> {0, 1} -> 2 (residual sum: same channels)
    FanIn,
    /// DVS -> {0, 1} -> 2 with node 1's features shifted past node 0's (concatenation)
    Concat,
    /// Each node sends to up to two later nodes or the host; DVS into one or two nodes
    Dag,
    /// DVS -> 0 -> {0 (back edge onto a zero-weight channel), host}
    SelfLoop,
    /// DVS -> 0 -> 1 -> {0 (zero-weight channel), host}
    TwoCycle,
}

fn dest(layer: u8, pooling: u32, shift: u32) -> Destination {
    Destination { chip: None, layer, enable: true, pooling, feature_shift: shift }
}

fn off() -> Destination {
    Destination { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 }
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

/// A layer that may sit on a cycle: C input channels of which the last
/// `zero_channels` have all-zero weights, F = 1, 1×1 kernel, stride 1, no leak.
fn loop_layer(cap: CoreCapacity, c: u32, zero_channels: u32) -> impl Strategy<Value = Layer> {
    (1u32..=6, 1u32..=6, 1i64..=300)
        .prop_flat_map(move |(w, h, th)| {
            let tl = prop_oneof![Just(-32768i64), Just(th - 1), -32768i64..th];
            let live = (c - zero_channels) as usize;
            let init = proptest::collection::vec(state(th), (w * h) as usize);
            (Just((w, h, th)), tl, proptest::collection::vec(weight(), live), state(th), init, any::<bool>())
        })
        .prop_map(move |((w, h, th), tl, mut weights, bias, init, rtz)| {
            weights.resize(c as usize, 0);
            let g = Geometry { k: 1, stride: (1, 1), pad: (0, 0), w_in: w, h_in: h, w_out: w, h_out: h, c, f: 1 };
            build_layer(cap, &g, th, tl, &weights, &[bias], &init, rtz, false)
        })
}

/// A random topology on a chip with `caps` (at least 2 cores; uses 2 or 3).
pub fn chip_config(caps: Vec<CoreCapacity>) -> impl Strategy<Value = (ValidConfig, String)> {
    let n = caps.len();
    let cap = caps[0];
    let max_used = n.min(3);
    let used = if max_used >= 3 { prop_oneof![3 => Just(3usize), 1 => Just(2usize)].boxed() } else { Just(max_used).boxed() };
    let topo = used.prop_flat_map(move |used| {
        let t = if used >= 3 {
            prop_oneof![
                2 => Just(Topo::Chain), 1 => Just(Topo::FanOut), 1 => Just(Topo::FanIn), 1 => Just(Topo::Concat),
                3 => Just(Topo::Dag), 1 => Just(Topo::SelfLoop), 1 => Just(Topo::TwoCycle)
            ]
            .boxed()
        } else {
            prop_oneof![2 => Just(Topo::Chain), 3 => Just(Topo::Dag), 1 => Just(Topo::SelfLoop), 1 => Just(Topo::TwoCycle)].boxed()
        };
        (Just(used), t)
    });
    let perm = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
    (topo, perm).prop_flat_map(move |((used, topo), perm)| {
        let layers = match topo {
            Topo::SelfLoop => (loop_layer(cap, 2, 1), proptest::collection::vec(layer(cap, 10), used - 1))
                .prop_map(|(l0, rest)| std::iter::once(l0).chain(rest).collect::<Vec<_>>())
                .boxed(),
            Topo::TwoCycle => (loop_layer(cap, 2, 1), loop_layer(cap, 1, 0), proptest::collection::vec(layer(cap, 10), used - 2))
                .prop_map(|(l0, l1, rest)| [l0, l1].into_iter().chain(rest).collect::<Vec<_>>())
                .boxed(),
            _ => proptest::collection::vec(layer(cap, 10), used).boxed(),
        };
        (
            Just((used, topo, perm)),
            layers,
            dvs_layer(),
            proptest::collection::vec((pooling(), pooling(), 0u32..3, any::<bool>(), any::<bool>(), any::<bool>()), used),
            proptest::collection::vec((0usize..=used, 0usize..=used), used),
        )
    })
    .prop_map(move |((used, topo, perm), mut layers, mut dvs, knobs, dag)| {
        for (l, k) in layers.iter_mut().zip(&knobs) {
            l.monitor_enable = k.3;
            l.destinations = [off(), off()];
        }
        // Logical node -> physical core id.
        let at = |k: usize| perm[k] as u8;
        let last = used - 1;
        let mut cycles = false;
        match topo {
            Topo::Chain => {
                dvs.destinations = [Some(at(0)), None];
                for i in 0..last {
                    layers[i].destinations[0] = dest(at(i + 1), knobs[i].0, knobs[i].2);
                }
                layers[last].destinations[0] = dest(HOST_LAYER, knobs[last].0, 0);
            }
            Topo::FanOut => {
                dvs.destinations = [Some(at(0)), None];
                layers[0].destinations = [dest(at(1), knobs[0].0, 0), dest(at(2), knobs[0].1, knobs[0].2)];
                layers[1].destinations[0] = dest(HOST_LAYER, knobs[1].0, 0);
                layers[2].destinations[1] = dest(HOST_LAYER, 1, knobs[2].2);
            }
            Topo::FanIn | Topo::Concat => {
                dvs.destinations = [Some(at(0)), Some(at(1))];
                let shift = if topo == Topo::Concat { layers[0].f } else { 0 };
                layers[0].destinations[0] = dest(at(2), knobs[0].0, 0);
                layers[1].destinations[1] = dest(at(2), knobs[0].0, shift.min(1023));
                layers[2].destinations[0] = dest(HOST_LAYER, knobs[2].0, 0);
            }
            Topo::Dag => {
                // Edges only to later logical nodes (acyclic), which the
                // permutation turns into any physical order.
                let first = dag[0].0 % used;
                let second = (knobs[0].4 && used > 1).then(|| (first + 1 + dag[0].1 % (used - 1)) % used);
                dvs.destinations = [Some(at(first)), second.map(at)];
                for i in 0..used {
                    for (d, pick) in [dag[i].0, dag[i].1].into_iter().enumerate() {
                        // pick in 0..=used: 0 = off, 1 = host, else a later node (if any).
                        let later = last - i;
                        let target = match pick {
                            0 => continue,
                            1 => HOST_LAYER,
                            p if later > 0 => at(i + 1 + (p - 2) % later),
                            _ => HOST_LAYER,
                        };
                        layers[i].destinations[d] = dest(target, if d == 0 { knobs[i].0 } else { knobs[i].1 }, knobs[i].2);
                    }
                }
            }
            Topo::SelfLoop => {
                cycles = true;
                dvs.destinations = [Some(at(0)), (used > 1).then(|| at(1))];
                layers[0].destinations = [dest(at(0), knobs[0].0, 1), dest(HOST_LAYER, knobs[0].1, 0)];
                for i in 1..used {
                    layers[i].destinations[0] = dest(HOST_LAYER, knobs[i].0, 0);
                }
            }
            Topo::TwoCycle => {
                cycles = true;
                dvs.destinations = [Some(at(0)), (used > 2).then(|| at(2))];
                layers[0].destinations = [dest(at(1), knobs[0].0, 0), dest(HOST_LAYER, knobs[0].1, 0)];
                layers[1].destinations = [dest(at(0), knobs[1].0, 1), dest(HOST_LAYER, knobs[1].1, 0)];
                for i in 2..used {
                    layers[i].destinations[0] = dest(HOST_LAYER, knobs[i].0, 0);
                }
            }
        }
        let mut desc = format!("{topo:?} on cores {:?}", &perm[..used]);
        for (i, l) in layers.iter().enumerate() {
            desc.push_str(&format!(
                "; core {}: C{} {}x{} -> F{} {}x{} k{} mon {} dests {:?}",
                perm[i], l.c, l.w_in, l.h_in, l.f, l.w_out, l.h_out, l.k, l.monitor_enable,
                l.destinations.iter().filter(|d| d.enable).map(|d| (d.layer, d.pooling, d.feature_shift)).collect::<Vec<_>>()
            ));
        }
        desc.push_str(&format!("; dvs {dvs:?}"));
        let mut all: Vec<Option<Layer>> = vec![None; n];
        for (i, l) in layers.into_iter().enumerate() {
            all[perm[i]] = Some(l);
        }
        (ValidConfig { capacities: caps.clone(), layers: all, dvs: Some(dvs), allow_cycles: cycles }, desc)
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
        .prop_map(|(out_stall, in_stall, seed)| ChipRunOpts { out_stall, in_stall, seed, max_cycles: 20_000_000, watchdog: 200_000, budget: None, serial: false })
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
            let opts = ChipRunOpts { serial: cfg.allow_cycles, ..opts };
            ChipCase { cfg, items, opts, topology }
        })
    })
}
