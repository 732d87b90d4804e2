//! From a NIR graph to a chip configuration: walk the chain of nodes, group
//! them into chip layers (convolution or affine, then IF, then pooling),
//! discretize each layer like Sinabs, place the layers on cores and emit a
//! [`ChipConfig`] that passes [`spikehdl_model::validate`].

use std::collections::BTreeMap;
use std::fmt;

use spikehdl_model::config::{ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, DvsDestinationConfig, DvsLayerConfig, Shape, Xy, XyFlags};
use spikehdl_model::memory::Footprint;
use spikehdl_model::presets::{chip_preset, unknown_chip_preset, CHIP_REFERENCE, HOST_LAYER};
use spikehdl_model::validate::{limits, ConfigErrors};

use crate::discretize::{discretize_layer, FloatLayer, Scales, MISSING_MIN_V_MEM};
use crate::graph::{FileError, Graph, Node, Tensor, Value};
use crate::mapping::{assign, Demand, MappingError};

/// What a missing `min_v_mem` (NIR's IF has none) becomes.
///
/// The default is what every Sinabs user gets: `sinabs.from_nir` builds its
/// IAF layers with `min_v_mem = −v_threshold`, and `DynapcnnNetwork(discretize=True)`
/// then scales the pair (−v_threshold, v_threshold). The literal reading of
/// `discretize.py` for `min_v_mem = None` (−2^15 in the scale) caps every
/// scale at 1, so trained weights below 0.5 all round to 0: it stays
/// available, warned, for networks built in Sinabs without `from_nir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinVMem {
    /// Sinabs' `discretize.py` for `min_v_mem = None`: −2^15 enters the scale
    /// (capping it at 1) and, scaled, becomes threshold_low. Warned about.
    Missing,
    /// What `sinabs.from_nir` sets: `min_v_mem = −v_threshold` (the default).
    #[default]
    NegThreshold,
}

/// How a neuron resets after a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reset {
    /// Subtract the threshold (Sinabs' IAF, the default of `sinabs.from_nir`).
    #[default]
    Subtract,
    /// Reset to v_reset = 0 (NIR's IF equations).
    Zero,
}

/// Import options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Chip preset name.
    pub chip: String,
    /// Overrides the Input node's shape: (C, H, W).
    pub input_shape: Option<[usize; 3]>,
    pub min_v_mem: MinVMem,
    pub reset: Reset,
    /// Set `monitor_enable` on every layer (all layers' spikes reach the host).
    pub monitor: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { chip: CHIP_REFERENCE.name.into(), input_shape: None, min_v_mem: MinVMem::default(), reset: Reset::Subtract, monitor: false }
    }
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("node {node:?} ({kind}): {message}")]
    Node { node: String, kind: String, message: String },
    #[error("{0}")]
    Graph(String),
    #[error("{0}")]
    Mapping(#[from] MappingError),
    #[error("the imported configuration does not validate ({context}):\n{errors}")]
    Invalid { context: String, errors: ConfigErrors },
}

/// One imported layer, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LayerReport {
    /// The Conv2d / Affine / Linear node.
    pub node: String,
    /// The IF node.
    pub neuron: String,
    pub core: usize,
    /// (C, H, W) in, (F, H, W) out.
    pub input: [usize; 3],
    pub output: [usize; 3],
    pub kernel: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    /// Sum pooling applied to this layer's output spikes.
    pub pooling: usize,
    /// Weights were divided by this (preceding average pooling, as Sinabs does).
    pub weight_rescale: f32,
    pub scales: Scales,
    pub threshold_high: i64,
    pub threshold_low: i64,
    pub footprint: Footprint,
    pub leak_enable: bool,
}

/// A successful import.
#[derive(Debug, Clone)]
pub struct Imported {
    pub config: ChipConfig,
    pub layers: Vec<LayerReport>,
    pub warnings: Vec<String>,
    /// Input (C, H, W) and whether a DVS layer feeds the first core.
    pub input: [usize; 3],
    pub dvs: bool,
}

