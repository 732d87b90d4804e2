//! Graphs the NIR tests write: a residual block, two branches that merge,
//! the DVS layer into two layers, and a residual network on which the order
//! of events cannot matter.

#![allow(dead_code)]

use spikehdl_nir::build::{affine, conv2d, flatten, graph, if_node, input, output, pool, uniform};
use spikehdl_nir::Graph;

/// Weights cycling through `values`, `n` of them.
pub fn cycle(values: &[f64], n: usize) -> Vec<f64> {
    (0..n).map(|i| values[i % values.len()]).collect()
}

/// A residual block in Sinabs' form:
/// in 2x16x16 -> c1 (2→4, k3, pad 1) -> s1 -> p1 (pool 2) -> {c2, c3};
/// c2 (4→4, k3, pad 1) -> s2 -> c3 (4→4, k1) — c3 sums p1 and s2 —
/// -> s3 -> fl -> fc (256→3) -> s4 -> out.
pub fn residual(avg: bool) -> Graph {
    graph(
        vec![
            ("in", input([2, 16, 16])),
            ("c1", conv2d(4, 2, 3, cycle(&[0.5, 0.25, -0.125, 0.375, 0.0, -0.25], 4 * 2 * 9), vec![0.0; 4], 1, 1)),
            ("s1", if_node(&[4, 16, 16], 1.0)),
            ("p1", pool(2, avg)),
            ("c2", conv2d(4, 4, 3, cycle(&[0.25, -0.25, 0.125, 0.0], 4 * 4 * 9), vec![0.0625, 0.0, 0.0, 0.0], 1, 1)),
            ("s2", if_node(&[4, 8, 8], 0.75)),
            ("c3", conv2d(4, 4, 1, cycle(&[1.0, 0.25, -0.5], 16), vec![0.0; 4], 1, 0)),
            ("s3", if_node(&[4, 8, 8], 3.0)),
            ("fl", flatten([4, 8, 8])),
            ("fc", affine(3, 256, cycle(&[0.125, -0.0625, 0.0], 3 * 256), vec![0.0; 3])),
            ("s4", if_node(&[3], 2.0)),
            ("out", output(&[3])),
        ],
        &[
            ("in", "c1"),
            ("c1", "s1"),
            ("s1", "p1"),
            ("p1", "c2"),
            ("p1", "c3"),
            ("c2", "s2"),
            ("s2", "c3"),
            ("c3", "s3"),
            ("s3", "fl"),
            ("fl", "fc"),
            ("fc", "s4"),
            ("s4", "out"),
        ],
    )
}

/// Two branches from one layer merge again: s1 -> {a, b}; a (k3, pad 1)
/// and b (k1) keep the 4x8x8 map, and m sums both.
pub fn two_branches() -> Graph {
    graph(
        vec![
            ("in", input([1, 8, 8])),
            ("c1", conv2d(4, 1, 3, uniform(1, 36, 0.0, 0.5), vec![0.0; 4], 1, 1)),
            ("s1", if_node(&[4, 8, 8], 1.0)),
            ("a", conv2d(4, 4, 3, uniform(2, 144, 0.0, 0.25), vec![0.0; 4], 1, 1)),
            ("sa", if_node(&[4, 8, 8], 1.0)),
            ("b", conv2d(4, 4, 1, uniform(3, 16, 0.0, 0.5), vec![0.0; 4], 1, 0)),
            ("sb", if_node(&[4, 8, 8], 1.0)),
            ("m", conv2d(2, 4, 3, uniform(4, 72, 0.0, 0.5), vec![0.0; 2], 2, 1)),
            ("sm", if_node(&[2, 4, 4], 1.0)),
            ("out", output(&[2, 4, 4])),
        ],
        &[
            ("in", "c1"),
            ("c1", "s1"),
            ("s1", "a"),
            ("s1", "b"),
            ("a", "sa"),
            ("b", "sb"),
            ("sa", "m"),
            ("sb", "m"),
            ("m", "sm"),
            ("sm", "out"),
        ],
    )
}

/// The input feeds two layers: the DVS layer's two destinations, which
/// share its one pooling.
pub fn dvs_into_two(pool_b: bool) -> Graph {
    let mut nodes = vec![
        ("in", input([2, 16, 16])),
        ("p0", pool(2, false)),
        ("a", conv2d(2, 2, 3, uniform(5, 36, 0.0, 0.5), vec![0.0; 2], 1, 1)),
        ("sa", if_node(&[2, 8, 8], 1.0)),
        ("b", conv2d(2, 2, 1, uniform(6, 4, 0.0, 0.5), vec![0.0; 2], 1, 0)),
        ("sb", if_node(&[2, 8, 8], 1.0)),
        ("c", conv2d(3, 2, 1, uniform(7, 6, 0.0, 0.5), vec![0.0; 3], 1, 0)),
        ("sc", if_node(&[3, 8, 8], 1.0)),
        ("out", output(&[3, 8, 8])),
    ];
    let mut edges = vec![("in", "p0"), ("p0", "a"), ("a", "sa"), ("b", "sb"), ("sa", "c"), ("sb", "c"), ("c", "sc"), ("sc", "out")];
    if pool_b {
        edges.push(("p0", "b"));
    } else {
        // b without the pooling: 2x16x16 into a 1x1 convolution, then pooled so that c's inputs agree
        nodes[4] = ("b", conv2d(2, 2, 1, uniform(6, 4, 0.0, 0.5), vec![0.0; 2], 1, 0));
        nodes[5] = ("sb", if_node(&[2, 16, 16], 1.0));
        nodes.push(("pb", pool(2, false)));
        edges.retain(|e| *e != ("sb", "c"));
        edges.extend([("in", "b"), ("sb", "pb"), ("pb", "c")]);
    }
    graph(nodes, &edges)
}

/// The residual block with every weight ≥ 0 and below its layer's threshold
/// after discretization: then a neuron's state stays in 0..threshold after
/// every update, each update gives at most one spike, and the number of
/// spikes up to any point is floor(input so far / threshold) — whatever the
/// order of events within a step. The model must then agree with the dense
/// evaluation step by step.
pub fn order_free_residual(seed: u64) -> Graph {
    graph(
        vec![
            ("in", input([2, 16, 16])),
            ("p0", pool(2, false)),
            ("c1", conv2d(4, 2, 3, uniform(seed, 72, 0.0, 0.5), vec![0.0; 4], 1, 1)),
            ("s1", if_node(&[4, 8, 8], 1.0)),
            ("c2", conv2d(4, 4, 3, uniform(seed + 1, 144, 0.0, 0.5), vec![0.0; 4], 1, 1)),
            ("s2", if_node(&[4, 8, 8], 1.5)),
            ("c3", conv2d(4, 4, 3, uniform(seed + 2, 144, 0.0, 0.5), vec![0.0; 4], 1, 1)),
            ("s3", if_node(&[4, 8, 8], 1.25)),
            ("p3", pool(2, false)),
            ("fl", flatten([4, 4, 4])),
            ("fc", affine(5, 64, uniform(seed + 3, 320, 0.0, 0.5), vec![0.0; 5])),
            ("s4", if_node(&[5], 2.0)),
            ("out", output(&[5])),
        ],
        &[
            ("in", "p0"),
            ("p0", "c1"),
            ("c1", "s1"),
            ("s1", "c2"),
            ("s1", "c3"),
            ("c2", "s2"),
            ("s2", "c3"),
            ("c3", "s3"),
            ("s3", "p3"),
            ("p3", "fl"),
            ("fl", "fc"),
            ("fc", "s4"),
            ("s4", "out"),
        ],
    )
}

