//! Builders for NIR nodes in the layout `nir.write` produces, for tests and
//! examples that write their own `.nir` files.

use std::collections::BTreeMap;

use crate::graph::{Graph, Node, Tensor, Value};

fn t(v: Tensor) -> Value {
    Value::Tensor(v)
}

fn ints(v: &[i64]) -> Value {
    t(Tensor::int(&[v.len()], v.to_vec()))
}

/// `Input` with shape (C, H, W).
pub fn input(shape: [usize; 3]) -> Node {
    let s: Vec<i64> = shape.iter().map(|&v| v as i64).collect();
    let mut it = BTreeMap::new();
    it.insert("input".to_string(), ints(&s));
    Node::new("Input").with("shape", ints(&s)).with("input_type", Value::Group(it))
}

/// `Output` with shape `shape`.
pub fn output(shape: &[usize]) -> Node {
    let s: Vec<i64> = shape.iter().map(|&v| v as i64).collect();
    Node::new("Output").with("shape", ints(&s))
}

/// `Conv2d`: weight `[F][C][k][k]` flattened, bias length F.
pub fn conv2d(f: usize, c: usize, k: usize, weight: Vec<f64>, bias: Vec<f64>, stride: usize, padding: usize) -> Node {
    Node::new("Conv2d")
        .with("weight", t(Tensor::float(&[f, c, k, k], weight)))
        .with("bias", t(Tensor::float(&[f], bias)))
        .with("stride", ints(&[stride as i64, stride as i64]))
        .with("padding", ints(&[padding as i64, padding as i64]))
        .with("dilation", ints(&[1, 1]))
        .with("groups", t(Tensor::scalar_int(1)))
}

/// `IF` over `shape` neurons with one threshold (r = 1, v_reset = 0).
pub fn if_node(shape: &[usize], threshold: f64) -> Node {
    let n: usize = shape.iter().product();
    Node::new("IF")
        .with("r", t(Tensor::float(shape, vec![1.0; n])))
        .with("v_threshold", t(Tensor::float(shape, vec![threshold; n])))
        .with("v_reset", t(Tensor::float(shape, vec![0.0; n])))
}

/// `SumPool2d` (or `AvgPool2d` when `avg`) with kernel = stride = p, no padding.
pub fn pool(p: usize, avg: bool) -> Node {
    Node::new(if avg { "AvgPool2d" } else { "SumPool2d" })
        .with("kernel_size", ints(&[p as i64, p as i64]))
        .with("stride", ints(&[p as i64, p as i64]))
        .with("padding", ints(&[0, 0]))
}

/// `Flatten` of an input of shape (C, H, W) from dim 1 (after the batch dimension) on.
pub fn flatten(shape: [usize; 3]) -> Node {
    let s: Vec<i64> = shape.iter().map(|&v| v as i64).collect();
    let mut it = BTreeMap::new();
    it.insert("input".to_string(), ints(&s));
    Node::new("Flatten")
        .with("start_dim", t(Tensor::scalar_int(1)))
        .with("end_dim", t(Tensor::scalar_int(-1)))
        .with("input_type", Value::Group(it))
}

/// `Affine`: weight `[out][in]` flattened and a bias.
pub fn affine(out: usize, inp: usize, weight: Vec<f64>, bias: Vec<f64>) -> Node {
    Node::new("Affine").with("weight", t(Tensor::float(&[out, inp], weight))).with("bias", t(Tensor::float(&[out], bias)))
}

/// A chain graph: edges between consecutive nodes.
pub fn chain(nodes: Vec<(&str, Node)>) -> Graph {
    let mut g = Graph { version: Some("1.0".into()), ..Graph::default() };
    for w in nodes.windows(2) {
        g.edges.push((w[0].0.to_string(), w[1].0.to_string()));
    }
    for (name, n) in nodes {
        g.nodes.insert(name.to_string(), n);
    }
    g
}

/// Any graph: nodes and edges by name (edges keep their order, which fixes
/// the order of a node's destinations).
pub fn graph(nodes: Vec<(&str, Node)>, edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph { version: Some("1.0".into()), ..Graph::default() };
    for (name, n) in nodes {
        g.nodes.insert(name.to_string(), n);
    }
    g.edges = edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    g
}

/// Deterministic pseudo-random numbers in [lo, hi) (a 64-bit LCG), so that
/// examples need no random-number crate and are reproducible.
pub fn uniform(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            // round to f32 so that the values survive the f32 datasets exactly
            (lo + (hi - lo) * u) as f32 as f64
        })
        .collect()
}