impl fmt::Display for LayerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} + {} -> core {}: {}x{}x{} -> {}x{}x{}, k {}, stride {:?}, pad {:?}, pool {}, scale {} (limited by {}), thresholds {}..{}",
            self.node,
            self.neuron,
            self.core,
            self.input[0],
            self.input[1],
            self.input[2],
            self.output[0],
            self.output[1],
            self.output[2],
            self.kernel,
            self.stride,
            self.padding,
            self.pooling,
            self.scales.chosen,
            self.scales.limited_by(),
            self.threshold_low,
            self.threshold_high
        )
    }
}

struct Pending {
    node: String,
    weights: Vec<f32>,
    biases: Vec<f32>,
    input: [usize; 3],
    output: [usize; 3],
    k: usize,
    stride: [usize; 2],
    padding: [usize; 2],
    rescale: f32,
    neuron: Option<(String, f32, Option<f32>)>,
    pooling: usize,
    pool_nodes: Vec<String>,
}

fn node_err(name: &str, node: &Node, message: impl Into<String>) -> ImportError {
    ImportError::Node { node: name.to_string(), kind: node.kind.clone(), message: message.into() }
}

fn tensor<'a>(name: &str, node: &'a Node, field: &str) -> Result<&'a Tensor, ImportError> {
    node.tensor(field).ok_or_else(|| node_err(name, node, format!("field {field:?} is missing or not numeric")))
}

fn whole(name: &str, node: &Node, field: &str, v: f64) -> Result<usize, ImportError> {
    if v >= 0.0 && v.fract() == 0.0 && v < 1e9 {
        Ok(v as usize)
    } else {
        Err(node_err(name, node, format!("{field} = {v} is not a whole number ≥ 0")))
    }
}

/// A per-axis parameter (scalar or (H, W)) as [y, x]; `default` when absent.
fn pair(name: &str, node: &Node, field: &str, default: Option<usize>) -> Result<[usize; 2], ImportError> {
    match node.fields.get(field) {
        None => default.map(|d| [d, d]).ok_or_else(|| node_err(name, node, format!("field {field:?} is missing"))),
        Some(Value::Tensor(t)) => match t.data.as_slice() {
            [v] => {
                let v = whole(name, node, field, *v)?;
                Ok([v, v])
            }
            [y, x] => Ok([whole(name, node, field, *y)?, whole(name, node, field, *x)?]),
            _ => Err(node_err(name, node, format!("{field} has {} values; expected 1 or 2 (height, width)", t.data.len()))),
        },
        Some(Value::Str(s)) => Err(node_err(name, node, format!("{field} = {s:?} is not supported; give explicit numbers"))),
        Some(Value::Group(_)) => Err(node_err(name, node, format!("{field} is a group, expected numbers"))),
    }
}

/// A uniform value of a per-neuron parameter.
fn uniform(name: &str, node: &Node, field: &str, default: Option<f64>) -> Result<f64, ImportError> {
    let t = match (node.tensor(field), default) {
        (Some(t), _) => t,
        (None, Some(d)) => return Ok(d),
        (None, None) => return Err(node_err(name, node, format!("field {field:?} is missing or not numeric"))),
    };
    let Some(&first) = t.data.first() else { return Err(node_err(name, node, format!("{field} is empty"))) };
    if let Some(other) = t.data.iter().find(|&&v| v != first) {
        return Err(node_err(
            name,
            node,
            format!("{field} differs between neurons ({first} and {other}); a chip layer has one value for all its neurons"),
        ));
    }
    Ok(first)
}

fn unsupported_reason(kind: &str) -> String {
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
    format!("{why} (supported: Input, Conv2d, Affine, Linear, Flatten, IF, SumPool2d, AvgPool2d, Output)")
}

