//! Graphs beyond chains: residual sums, branches, the DVS layer into two
//! layers, and the graphs the chip cannot take. The integers, thresholds and
//! destinations are computed by hand from Sinabs 3's rules (per-layer
//! scale from the layer's own weights and threshold; a merge changes no
//! scale; average pooling rescales the next weights by 1/(k·k)). Weights
//! are chosen exactly representable in f32 so that the products are exact.
//!
//! The model's output on a residual network is compared with a dense,
//! time-stepped integer evaluation of the NIR graph written here (sums at
//! every multi-input node, forward convolutions), on networks where the
//! order of events cannot matter.

use std::collections::BTreeMap;

use spikehdl_model::config::CnnLayerConfig;
use spikehdl_model::presets::HOST_LAYER;
use spikehdl_model::{ChipModel, HostInput, HostOutput, Timed};
use spikehdl_nir::build::{conv2d, graph, if_node, input, output, pool, uniform};
use spikehdl_nir::{import_graph, DestinationReport, Graph, ImportError, Imported, Options};

mod common;
use common::{cycle, dvs_into_two, order_free_residual, residual, two_branches};

fn err(r: Result<Imported, ImportError>) -> String {
    match r {
        Ok(_) => panic!("import unexpectedly succeeded"),
        Err(e) => e.to_string(),
    }
}

fn layer<'a>(imp: &'a Imported, node: &str) -> (&'a spikehdl_nir::LayerReport, &'a CnnLayerConfig) {
    let r = imp.layers.iter().find(|l| l.node == node).unwrap_or_else(|| panic!("no layer {node}"));
    (r, imp.config.cnn_layers[r.core].as_ref().unwrap())
}

fn flat(l: &CnnLayerConfig) -> Vec<i64> {
    l.weights.iter().flatten().flatten().flatten().copied().collect()
}

/// Enabled destinations as (layer, pooling).
fn dests(l: &CnnLayerConfig) -> Vec<(i64, i64)> {
    l.destinations.iter().filter(|d| d.enable).map(|d| (d.layer, d.pooling)).collect()
}

