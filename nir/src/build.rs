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