/// The nodes from the Input to the Output, in order.
fn chain(g: &Graph) -> Result<Vec<(&str, &Node)>, ImportError> {
    let inputs: Vec<&String> = g.nodes.iter().filter(|(_, n)| n.kind == "Input").map(|(k, _)| k).collect();
    let input = match inputs.as_slice() {
        [one] => *one,
        [] => return Err(ImportError::Graph("the graph has no Input node".into())),
        many => return Err(ImportError::Graph(format!("the graph has {} Input nodes ({:?}); only one input is supported", many.len(), many))),
    };
    let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut pred: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in &g.edges {
        succ.entry(a).or_default().push(b);
        pred.entry(b).or_default().push(a);
    }
    let mut out = Vec::new();
    let mut cur: &str = input;
    loop {
        let node = &g.nodes[cur];
        out.push((cur, node));
        if out.len() > g.nodes.len() {
            return Err(ImportError::Graph(format!("the graph has a cycle through node {cur:?}")));
        }
        let next = succ.get(cur).cloned().unwrap_or_default();
        if node.kind == "Output" {
            if !next.is_empty() {
                return Err(node_err(cur, node, "an Output node has outgoing edges"));
            }
            break;
        }
        match next.as_slice() {
            [one] => {
                let n = pred.get(one).map_or(0, Vec::len);
                if n != 1 {
                    return Err(node_err(one, &g.nodes[*one], format!("{n} incoming edges; only a chain of nodes (one input each) is supported")));
                }
                cur = one;
            }
            [] => return Err(node_err(cur, node, "no outgoing edge and not an Output node")),
            many => {
                return Err(node_err(cur, node, format!("{} outgoing edges ({many:?}); branching graphs are not supported, only chains", many.len())))
            }
        }
    }
    if out.len() < g.nodes.len() {
        let on: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
        let rest: Vec<&String> = g.nodes.keys().filter(|k| !on.contains(&k.as_str())).collect();
        return Err(ImportError::Graph(format!("nodes {rest:?} are not on the path from the Input to the Output")));
    }
    Ok(out)
}

fn input_shape(name: &str, node: &Node, opt: Option<[usize; 3]>) -> Result<[usize; 3], ImportError> {
    if let Some(s) = opt {
        return Ok(s);
    }
    let t = match node.fields.get("shape") {
        Some(Value::Tensor(t)) => Some(t),
        _ => match node.fields.get("input_type") {
            Some(Value::Group(g)) => match g.get("input") {
                Some(Value::Tensor(t)) => Some(t),
                _ => None,
            },
            _ => None,
        },
    };
    let t = t.ok_or_else(|| node_err(name, node, "no shape; give --input-shape C,H,W"))?;
    let dims: Vec<usize> = t.data.iter().map(|&v| whole(name, node, "shape", v)).collect::<Result<_, _>>()?;
    match dims.as_slice() {
        [c, h, w] => Ok([*c, *h, *w]),
        [1, c, h, w] => Ok([*c, *h, *w]),
        _ => Err(node_err(name, node, format!("shape {dims:?} is not (C, H, W); give --input-shape C,H,W"))),
    }
}

