//! The structure of a NIR graph as the chip sees it: which nodes form chip
//! layers, in which order, and the routes from each layer's neurons (or from
//! the input) to the layers and outputs they feed.
//!
//! A chip layer is a weight node (Conv2d, Affine or Linear) followed by
//! exactly one IF node. Between layers only pooling (SumPool2d, AvgPool2d)
//! and Flatten nodes may stand. Everything NIR allows beyond a chain maps
//! onto the router like this:
//!
//! - **Fan-out.** An IF node (or a pooling node after it) with several
//!   outgoing edges gives the layer several destinations, each with the
//!   pooling of its own path. The chip has two per layer: a third is refused
//!   (Sinabs' `MaxDestinationsReached`).
//! - **Fan-in.** A node with several incoming edges sums them (NIR's rule).
//!   Before a weight node the sum of spikes is what the chip computes when
//!   every source layer sends to that layer's core (a convolution is linear,
//!   so convolving the sum equals summing the convolutions; Sinabs' `Merge`).
//!   Pooling is linear too, so a sum into a pooling node is a sum of pooled
//!   routes. A sum into an IF node (two convolutions into one neuron
//!   population) has no chip equivalent and is refused.
//! - **Cycles** are refused (Sinabs' `InvalidLayerLoop`): the chip accepts
//!   cyclic destinations only with an explicit opt-in, and a trained
//!   feed-forward network never needs them.
//!
//! Shapes are not checked here: `import` computes each node's output shape
//! in [`Structure::order`] and requires every input of a node to agree.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::error::{node_err, ImportError};
use crate::graph::Graph;

/// Node kinds the importer understands.
pub const SUPPORTED: [&str; 9] = ["Input", "Conv2d", "Affine", "Linear", "Flatten", "IF", "SumPool2d", "AvgPool2d", "Output"];

/// A weight node: the synapses of a chip layer.
pub fn is_weight(kind: &str) -> bool {
    matches!(kind, "Conv2d" | "Affine" | "Linear")
}

/// A pooling node: the pooling of a destination (or of the DVS layer).
pub fn is_pool(kind: &str) -> bool {
    matches!(kind, "SumPool2d" | "AvgPool2d")
}

/// Why an unsupported node has no chip equivalent, and what to use instead.
pub fn unsupported_reason(kind: &str) -> String {
    let why = match kind {
        "LIF" | "CubaLIF" | "LI" | "CubaLI" => {
            "leaky neurons are not supported: the chip's neurons are integrate-and-fire (IF) without membrane decay; retrain with IF neurons (e.g. sinabs IAF)"
        }
        "I" => "an integrator without threshold has no chip equivalent; use IF",
        "Conv1d" => "1-D convolutions are not supported: the chip convolves 2-D maps (use Conv2d)",
        "Delay" => "the chip has no synaptic delays",
        "Scale" => "elementwise scaling is not supported; fold it into the preceding weights",
        "Threshold" => "a bare threshold is not supported; use IF",
        "NIRGraph" => "nested graphs are not supported; flatten the graph before export",
        _ => "unknown node type",
    };
    format!("{why} (supported: {})", SUPPORTED.join(", "))
}

/// The checked structure of a graph.
#[derive(Debug, Clone)]
pub struct Structure<'g> {
    /// The one Input node.
    pub input: &'g str,
    /// Every node in a topological order: the Input first, and a node only
    /// after all nodes that feed it. Ties follow the order of the edges in
    /// the file, so the order is deterministic.
    pub order: Vec<&'g str>,
    /// Incoming and outgoing edges of each node, in file order.
    pub pred: BTreeMap<&'g str, Vec<&'g str>>,
    pub succ: BTreeMap<&'g str, Vec<&'g str>>,
    /// The chip layers as (weight node, IF node), in topological order.
    pub layers: Vec<(&'g str, &'g str)>,
}