/// A small LeNet-like network for a 2 x 64 x 64 DVS input:
/// sum-pool 2 (DVS layer) -> conv 2→6 5x5 -> IF -> avg-pool 2 -> conv 6→16 5x5
/// -> IF -> sum-pool 2 -> flatten -> affine 400→10 -> IF -> output.
/// Weights are pseudo-random with a positive bias so that spikes propagate.
pub fn lenet(seed: u64) -> Graph {
    let c1 = conv2d(6, 2, 5, uniform(seed, 6 * 2 * 25, -0.2, 0.4), uniform(seed + 1, 6, -0.05, 0.05), 1, 0);
    let c2 = conv2d(16, 6, 5, uniform(seed + 2, 16 * 6 * 25, -0.3, 0.3), vec![0.0; 16], 1, 0);
    let fc = affine(10, 400, uniform(seed + 3, 4000, -0.3, 0.3), vec![0.0; 10]);
    chain(vec![
        ("input", input([2, 64, 64])),
        ("pool0", pool(2, false)),
        ("conv1", c1),
        ("if1", if_node(&[6, 28, 28], 2.0)),
        ("pool1", pool(2, true)),
        ("conv2", c2),
        ("if2", if_node(&[16, 10, 10], 3.0)),
        ("pool2", pool(2, false)),
        ("flatten", flatten([16, 5, 5])),
        ("fc", fc),
        ("if3", if_node(&[10], 3.0)),
        ("output", output(&[10])),
    ])
}

/// A small ResNet-style network for a 2 x 32 x 32 DVS input, in the form
/// Sinabs maps a residual block (`Merge` before a convolution):
/// sum-pool 2 (DVS layer) -> conv1 2→8 3x3 pad 1 -> IF -> conv2 8→8 3x3 pad 1
/// -> IF -> conv3 8→8 3x3 pad 1 on the SUM of both IF outputs (two edges into
/// conv3: the skip connection) -> IF -> sum-pool 2 -> flatten -> affine 512→10
/// -> IF -> output. Weights are pseudo-random, mostly positive, so that spikes
/// reach the readout.
pub fn resnet(seed: u64) -> Graph {
    let c1 = conv2d(8, 2, 3, uniform(seed, 8 * 2 * 9, -0.1, 0.5), vec![0.0; 8], 1, 1);
    let c2 = conv2d(8, 8, 3, uniform(seed + 1, 8 * 8 * 9, -0.2, 0.25), vec![0.0; 8], 1, 1);
    let c3 = conv2d(8, 8, 3, uniform(seed + 2, 8 * 8 * 9, -0.2, 0.25), vec![0.0; 8], 1, 1);
    let fc = affine(10, 512, uniform(seed + 3, 5120, -0.3, 0.3), vec![0.0; 10]);
    graph(
        vec![
            ("input", input([2, 32, 32])),
            ("pool0", pool(2, false)),
            ("conv1", c1),
            ("if1", if_node(&[8, 16, 16], 1.0)),
            ("conv2", c2),
            ("if2", if_node(&[8, 16, 16], 1.0)),
            ("conv3", c3),
            ("if3", if_node(&[8, 16, 16], 1.0)),
            ("pool3", pool(2, false)),
            ("flatten", flatten([8, 8, 8])),
            ("fc", fc),
            ("if4", if_node(&[10], 2.0)),
            ("output", output(&[10])),
        ],
        &[
            ("input", "pool0"),
            ("pool0", "conv1"),
            ("conv1", "if1"),
            ("if1", "conv2"),
            ("if1", "conv3"),
            ("conv2", "if2"),
            ("if2", "conv3"),
            ("conv3", "if3"),
            ("if3", "pool3"),
            ("pool3", "flatten"),
            ("flatten", "fc"),
            ("fc", "if4"),
            ("if4", "output"),
        ],
    )
}

/// A chain of `n` layers deeper than one chip: a 2 x 16 x 16 DVS input,
/// n − 1 convolutions 4→4 (the first 2→4) 3x3 with padding 1 and IF, then a
/// 10-way affine readout. Each layer fits any reference core; 12 layers
/// need two reference chips (9 cores each).
pub fn deep_chain(seed: u64, n: usize) -> Graph {
    assert!(n >= 2, "a deep chain has at least a convolution and the readout");
    let mut nodes = vec![("input".to_string(), input([2, 16, 16]))];
    for i in 1..n {
        let c = if i == 1 { 2 } else { 4 };
        // A strong centre tap from channel f % c carries each spike on, small
        // random taps around it: activity neither dies out nor explodes over the layers.
        let mut w = uniform(seed + i as u64, 4 * c * 9, -0.05, 0.08);
        for f in 0..4 {
            w[(f * c + f % c) * 9 + 4] = 1.0;
        }
        nodes.push((format!("conv{i}"), conv2d(4, c, 3, w, vec![0.0; 4], 1, 1)));
        nodes.push((format!("if{i}"), if_node(&[4, 16, 16], 0.9)));
    }
    nodes.push(("flatten".into(), flatten([4, 16, 16])));
    nodes.push(("fc".into(), affine(10, 1024, uniform(seed + 100, 10240, -0.05, 0.1), vec![0.0; 10])));
    nodes.push(("if_out".into(), if_node(&[10], 1.0)));
    nodes.push(("output".into(), output(&[10])));
    let named: Vec<(&str, Node)> = nodes.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    chain(named)
}