/// Imports a graph. Warnings (never errors) are returned with the result.
pub fn import_graph(g: &Graph, opt: &Options) -> Result<Imported, ImportError> {
    let preset = chip_preset(&opt.chip)
        .ok_or_else(|| ImportError::Graph(format!("chip: {}", unknown_chip_preset(&opt.chip))))?;
    let nodes = chain(g)?;
    let mut warnings = Vec::new();
    let (in_name, in_node) = nodes[0];
    let input = input_shape(in_name, in_node, opt.input_shape)?;
    let mut shape = input;
    let mut dvs_pool = 1usize;
    let mut dvs_pool_nodes: Vec<String> = Vec::new();
    let mut rescale = 1f32;
    let mut flattened = false;
    let mut layers: Vec<Pending> = Vec::new();

    for &(name, node) in &nodes[1..] {
        let kind = node.kind.as_str();
        let needs_neuron = |layers: &Vec<Pending>| -> Result<(), ImportError> {
            match layers.last() {
                Some(l) if l.neuron.is_none() => Err(node_err(
                    name,
                    node,
                    format!("follows {:?} without an IF node in between; every Conv2d/Affine must be followed by IF", l.node),
                )),
                _ => Ok(()),
            }
        };
        match kind {
            "Conv2d" | "Affine" | "Linear" => {
                needs_neuron(&layers)?;
                let w = tensor(name, node, "weight")?;
                let (f, c, k, stride, padding, out);
                if kind == "Conv2d" {
                    if flattened {
                        return Err(node_err(name, node, "a Conv2d after Flatten is not supported"));
                    }
                    let [wf, wc, kh, kw] = w.shape[..] else {
                        return Err(node_err(name, node, format!("weight has shape {:?}; expected (out, in, kH, kW)", w.shape)));
                    };
                    if kh != kw {
                        return Err(node_err(name, node, format!("kernel {kh}x{kw} is not square; the chip supports square kernels only")));
                    }
                    if wc != shape[0] {
                        return Err(node_err(name, node, format!("weight expects {wc} input channels but its input has {} (shape {:?})", shape[0], shape)));
                    }
                    let groups = node.tensor("groups").map_or(1.0, |t| t.data.first().copied().unwrap_or(1.0));
                    if groups != 1.0 {
                        return Err(node_err(name, node, format!("groups = {groups}; the chip supports groups = 1 only")));
                    }
                    let dil = pair(name, node, "dilation", Some(1))?;
                    if dil != [1, 1] {
                        return Err(node_err(name, node, format!("dilation {dil:?}; the chip supports dilation 1 only")));
                    }
                    stride = pair(name, node, "stride", Some(1))?;
                    padding = pair(name, node, "padding", Some(0))?;
                    if stride.contains(&0) {
                        return Err(node_err(name, node, "stride 0"));
                    }
                    let o = |i: usize, a: usize| -> Result<usize, ImportError> {
                        let n = shape[i] + 2 * padding[a];
                        if n < kh {
                            Err(node_err(name, node, format!("kernel {kh} is larger than the padded input {n}")))
                        } else {
                            Ok((n - kh) / stride[a] + 1)
                        }
                    };
                    out = [wf, o(1, 0)?, o(2, 1)?];
                    (f, c, k) = (wf, wc, kh);
                } else {
                    let [wo, wi] = w.shape[..] else {
                        return Err(node_err(name, node, format!("weight has shape {:?}; expected (out, in)", w.shape)));
                    };
                    let n = shape[0] * shape[1] * shape[2];
                    if wi != n {
                        return Err(node_err(name, node, format!("weight expects {wi} inputs but its input has {n} (shape {:?})", shape)));
                    }
                    if (shape[1], shape[2]) != (1, 1) && !flattened {
                        return Err(node_err(name, node, format!("input of shape {:?} must be flattened (Flatten node) first", shape)));
                    }
                    if shape[1] != shape[2] {
                        return Err(node_err(
                            name,
                            node,
                            format!("input map {}x{} is not square: a fully connected layer becomes a convolution over the whole map, and the chip's kernels are square", shape[1], shape[2]),
                        ));
                    }
                    (f, c, k) = (wo, shape[0], shape[1]);
                    stride = [1, 1];
                    padding = [0, 0];
                    out = [wo, 1, 1];
                }
                // Sinabs: `conv.weight.data = conv.weight / rescale_weights` (after average pooling).
                let weights: Vec<f32> = w.data.iter().map(|&x| (x as f32) / rescale).collect();
                let biases: Vec<f32> = match (kind, node.tensor("bias")) {
                    ("Linear", _) | (_, None) => vec![0.0; f],
                    (_, Some(b)) if b.data.len() == f => b.data.iter().map(|&x| x as f32).collect(),
                    (_, Some(b)) => return Err(node_err(name, node, format!("bias has {} values; expected {f}", b.data.len()))),
                };
                layers.push(Pending {
                    node: name.to_string(),
                    weights,
                    biases,
                    input: [c, shape[1], shape[2]],
                    output: out,
                    k,
                    stride,
                    padding,
                    rescale,
                    neuron: None,
                    pooling: 1,
                    pool_nodes: Vec::new(),
                });
                shape = out;
                rescale = 1.0;
                flattened = false;
            }
            "IF" => {
                let Some(l) = layers.last_mut().filter(|l| l.neuron.is_none()) else {
                    return Err(node_err(name, node, "an IF node must directly follow a Conv2d, Affine or Linear node"));
                };
                let thr = uniform(name, node, "v_threshold", None)? as f32;
                if thr <= 0.0 {
                    return Err(node_err(name, node, format!("v_threshold = {thr}; the chip needs a positive threshold")));
                }
                let v_reset = uniform(name, node, "v_reset", Some(0.0))?;
                if v_reset != 0.0 {
                    return Err(node_err(name, node, format!("v_reset = {v_reset}; the chip resets to 0 or subtracts the threshold")));
                }
                let r = uniform(name, node, "r", Some(1.0))? as f32;
                if r != 1.0 {
                    // dv/dt = R·I: fold R into the synaptic weights and biases.
                    warnings.push(format!("IF node {name:?}: r = {r} folded into the weights and biases of {:?}", l.node));
                    l.weights.iter_mut().for_each(|w| *w *= r);
                    l.biases.iter_mut().for_each(|b| *b *= r);
                }
                let min_v_mem = match opt.min_v_mem {
                    MinVMem::Missing => None,
                    MinVMem::NegThreshold => Some(-thr),
                };
                l.neuron = Some((name.to_string(), thr, min_v_mem));
            }
            "SumPool2d" | "AvgPool2d" => {
                if flattened {
                    return Err(node_err(name, node, "pooling after Flatten is not supported"));
                }
                let k = pair(name, node, "kernel_size", None)?;
                let s = pair(name, node, "stride", Some(k[0]))?;
                let p = pair(name, node, "padding", Some(0))?;
                if k[0] != k[1] {
                    return Err(node_err(name, node, format!("pooling {}x{} is not square; the chip pools both axes alike", k[0], k[1])));
                }
                if s != k {
                    return Err(node_err(name, node, format!("stride {s:?} differs from the kernel {k:?}; the chip pools without overlap")));
                }
                if p != [0, 0] {
                    return Err(node_err(name, node, format!("padding {p:?}; pooling with padding is not supported")));
                }
                match layers.last_mut() {
                    None => {
                        dvs_pool *= k[0];
                        dvs_pool_nodes.push(name.to_string());
                    }
                    Some(l) if l.neuron.is_none() => {
                        return Err(node_err(name, node, format!("pooling between {:?} and its IF node is not supported", l.node)))
                    }
                    Some(l) => {
                        l.pooling *= k[0];
                        l.pool_nodes.push(name.to_string());
                    }
                }
                if kind == "AvgPool2d" {
                    // Sinabs turns AvgPool2d into SumPool2d and divides the next weights by kH·kW.
                    rescale *= (k[0] * k[1]) as f32;
                }
                shape = [shape[0], shape[1] / k[0], shape[2] / k[1]];
            }
            "Flatten" => {
                if let Some(l) = layers.last() {
                    if l.neuron.is_none() {
                        return Err(node_err(name, node, format!("Flatten between {:?} and its IF node is not supported", l.node)));
                    }
                }
                flattened = true;
            }
            "Output" => {
                needs_neuron(&layers)?;
                if rescale != 1.0 {
                    warnings.push(format!(
                        "average pooling before the Output {name:?}: the chip sums instead (by a factor {rescale}); no later layer can absorb it"
                    ));
                }
            }
            "Input" => return Err(node_err(name, node, "a second Input node")),
            other => return Err(node_err(name, node, unsupported_reason(other))),
        }
    }
    if layers.is_empty() {
        return Err(ImportError::Graph("the graph has no Conv2d/Affine + IF layer".into()));
    }

    // The DVS layer: inputs of 1 or 2 channels within the 128 x 128 sensor.
    let dvs = input[0] <= 2 && input[1] <= limits::DVS_SIZE as usize && input[2] <= limits::DVS_SIZE as usize;
    if !limits::POOLINGS.contains(&(dvs_pool as i64)) {
        return Err(ImportError::Graph(format!("pooling {dvs_pool} before the first layer (nodes {dvs_pool_nodes:?}); the DVS layer pools by 1, 2 or 4")));
    }
    if dvs_pool != 1 && !dvs {
        return Err(ImportError::Graph(format!(
            "pooling before the first layer (nodes {dvs_pool_nodes:?}) needs the DVS layer, but the input {input:?} is not a DVS input (C ≤ 2, H, W ≤ 128)"
        )));
    }
    if !dvs {
        warnings.push(format!(
            "input {input:?} is not a DVS input (C ≤ 2, H, W ≤ 128): no DVS layer; send inputs as spike items to the first layer's core"
        ));
    }

    // Discretize.
    let mut ints = Vec::new();
    for l in &layers {
        let (neuron, thr, min_v_mem) = l.neuron.clone().expect("checked: every layer has an IF node");
        if !limits::POOLINGS.contains(&(l.pooling as i64)) {
            return Err(ImportError::Graph(format!(
                "pooling {} after layer {:?} (nodes {:?}); the chip pools by 1, 2 or 4",
                l.pooling, l.node, l.pool_nodes
            )));
        }
        let d = discretize_layer(&FloatLayer { weights: &l.weights, biases: &l.biases, threshold: thr, min_v_mem, state: None });
        if min_v_mem.is_none() {
            warnings.push(format!(
                "IF node {neuron:?}: no min_v_mem (NIR has none); as in Sinabs, {MISSING_MIN_V_MEM} enters the scale{} and threshold_low = {}; --min-v-mem neg-threshold uses -v_threshold like sinabs.from_nir",
                if d.scales.chosen == d.scales.thresholds && d.scales.thresholds < d.scales.weights.min(d.scales.biases) {
                    format!(" and limits it to {} (weights alone would allow {})", d.scales.chosen, d.scales.weights.min(d.scales.biases))
                } else {
                    String::new()
                },
                d.threshold_low
            ));
        }
        if d.threshold_high < 1 {
            return Err(ImportError::Graph(format!(
                "IF node {neuron:?}: the threshold {thr} becomes {} at scale {} (limited by {}); the chip needs ≥ 1",
                d.threshold_high,
                d.scales.chosen,
                d.scales.limited_by()
            )));
        }
        if d.weights.iter().all(|&w| w == 0) {
            warnings.push(format!("node {:?}: every weight rounds to 0 at scale {} (limited by {})", l.node, d.scales.chosen, d.scales.limited_by()));
        }
        ints.push(d);
    }

    // Map.
    let demands: Vec<Demand> = layers
        .iter()
        .map(|l| Demand {
            name: format!("{} {}x{}x{} -> {}x{}x{} k{}", l.node, l.input[0], l.input[1], l.input[2], l.output[0], l.output[1], l.output[2], l.k),
            footprint: Footprint::new(l.input[0] as u32, l.output[0] as u32, l.k as u32, l.output[2] as u32, l.output[1] as u32),
        })
        .collect();
    let cores = assign(&demands, &preset.capacities()).map_err(|e| MappingError { message: format!("chip {:?}: {}", preset.name, e.message) })?;

    // Emit the configuration.
    let mut cnn_layers: Vec<Option<CnnLayerConfig>> = vec![None; preset.cores.len()];
    let mut reports = Vec::new();
    for (i, (l, d)) in layers.iter().zip(&ints).enumerate() {
        let (f, c, k) = (l.output[0], l.input[0], l.k);
        let mut weights = vec![vec![vec![vec![0i64; k]; k]; c]; f];
        for (idx, &w) in d.weights.iter().enumerate() {
            let (fi, rest) = (idx / (c * k * k), idx % (c * k * k));
            let (ci, rest) = (rest / (k * k), rest % (k * k));
            weights[fi][ci][rest / k][rest % k] = w;
        }
        let next = if i + 1 < layers.len() { cores[i + 1] as i64 } else { i64::from(HOST_LAYER) };
        let leak_enable = d.biases.iter().any(|&b| b != 0);
        cnn_layers[cores[i]] = Some(CnnLayerConfig {
            input_shape: Shape { features: c as i64, x: l.input[2] as i64, y: l.input[1] as i64 },
            output_shape: Shape { features: f as i64, x: l.output[2] as i64, y: l.output[1] as i64 },
            kernel_size: k as i64,
            stride: Xy { x: l.stride[1] as i64, y: l.stride[0] as i64 },
            padding: Xy { x: l.padding[1] as i64, y: l.padding[0] as i64 },
            weights,
            biases: Some(d.biases.clone()),
            neurons_initial_value: None,
            threshold_high: d.threshold_high,
            threshold_low: d.threshold_low,
            return_to_zero: opt.reset == Reset::Zero,
            leak_enable,
            monitor_enable: opt.monitor,
            destinations: vec![
                DestinationConfig { layer: next, enable: true, pooling: l.pooling as i64, feature_shift: 0 },
                DestinationConfig { layer: 0, enable: false, pooling: 1, feature_shift: 0 },
            ],
        });
        let neuron = l.neuron.as_ref().map(|n| n.0.clone()).unwrap_or_default();
        reports.push(LayerReport {
            node: l.node.clone(),
            neuron,
            core: cores[i],
            input: l.input,
            output: l.output,
            kernel: k,
            stride: l.stride,
            padding: l.padding,
            pooling: l.pooling,
            weight_rescale: l.rescale,
            scales: d.scales,
            threshold_high: d.threshold_high,
            threshold_low: d.threshold_low,
            footprint: demands[i].footprint,
            leak_enable,
        });
    }
    let dvs_layer = dvs.then(|| DvsLayerConfig {
        pooling: Some(Xy { x: dvs_pool as i64, y: dvs_pool as i64 }),
        origin: Some(Xy { x: 0, y: 0 }),
        cut: Some(Xy { x: (input[2] / dvs_pool) as i64 - 1, y: (input[1] / dvs_pool) as i64 - 1 }),
        mirror: XyFlags::default(),
        mirror_diagonal: false,
        merge: input[0] == 1,
        on_channel: true,
        off_channel: true,
        monitor_enable: false,
        destinations: vec![DvsDestinationConfig { layer: cores[0] as i64, enable: true }],
    });
    let config = ChipConfig { chip: ChipSpec { preset: Some(preset.name.to_string()), cores: None }, allow_cycles: false, dvs_layer, cnn_layers };
    if let Err(errors) = spikehdl_model::validate(&config) {
        let context = reports.iter().map(|r| format!("cnn_layers[{}] = {}", r.core, r.node)).collect::<Vec<_>>().join(", ");
        return Err(ImportError::Invalid { context, errors });
    }
    Ok(Imported { config, layers: reports, warnings, input, dvs })
}

/// Reads a `.nir` file and imports it.
pub fn import_file(path: &std::path::Path, opt: &Options) -> Result<Imported, ImportError> {
    let g = crate::graph::read(path)?;
    import_graph(&g, opt)
}