impl<'g> Structure<'g> {
    pub fn pred(&self, n: &str) -> &[&'g str] {
        self.pred.get(n).map_or(&[], Vec::as_slice)
    }
    pub fn succ(&self, n: &str) -> &[&'g str] {
        self.succ.get(n).map_or(&[], Vec::as_slice)
    }
    /// The layer whose weight node is `n`.
    pub fn layer_of_weight(&self, n: &str) -> Option<usize> {
        self.layers.iter().position(|&(w, _)| w == n)
    }
    /// The layer whose IF node is `n`.
    pub fn layer_of_neuron(&self, n: &str) -> Option<usize> {
        self.layers.iter().position(|&(_, s)| s == n)
    }
}

fn names(v: &[&str]) -> String {
    v.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// The first cycle found, as the list of nodes around it (first node repeated at the end).
fn find_cycle<'g>(nodes: &[&'g str], succ: &BTreeMap<&'g str, Vec<&'g str>>) -> Option<Vec<&'g str>> {
    // Iterative depth-first search; 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for &start in nodes {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some(&mut (n, ref mut i)) = stack.last_mut() {
            let next = succ.get(n).and_then(|s| s.get(*i)).copied();
            *i += 1;
            match next {
                None => {
                    state.insert(n, 2);
                    stack.pop();
                }
                Some(m) => match state.get(m).copied().unwrap_or(0) {
                    0 => {
                        state.insert(m, 1);
                        stack.push((m, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|&(s, _)| s == m).expect("a node on the stack");
                        let mut cycle: Vec<&str> = stack[from..].iter().map(|&(s, _)| s).collect();
                        cycle.push(m);
                        return Some(cycle);
                    }
                    _ => {}
                },
            }
        }
    }
    None
}

/// Checks the graph's structure and finds its layers.
pub fn structure(g: &Graph) -> Result<Structure<'_>, ImportError> {
    for (name, node) in &g.nodes {
        if !SUPPORTED.contains(&node.kind.as_str()) {
            return Err(node_err(name, node, unsupported_reason(&node.kind)));
        }
    }
    let inputs: Vec<&str> = g.nodes.iter().filter(|(_, n)| n.kind == "Input").map(|(k, _)| k.as_str()).collect();
    let input = match inputs.as_slice() {
        [one] => *one,
        [] => return Err(ImportError::Graph("the graph has no Input node".into())),
        many => return Err(ImportError::Graph(format!("the graph has {} Input nodes ({}); only one input is supported", many.len(), names(many)))),
    };
    let mut pred: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (a, b) in &g.edges {
        if let Some(n) = [a, b].into_iter().find(|n| !g.nodes.contains_key(*n)) {
            return Err(ImportError::Graph(format!("edge {a:?} -> {b:?} names node {n:?}, which is not in the graph")));
        }
        if !seen.insert((a.as_str(), b.as_str())) {
            // NIR sums the inputs of a node: a repeated edge would double the
            // input, which no exporter means. Refuse rather than guess.
            return Err(ImportError::Graph(format!("edge {a:?} -> {b:?} appears twice in /node/edges")));
        }
        succ.entry(a).or_default().push(b);
        pred.entry(b).or_default().push(a);
    }
    let node = |n: &str| &g.nodes[n];
    for (name, n) in &g.nodes {
        let (p, s) = (pred.get(name.as_str()).map_or(0, Vec::len), succ.get(name.as_str()).map_or(0, Vec::len));
        match n.kind.as_str() {
            "Input" if p > 0 => return Err(node_err(name, n, "an Input node has incoming edges")),
            "Output" if s > 0 => return Err(node_err(name, n, "an Output node has outgoing edges")),
            "Output" => {}
            _ if s == 0 => return Err(node_err(name, n, "no outgoing edge and not an Output node")),
            _ => {}
        }
    }
    let all: Vec<&str> = std::iter::once(input).chain(g.nodes.keys().map(String::as_str).filter(|&n| n != input)).collect();
    if let Some(cycle) = find_cycle(&all, &succ) {
        return Err(ImportError::Graph(format!(
            "the graph has a cycle: {}; the chip's layers must form an acyclic graph (Sinabs: InvalidLayerLoop)",
            cycle.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(" -> ")
        )));
    }

    // Kahn's algorithm from the Input; nodes it never reaches are not fed by the input.
    let mut indeg: BTreeMap<&str, usize> = g.nodes.keys().map(|k| (k.as_str(), pred.get(k.as_str()).map_or(0, Vec::len))).collect();
    let mut order = Vec::with_capacity(g.nodes.len());
    let mut queue = VecDeque::from([input]);
    while let Some(n) = queue.pop_front() {
        order.push(n);
        for &m in succ.get(n).map_or(&[][..], Vec::as_slice) {
            let d = indeg.get_mut(m).expect("edges name known nodes");
            *d -= 1;
            if *d == 0 {
                queue.push_back(m);
            }
        }
    }
    if order.len() < g.nodes.len() {
        let on: BTreeSet<&str> = order.iter().copied().collect();
        let rest: Vec<&str> = g.nodes.keys().map(String::as_str).filter(|k| !on.contains(k)).collect();
        return Err(ImportError::Graph(format!(
            "nodes {} are not on a path from the Input node {input:?} (every node must be fed, through its inputs, by the one Input)",
            names(&rest)
        )));
    }

    let mut layers = Vec::new();
    for &n in &order {
        let kind = node(n).kind.as_str();
        let (p, s) = (pred.get(n).map_or(&[][..], Vec::as_slice), succ.get(n).map_or(&[][..], Vec::as_slice));
        if is_weight(kind) {
            if s.len() > 1 {
                return Err(node_err(
                    n,
                    node(n),
                    format!("{} outgoing edges ({}); a {kind} node feeds exactly one IF node (its layer's neurons): branch after the IF node", s.len(), names(s)),
                ));
            }
            let next = s[0];
            if node(next).kind != "IF" {
                return Err(node_err(
                    next,
                    node(next),
                    format!("follows {n:?} without an IF node in between; every Conv2d, Affine and Linear node must be followed by an IF node"),
                ));
            }
            layers.push((n, next));
        } else if kind == "IF" {
            if p.len() > 1 {
                return Err(node_err(
                    n,
                    node(n),
                    format!(
                        "{} incoming edges ({}); the neurons of a chip layer integrate one convolution. Sum spikes instead: send the IF nodes to the next Conv2d, Affine or Linear node (a residual sum), which the chip computes with several source layers on one core",
                        p.len(),
                        names(p)
                    ),
                ));
            }
            if !is_weight(&node(p[0]).kind) {
                return Err(node_err(n, node(n), "an IF node must directly follow a Conv2d, Affine or Linear node"));
            }
        }
    }
    if layers.is_empty() {
        return Err(ImportError::Graph("the graph has no Conv2d/Affine + IF layer".into()));
    }
    Ok(Structure { input, order, pred, succ, layers })
}