/// Hand-computed (Sinabs 3, sum pooling):
/// - c1: max 0.5 → scale 127/0.5 = 254 (weights; bias zero; thresholds
///   32767/1): 0.5→127, 0.25→63.5→64, −0.125→−31.75→−32, 0.375→95.25→95,
///   −0.25→−63.5→−64; threshold ±254.
/// - c2: weights max 0.25 → 508; bias 0.0625 → 127/0.0625 = 2032; so 508:
///   ±0.25→±127, 0.125→63.5→64, bias 31.75→32; threshold 0.75·508 = 381.
/// - c3: max 1.0 → 127: 0.25→31.75→32, −0.5→−63.5→−64; threshold 3·127 = 381.
///   Its two sources (p1 and s2) change nothing: one scale per layer.
/// - fc: max 0.125 → 1016: −0.0625→−63.5→−64; threshold 2·1016 = 2032.
#[test]
fn a_residual_block_imports_to_sinabs_integers_and_two_sources_into_one_core() {
    let imp = import_graph(&residual(false), &Options::default()).unwrap();
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    assert!(imp.dvs);
    let order: Vec<&str> = imp.layers.iter().map(|l| l.node.as_str()).collect();
    assert_eq!(order, ["c1", "c2", "c3", "fc"]);

    let (r1, c1) = layer(&imp, "c1");
    let (r2, c2) = layer(&imp, "c2");
    let (r3, c3) = layer(&imp, "c3");
    let (r4, fc) = layer(&imp, "fc");
    let want1: Vec<i64> = cycle(&[127.0, 64.0, -32.0, 95.0, 0.0, -64.0], 72).iter().map(|&v| v as i64).collect();
    assert_eq!(flat(c1), want1);
    assert_eq!((c1.threshold_high, c1.threshold_low), (254, -254));
    let want2: Vec<i64> = cycle(&[127.0, -127.0, 64.0, 0.0], 144).iter().map(|&v| v as i64).collect();
    assert_eq!(flat(c2), want2);
    assert_eq!(c2.biases.as_deref(), Some(&[32i64, 0, 0, 0][..]));
    assert_eq!((c2.threshold_high, c2.threshold_low), (381, -381));
    assert!(c2.leak_enable && !c1.leak_enable);
    let want3: Vec<i64> = cycle(&[127.0, 32.0, -64.0], 16).iter().map(|&v| v as i64).collect();
    assert_eq!(flat(c3), want3);
    assert_eq!((c3.threshold_high, c3.threshold_low), (381, -381));
    let want4: Vec<i64> = cycle(&[127.0, -64.0, 0.0], 768).iter().map(|&v| v as i64).collect();
    assert_eq!(flat(fc), want4);
    assert_eq!((fc.threshold_high, fc.threshold_low), (2032, -2032));
    for r in [r1, r2, r3, r4] {
        assert_eq!(r.rescale_factor, 1.0, "{}", r.node);
    }

    // Destinations: c1 to both c2 and c3 through its pooling; c2 into c3
    // (the skip connection's other side); c3 to fc; fc to the host.
    let core = |r: &spikehdl_nir::LayerReport| r.core as i64;
    assert_eq!(dests(c1), vec![(core(r2), 2), (core(r3), 2)]);
    assert_eq!(dests(c2), vec![(core(r3), 1)]);
    assert_eq!(dests(c3), vec![(core(r4), 1)]);
    assert_eq!(dests(fc), vec![(i64::from(HOST_LAYER), 1)]);
    assert_eq!(r3.sources, vec!["s1", "s2"]);
    assert_eq!(r1.sources, vec!["in"]);
    assert_eq!(
        r1.destinations,
        vec![
            DestinationReport { to: "c2".into(), chip: None, layer: r2.core, pooling: 2, via: vec!["p1".into()] },
            DestinationReport { to: "c3".into(), chip: None, layer: r3.core, pooling: 2, via: vec!["p1".into()] },
        ]
    );
    // The DVS layer feeds c1 without pooling, merging nothing (2 channels).
    let dvs = imp.config.dvs_layer.as_ref().unwrap();
    assert_eq!(dvs.destinations.iter().filter(|d| d.enable).map(|d| d.layer).collect::<Vec<_>>(), vec![core(r1)]);
    assert_eq!(imp.entry_cores, vec![r1.core]);
    // The emitted text is a configuration `check` accepts.
    spikehdl_model::parse_and_validate(&serde_json::to_string(&imp.config).unwrap()).unwrap();
}

/// With average pooling p1, Sinabs adds the factor 1/4 to both of p1's
/// destinations. c2 has only that one: its weights are multiplied by 0.25
/// (so its scale is 4× larger: 2032, threshold 0.75·2032 = 1524, the same
/// weight integers). c3 gets {0.25 (from p1), 1.0 (from s2)}: conflicting
/// factors, which DynapcnnNetwork's default rescale_method_1 resolves to
/// round(mean(0.25, 1) · 0.5, 2) = round(0.3125, 2) = 0.31 — warned.
/// c3's weights (1, 0.25, −0.5) · 0.31 in f32: max 0.31 → scale 127/0.31;
/// the integers are 127, 0.0775·409.677 = 31.75 → 32, −63.5 → −64, and
/// the threshold 3 · 409.67743 = 1229.03 → 1229.
#[test]
fn average_pooling_before_a_merge_rescales_like_sinabs_3() {
    let imp = import_graph(&residual(true), &Options::default()).unwrap();
    let (r2, c2) = layer(&imp, "c2");
    let (r3, c3) = layer(&imp, "c3");
    assert_eq!(r2.rescale_factor, 0.25);
    assert_eq!(flat(c2), cycle(&[127.0, -127.0, 64.0, 0.0], 144).iter().map(|&v| v as i64).collect::<Vec<_>>());
    assert_eq!(c2.threshold_high, 1524);
    assert_eq!(r3.rescale_factor, 0.31);
    assert_eq!(flat(c3), cycle(&[127.0, 32.0, -64.0], 16).iter().map(|&v| v as i64).collect::<Vec<_>>());
    let scale = 127.0f32 / (1.0f32 * 0.31f32);
    assert_eq!(r3.scales.chosen, scale);
    assert_eq!(c3.threshold_high, (3.0f32 * scale).round_ties_even() as i64);
    assert_eq!(c3.threshold_high, 1229);
    let w = imp.warnings.join("\n");
    assert!(w.contains("layer \"c3\": its sources arrive through different average poolings") && w.contains("= 0.31"), "{w}");
    // No other layer is rescaled.
    assert_eq!(layer(&imp, "c1").0.rescale_factor, 1.0);
    assert_eq!(layer(&imp, "fc").0.rescale_factor, 1.0);
}

#[test]
fn two_branches_merging_give_fan_out_and_fan_in() {
    let imp = import_graph(&two_branches(), &Options::default()).unwrap();
    let order: Vec<&str> = imp.layers.iter().map(|l| l.node.as_str()).collect();
    assert_eq!(order, ["c1", "a", "b", "m"]);
    let (ra, _) = layer(&imp, "a");
    let (rb, _) = layer(&imp, "b");
    let (rm, m) = layer(&imp, "m");
    let (_, c1) = layer(&imp, "c1");
    assert_eq!(dests(c1), vec![(ra.core as i64, 1), (rb.core as i64, 1)]);
    assert_eq!(dests(layer(&imp, "a").1), vec![(rm.core as i64, 1)]);
    assert_eq!(dests(layer(&imp, "b").1), vec![(rm.core as i64, 1)]);
    assert_eq!(rm.sources, vec!["sa", "sb"]);
    assert_eq!(dests(m), vec![(i64::from(HOST_LAYER), 1)]);
    // one input channel: the DVS layer merges both polarities
    assert!(imp.config.dvs_layer.as_ref().unwrap().merge);
}

#[test]
fn the_dvs_layer_feeds_two_layers_through_one_pooling() {
    let imp = import_graph(&dvs_into_two(true), &Options::default()).unwrap();
    let (ra, _) = layer(&imp, "a");
    let (rb, _) = layer(&imp, "b");
    let dvs = imp.config.dvs_layer.as_ref().unwrap();
    assert_eq!(dvs.pooling.unwrap().x, 2);
    assert_eq!(dvs.destinations.iter().map(|d| (d.layer, d.enable)).collect::<Vec<_>>(), vec![(ra.core as i64, true), (rb.core as i64, true)]);
    assert_eq!(imp.entry_cores, vec![ra.core, rb.core]);
    assert_eq!(layer(&imp, "c").0.sources, vec!["sa", "sb"]);

    // The same input pooled for one destination and not for the other cannot be one DVS layer.
    let e = err(import_graph(&dvs_into_two(false), &Options::default()));
    assert!(e.starts_with("node \"in\" (Input): its destinations are pooled differently"), "{e}");
    assert!(e.contains("\"a\" (pool 2 via \"p0\")") && e.contains("one pooling for all its destinations"), "{e}");
}

#[test]
fn a_three_way_fan_out_is_refused_naming_the_node_the_limit_and_the_way_out() {
    let mut g = residual(false);
    g.nodes.insert("out2".into(), output(&[4, 16, 16]));
    g.edges.push(("s1".into(), "out2".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"s1\" (IF): 3 destinations"), "{e}");
    assert!(e.contains("\"c2\" (pool 2 via \"p1\")") && e.contains("output \"out2\""), "{e}");
    assert!(e.contains("at most 2") && e.contains("MaxDestinationsReached"), "{e}");
    assert!(e.contains("identity layer") && e.contains("--monitor"), "{e}");
}