/// Where a route ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'g> {
    /// The layer with this index in [`Structure::layers`] (its weight node).
    Layer(usize),
    /// This Output node: the host readout.
    Output(&'g str),
}

/// One path from a source (the input, or a layer's IF node) through pooling
/// and Flatten nodes to a weight node or an Output: one destination on the chip.
#[derive(Debug, Clone, PartialEq)]
pub struct Route<'g> {
    pub target: Target<'g>,
    /// The pooling and Flatten nodes on the way, in order.
    pub via: Vec<&'g str>,
    /// Product of the pooling kernels on the way (the destination's pooling).
    pub pooling: usize,
    /// Sinabs' rescale factor of the path (`consolidate_dest_pooling`): the
    /// product of 1/(k·k) over its AvgPool2d nodes (a chip sums where the
    /// network averaged, so the next weights are scaled by it).
    pub scale: f64,
}

/// At most this many routes are followed from one source: enough to report
/// that a layer has more destinations than the chip's two, without walking
/// every path of an adversarial graph.
pub const MAX_ROUTES: usize = 8;

/// The routes out of node `from` (the Input or an IF node), depth first in
/// edge order. `pools` gives each pooling node's kernel and whether it
/// averages. Stops after [`MAX_ROUTES`].
pub fn routes<'g>(s: &Structure<'g>, g: &'g Graph, from: &'g str, pools: &BTreeMap<&str, (usize, bool)>) -> Vec<Route<'g>> {
    let mut out = Vec::new();
    let mut stack: Vec<(&'g str, Vec<&'g str>, usize, f64)> = s.succ(from).iter().rev().map(|&n| (n, Vec::new(), 1, 1.0)).collect();
    while let Some((n, via, pooling, scale)) = stack.pop() {
        if out.len() >= MAX_ROUTES {
            break;
        }
        let kind = g.nodes[n].kind.as_str();
        if let Some(l) = is_weight(kind).then(|| s.layer_of_weight(n)).flatten() {
            out.push(Route { target: Target::Layer(l), via, pooling, scale });
        } else if kind == "Output" {
            out.push(Route { target: Target::Output(n), via, pooling, scale });
        } else {
            // A pooling or Flatten node ([`structure`] lets nothing else
            // stand between layers: an IF's input is a weight node).
            let (k, avg) = pools.get(n).copied().unwrap_or((1, false));
            let mut via = via;
            via.push(n);
            let scale = if avg { scale * (1.0 / (k * k) as f64) } else { scale };
            for &m in s.succ(n).iter().rev() {
                stack.push((m, via.clone(), pooling * k, scale));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{conv2d, graph, if_node, input, output};

    fn c() -> crate::graph::Node {
        conv2d(1, 1, 1, vec![1.0], vec![0.0], 1, 0)
    }

    #[test]
    fn a_residual_block_orders_layers_and_routes_both_sources_into_the_sum() {
        let g = graph(
            vec![
                ("in", input([1, 4, 4])),
                ("a", c()),
                ("sa", if_node(&[1, 4, 4], 1.0)),
                ("b", c()),
                ("sb", if_node(&[1, 4, 4], 1.0)),
                ("c", c()),
                ("sc", if_node(&[1, 4, 4], 1.0)),
                ("out", output(&[1, 4, 4])),
            ],
            &[("in", "a"), ("a", "sa"), ("sa", "c"), ("sa", "b"), ("b", "sb"), ("sb", "c"), ("c", "sc"), ("sc", "out")],
        );
        let s = structure(&g).unwrap();
        assert_eq!(s.layers, vec![("a", "sa"), ("b", "sb"), ("c", "sc")]);
        let r = routes(&s, &g, "sa", &BTreeMap::new());
        // file order of the edges: "sa" -> "c" first
        assert_eq!(r.iter().map(|r| r.target).collect::<Vec<_>>(), vec![Target::Layer(2), Target::Layer(1)]);
        assert_eq!(routes(&s, &g, "sb", &BTreeMap::new())[0].target, Target::Layer(2));
        assert_eq!(routes(&s, &g, "sc", &BTreeMap::new())[0].target, Target::Output("out"));
    }

    #[test]
    fn a_cycle_is_named_node_by_node() {
        let g = graph(
            vec![("in", input([1, 4, 4])), ("a", c()), ("sa", if_node(&[1, 4, 4], 1.0)), ("b", c()), ("sb", if_node(&[1, 4, 4], 1.0)), ("out", output(&[1]))],
            &[("in", "a"), ("a", "sa"), ("sa", "b"), ("b", "sb"), ("sb", "a"), ("sb", "out")],
        );
        let e = structure(&g).unwrap_err().to_string();
        assert!(e.contains("the graph has a cycle: \"a\" -> \"sa\" -> \"b\" -> \"sb\" -> \"a\""), "{e}");
        assert!(e.contains("InvalidLayerLoop"), "{e}");
    }

    #[test]
    fn routes_stop_after_the_bound() {
        // one IF node straight into ten outputs
        let mut nodes = vec![("in", input([1, 4, 4])), ("a", c()), ("sa", if_node(&[1, 4, 4], 1.0))];
        let outs: Vec<String> = (0..10).map(|i| format!("o{i}")).collect();
        for o in &outs {
            nodes.push((o.as_str(), output(&[1])));
        }
        let mut edges = vec![("in", "a"), ("a", "sa")];
        for o in &outs {
            edges.push(("sa", o.as_str()));
        }
        let g = graph(nodes, &edges);
        let s = structure(&g).unwrap();
        assert_eq!(routes(&s, &g, "sa", &BTreeMap::new()).len(), MAX_ROUTES);
    }
}