#[test]
fn sources_of_different_shapes_are_refused_naming_both() {
    // c3 gets p1 (4x8x8) and, instead of s2, s1 itself (4x16x16).
    let mut g = residual(false);
    g.edges.retain(|e| e != &("s2".to_string(), "c3".to_string()) && e != &("p1".to_string(), "c2".to_string()));
    g.edges.push(("s1".into(), "c3".into()));
    g.nodes.remove("c2");
    g.nodes.remove("s2");
    g.edges.retain(|(a, _)| a != "c2");
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"c3\" (Conv2d): its inputs differ in shape"), "{e}");
    assert!(e.contains("\"p1\" gives 4x8x8") && e.contains("\"s1\" gives 4x16x16"), "{e}");
}

#[test]
fn graphs_the_chip_cannot_take_get_one_error_each() {
    // A cycle: s3 back into c2.
    let mut g = residual(false);
    g.edges.push(("s3".into(), "c2".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.contains("the graph has a cycle") && e.contains("InvalidLayerLoop"), "{e}");
    assert!(e.contains("\"c2\" -> \"s2\" -> \"c3\" -> \"s3\" -> \"c2\""), "{e}");

    // Two convolutions summed into one IF node.
    let mut g = residual(false);
    g.edges.retain(|(a, b)| a != "s2" && b != "s2");
    g.edges.push(("c2".into(), "s3".into()));
    g.nodes.remove("s2");
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"s3\" (IF): 2 incoming edges (\"c3\", \"c2\")"), "{e}");
    assert!(e.contains("integrate one convolution"), "{e}");

    // A convolution feeding two IF nodes.
    let mut g = residual(false);
    g.nodes.insert("s1b".into(), if_node(&[4, 16, 16], 1.0));
    g.nodes.insert("out2".into(), output(&[4, 16, 16]));
    g.edges.push(("c1".into(), "s1b".into()));
    g.edges.push(("s1b".into(), "out2".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"c1\" (Conv2d): 2 outgoing edges"), "{e}");

    // A branch that leads nowhere, and a node the input never reaches.
    let mut g = residual(false);
    g.nodes.insert("dead".into(), pool(2, false));
    g.edges.push(("s3".into(), "dead".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"dead\" (SumPool2d): no outgoing edge"), "{e}");
    let mut g = residual(false);
    g.nodes.insert("stray".into(), conv2d(4, 4, 1, vec![1.0; 16], vec![0.0; 4], 1, 0));
    g.edges.push(("stray".into(), "s3".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.contains("\"stray\"") && (e.contains("not on a path from the Input") || e.contains("incoming edges")), "{e}");

    // The input straight to an output.
    let mut g = residual(false);
    g.nodes.insert("out2".into(), output(&[2, 16, 16]));
    g.edges.push(("in".into(), "out2".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.starts_with("node \"in\" (Input): reaches output \"out2\" without a layer"), "{e}");

    // An edge naming a node that is not there.
    let mut g = residual(false);
    g.edges.push(("s2".into(), "ghost".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.contains("edge \"s2\" -> \"ghost\" names node \"ghost\", which is not in the graph"), "{e}");

    // A repeated edge.
    let mut g = residual(false);
    g.edges.push(("s2".into(), "c3".into()));
    let e = err(import_graph(&g, &Options::default()));
    assert!(e.contains("edge \"s2\" -> \"c3\" appears twice"), "{e}");
}

#[test]
fn a_sum_into_a_pooling_node_is_two_pooled_routes() {
    // s1 (4x16x16) and s2 (4x16x16) both into pool p, then c3: pooling is
    // linear, so the chip sends both layers to c3 with pooling 2.
    let g = graph(
        vec![
            ("in", input([1, 16, 16])),
            ("c1", conv2d(4, 1, 3, uniform(8, 36, 0.0, 0.5), vec![0.0; 4], 1, 1)),
            ("s1", if_node(&[4, 16, 16], 1.0)),
            ("c2", conv2d(4, 4, 3, uniform(9, 144, 0.0, 0.25), vec![0.0; 4], 1, 1)),
            ("s2", if_node(&[4, 16, 16], 1.0)),
            ("p", pool(2, false)),
            ("c3", conv2d(2, 4, 1, uniform(10, 8, 0.0, 0.5), vec![0.0; 2], 1, 0)),
            ("s3", if_node(&[2, 8, 8], 1.0)),
            ("out", output(&[2, 8, 8])),
        ],
        &[("in", "c1"), ("c1", "s1"), ("s1", "c2"), ("s1", "p"), ("c2", "s2"), ("s2", "p"), ("p", "c3"), ("c3", "s3"), ("s3", "out")],
    );
    let imp = import_graph(&g, &Options::default()).unwrap();
    let c3 = layer(&imp, "c3").0.core as i64;
    let c2 = layer(&imp, "c2").0.core as i64;
    assert_eq!(dests(layer(&imp, "c1").1), vec![(c2, 1), (c3, 2)]);
    assert_eq!(dests(layer(&imp, "c2").1), vec![(c3, 2)]);
}

// ---------------------------------------------------------------------------
// The model against a dense evaluation of the graph.

/// A dense map: shape (C, H, W) and counts.
#[derive(Clone, Debug, PartialEq)]
struct Dense {
    shape: [usize; 3],
    v: Vec<i64>,
}

impl Dense {
    fn zeros(shape: [usize; 3]) -> Self {
        Self { shape, v: vec![0; shape.iter().product()] }
    }
    fn at(&self, c: usize, y: usize, x: usize) -> i64 {
        self.v[(c * self.shape[1] + y) * self.shape[2] + x]
    }
    fn add(&mut self, o: &Dense) {
        assert_eq!(self.shape, o.shape);
        self.v.iter_mut().zip(&o.v).for_each(|(a, b)| *a += b);
    }
}

/// One time step of the graph on integer spike counts: every node in a
/// topological order (found here by repeated passes), a multi-input node
/// sums its inputs, weight nodes convolve forward with the imported integer
/// weights, IF nodes integrate and emit floor(v / threshold) spikes,
/// subtracting them. `state` keeps the IF membranes between steps.
fn dense_step(g: &Graph, imp: &Imported, input_counts: &Dense, state: &mut BTreeMap<String, Dense>) -> BTreeMap<String, Dense> {
    let mut out: BTreeMap<String, Dense> = BTreeMap::new();
    let preds = |n: &str| -> Vec<&str> { g.edges.iter().filter(|(_, b)| b == n).map(|(a, _)| a.as_str()).collect() };
    while out.len() < g.nodes.len() {
        for (name, node) in &g.nodes {
            if out.contains_key(name) {
                continue;
            }
            let p = preds(name);
            if !p.iter().all(|q| out.contains_key(*q)) {
                continue;
            }
            let sum = || {
                let mut s = out[p[0]].clone();
                for q in &p[1..] {
                    s.add(&out[*q]);
                }
                s
            };
            let d = match node.kind.as_str() {
                "Input" => input_counts.clone(),
                "SumPool2d" => {
                    let x = sum();
                    let k = node.tensor("kernel_size").unwrap().data[0] as usize;
                    let [c, h, w] = x.shape;
                    let mut o = Dense::zeros([c, h / k, w / k]);
                    for ci in 0..c {
                        for y in 0..(h / k) * k {
                            for xx in 0..(w / k) * k {
                                o.v[(ci * (h / k) + y / k) * (w / k) + xx / k] += x.at(ci, y, xx);
                            }
                        }
                    }
                    o
                }
                "Flatten" | "Output" => sum(),
                "Conv2d" | "Affine" => {
                    let x = sum();
                    let (_, l) = layer(imp, name);
                    let (f, k) = (l.output_shape.features as usize, l.kernel_size as usize);
                    let (ho, wo) = (l.output_shape.y as usize, l.output_shape.x as usize);
                    let (sy, sx, py, px) = (l.stride.y as i64, l.stride.x as i64, l.padding.y as i64, l.padding.x as i64);
                    let [c, h, w] = x.shape;
                    let mut o = Dense::zeros([f, ho, wo]);
                    for fi in 0..f {
                        for oy in 0..ho {
                            for ox in 0..wo {
                                let mut acc = 0;
                                for ci in 0..c {
                                    for ky in 0..k {
                                        for kx in 0..k {
                                            let (iy, ix) = (oy as i64 * sy - py + ky as i64, ox as i64 * sx - px + kx as i64);
                                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                                acc += l.weights[fi][ci][ky][kx] * x.at(ci, iy as usize, ix as usize);
                                            }
                                        }
                                    }
                                }
                                o.v[(fi * ho + oy) * wo + ox] = acc;
                            }
                        }
                    }
                    o
                }
                "IF" => {
                    let x = sum();
                    let weight_node = p[0];
                    let thr = layer(imp, weight_node).1.threshold_high;
                    let v = state.entry(name.clone()).or_insert_with(|| Dense::zeros(x.shape));
                    v.add(&x);
                    let mut o = Dense::zeros(x.shape);
                    for (s, vi) in o.v.iter_mut().zip(v.v.iter_mut()) {
                        assert!(*vi >= 0, "a state went negative: the order could matter");
                        *s = *vi / thr;
                        *vi -= *s * thr;
                    }
                    o
                }
                k => panic!("dense evaluation has no {k}"),
            };
            out.insert(name.clone(), d);
        }
    }
    out
}

#[test]
fn the_model_on_a_residual_network_equals_a_dense_evaluation_step_by_step() {
    for seed in [1u64, 2, 3] {
        let g = order_free_residual(seed * 10);
        let imp = import_graph(&g, &Options::default()).unwrap();
        for l in imp.config.cnn_layers.iter().flatten() {
            assert!(flat(l).iter().all(|&w| (0..l.threshold_high).contains(&w)), "weights must lie in 0..threshold");
        }
        let valid = spikehdl_model::validate(&imp.config).unwrap();
        let mut chip = ChipModel::new(&valid);
        let mut state = BTreeMap::new();
        let mut rng = spikehdl_model::rng::Rng::new(seed);
        let mut total = 0i64;
        for step in 0..12u64 {
            // 40..200 random DVS events, in random order, some outside the 16 x 16 input.
            let n = 40 + rng.below(160) as usize;
            let mut items = Vec::new();
            let mut counts = Dense::zeros([2, 16, 16]);
            for i in 0..n {
                let (x, y, p) = (rng.below(18) as u16, rng.below(18) as u16, rng.below(2) as u8);
                if x < 16 && y < 16 {
                    counts.v[(usize::from(p) * 16 + usize::from(y)) * 16 + usize::from(x)] += 1;
                }
                items.push(Timed { t: step * 1000 + i as u64, item: HostInput::Dvs { x, y, p } });
            }
            let out = chip.run(&items).unwrap();
            let mut got = Dense::zeros([5, 1, 1]);
            for o in &out {
                match o.item {
                    HostOutput::Spike { layer: src, f, x, y } => {
                        assert_eq!((usize::from(src), x, y), (layer(&imp, "fc").0.core, 0, 0));
                        got.v[usize::from(f)] += 1;
                        assert_eq!(o.t / 1000, step, "an output carries its cause's timestamp");
                    }
                    ref other => panic!("unexpected output {other:?}"),
                }
            }
            let want = dense_step(&g, &imp, &counts, &mut state);
            assert_eq!(got, want["out"], "seed {seed}, step {step}: readout counts (model vs dense)");
            total += got.v.iter().sum::<i64>();
        }
        assert!(total > 20, "seed {seed}: the readout must spike for the comparison to mean something ({total})");
    }
}
