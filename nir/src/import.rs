//! From a NIR graph to a chip configuration: check the graph's structure
//! and find its layers ([`crate::topology`]), compute every node's shape in
//! topological order, route each layer's spikes to its destinations,
//! discretize each layer like Sinabs 3 (`DynapcnnNetwork(discretize=True)`
//! on a graph), place the layers on cores and emit a [`ChipConfig`] that
//! passes [`spikehdl_model::validate`].

use std::collections::BTreeMap;
use std::fmt;

use spikehdl_model::config::{ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, DvsDestinationConfig, DvsLayerConfig, Shape, Xy, XyFlags};
use spikehdl_model::memory::Footprint;
use spikehdl_model::presets::{chip_preset, unknown_chip_preset, CHIP_REFERENCE, HOST_LAYER};
use spikehdl_model::validate::limits;

use crate::discretize::{discretize_layer, FloatLayer, Scales, MISSING_MIN_V_MEM};
pub use crate::error::ImportError;
use crate::error::node_err;
use crate::graph::{Graph, Node, Tensor, Value};
use crate::mapping::{place, Demand, MappingError};
use crate::topology::{is_pool, routes, structure, Route, Structure, Target, MAX_ROUTES};

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
    /// Place the network on exactly this many daisy-chained chips of the
    /// preset; `None`: on as few as fit (one when the network fits one).
    pub chips: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Self { chip: CHIP_REFERENCE.name.into(), input_shape: None, min_v_mem: MinVMem::default(), reset: Reset::Subtract, monitor: false, chips: None }
    }
}

/// One destination of an imported layer, for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DestinationReport {
    /// The weight node of the destination layer, or the Output node.
    pub to: String,
    /// The chip of the destination layer when it is not the layer's own (the event crosses the link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<usize>,
    /// The destination's `layer` field: the core of that layer, or 12 (the host readout).
    pub layer: usize,
    /// Sum pooling of this destination.
    pub pooling: usize,
    /// The pooling and Flatten nodes on the way.
    pub via: Vec<String>,
}

impl fmt::Display for DestinationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.layer == usize::from(HOST_LAYER) {
            write!(f, "host")?;
        } else if let Some(c) = self.chip {
            write!(f, "chip {c} core {}", self.layer)?;
        } else {
            write!(f, "core {}", self.layer)?;
        }
        if self.pooling != 1 {
            write!(f, " (pool {})", self.pooling)?;
        }
        Ok(())
    }
}

/// One imported layer, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LayerReport {
    /// The Conv2d / Affine / Linear node.
    pub node: String,
    /// The IF node.
    pub neuron: String,
    /// The chip (of a chain; 0 on one chip) and core the layer sits on.
    pub chip: usize,
    pub core: usize,
    /// (C, H, W) in, (F, H, W) out.
    pub input: [usize; 3],
    pub output: [usize; 3],
    pub kernel: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    /// Where the layer's input spikes come from: the Input node (through the
    /// DVS layer or from the host) and the IF nodes of its source layers, in
    /// the order their routes were found. Several sources sum (fan-in).
    pub sources: Vec<String>,
    /// Where its output spikes go (at most the chip's two destinations).
    pub destinations: Vec<DestinationReport>,
    /// The weights were multiplied by this before discretization: Sinabs 3's
    /// `rescale_factor`, 1/(k·k) after an average pooling of k (the chip sums).
    pub rescale_factor: f32,
    pub scales: Scales,
    pub threshold_high: i64,
    pub threshold_low: i64,
    pub footprint: Footprint,
    pub leak_enable: bool,
}

/// A successful import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The configuration of chip 0 (the only chip unless the network needed more).
    pub config: ChipConfig,
    /// Chips 1.. of a chain of daisy-chained chips, in order; empty on one chip.
    pub other_chips: Vec<ChipConfig>,
    /// Why the network is on several chips (empty on one chip).
    pub chips_why: String,
    /// In topological order of the graph.
    pub layers: Vec<LayerReport>,
    pub warnings: Vec<String>,
    /// Input (C, H, W) and whether a DVS layer feeds the entry layers.
    pub input: [usize; 3],
    pub dvs: bool,
    /// The cores the input reaches: the DVS layer's destinations, or the
    /// cores the host must send spike items to when there is no DVS layer
    /// (all on chip 0).
    pub entry_cores: Vec<usize>,
}

impl Imported {
    /// The configuration file: one chip, or the chain.
    pub fn file(&self) -> spikehdl_model::ChainConfig {
        if self.other_chips.is_empty() {
            spikehdl_model::ChainConfig::Single(self.config.clone())
        } else {
            let chips = std::iter::once(self.config.clone()).chain(self.other_chips.iter().cloned()).collect();
            spikehdl_model::ChainConfig::Chain(spikehdl_model::chain::ChainFile { chips })
        }
    }
    /// How many chips the network uses.
    pub fn n_chips(&self) -> usize {
        1 + self.other_chips.len()
    }
}

impl fmt::Display for LayerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dests: Vec<String> = self.destinations.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} + {} -> core {}: {}x{}x{} -> {}x{}x{}, k {}, stride {:?}, pad {:?}, from {}, to {}, scale {} (limited by {}), thresholds {}..{}",
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
            self.sources.join(" + "),
            dests.join(", "),
            self.scales.chosen,
            self.scales.limited_by(),
            self.threshold_low,
            self.threshold_high
        )
    }
}

/// A layer's parameters as read from its weight and IF nodes (f32, before discretization).
struct Pending {
    weights: Vec<f32>,
    biases: Vec<f32>,
    input: [usize; 3],
    output: [usize; 3],
    k: usize,
    stride: [usize; 2],
    padding: [usize; 2],
    /// v_threshold and min_v_mem, from the IF node.
    threshold: f32,
    min_v_mem: Option<f32>,
}

/// The map a node outputs: its shape and whether it was flattened (only an
/// Affine/Linear may consume a flattened map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Map {
    shape: [usize; 3],
    flat: bool,
}

impl fmt::Display for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}{}", self.shape[0], self.shape[1], self.shape[2], if self.flat { " (flattened)" } else { "" })
    }
}

/// Sinabs 3's `consolidate_layer_scaling` with `DynapcnnNetwork`'s default
/// `weight_rescaling_fn = rescale_method_1`: the distinct rescale factors of
/// the routes into one layer (a Python set); none → 1, one → it, several →
/// `np.round(np.mean(factors) * 0.5, 2)` (the second value is true then).
pub fn sinabs_rescale(factors: &[f64]) -> (f64, bool) {
    let mut distinct: Vec<f64> = Vec::new();
    for &f in factors {
        if !distinct.contains(&f) {
            distinct.push(f);
        }
    }
    match distinct.as_slice() {
        [] => (1.0, false),
        [one] => (*one, false),
        many => {
            let mean = many.iter().sum::<f64>() / many.len() as f64;
            // np.round(x, 2): rint(x * 100) / 100, half to even.
            (((mean * 0.5) * 100.0).round_ties_even() / 100.0, true)
        }
    }
}

fn describe_route(g: &Graph, s: &Structure, r: &Route) -> String {
    let to = match r.target {
        Target::Layer(l) => format!("{:?}", s.layers[l].0),
        Target::Output(o) => format!("output {o:?}"),
    };
    let pools: Vec<&&str> = r.via.iter().filter(|n| is_pool(&g.nodes[**n].kind)).collect();
    if pools.is_empty() {
        to
    } else {
        format!("{to} (pool {} via {})", r.pooling, pools.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "))
    }
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
    let s = structure(g)?;
    let mut warnings = Vec::new();
    let input = input_shape(s.input, &g.nodes[s.input], opt.input_shape)?;

    // Every node's output map, in topological order, and the layers' parameters.
    let mut maps: BTreeMap<&str, Map> = BTreeMap::new();
    let mut pending: Vec<Option<Pending>> = (0..s.layers.len()).map(|_| None).collect();
    let mut pools: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for &name in &s.order {
        let node = &g.nodes[name];
        let kind = node.kind.as_str();
        if kind == "Input" {
            maps.insert(name, Map { shape: input, flat: false });
            continue;
        }
        let preds = s.pred(name);
        let m0 = maps[preds[0]];
        if let Some(other) = preds.iter().find(|p| maps[**p] != m0) {
            return Err(node_err(
                name,
                node,
                format!(
                    "its inputs differ in shape: {:?} gives {m0}, {other:?} gives {}; a node sums its inputs, so they must have the same shape (as Sinabs requires of all sources of a layer)",
                    preds[0],
                    maps[other]
                ),
            ));
        }
        let Map { shape, flat } = m0;
        let out = match kind {
            "Conv2d" | "Affine" | "Linear" => {
                let w = tensor(name, node, "weight")?;
                let (f, c, k, stride, padding, out);
                if kind == "Conv2d" {
                    if flat {
                        return Err(node_err(name, node, "a Conv2d after Flatten is not supported"));
                    }
                    let [wf, wc, kh, kw] = w.shape[..] else {
                        return Err(node_err(name, node, format!("weight has shape {:?}; expected (out, in, kH, kW)", w.shape)));
                    };
                    if kh != kw {
                        return Err(node_err(name, node, format!("kernel {kh}x{kw} is not square; the chip supports square kernels only")));
                    }
                    if wc != shape[0] {
                        return Err(node_err(name, node, format!("weight expects {wc} input channels but its input has {} (shape {m0})", shape[0])));
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
                        return Err(node_err(name, node, format!("weight expects {wi} inputs but its input has {n} (shape {m0})")));
                    }
                    if (shape[1], shape[2]) != (1, 1) && !flat {
                        return Err(node_err(name, node, format!("input of shape {m0} must be flattened (Flatten node) first")));
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
                let biases: Vec<f32> = match (kind, node.tensor("bias")) {
                    ("Linear", _) | (_, None) => vec![0.0; f],
                    (_, Some(b)) if b.data.len() == f => b.data.iter().map(|&x| x as f32).collect(),
                    (_, Some(b)) => return Err(node_err(name, node, format!("bias has {} values; expected {f}", b.data.len()))),
                };
                let l = s.layer_of_weight(name).expect("structure pairs every weight node with a layer");
                pending[l] = Some(Pending {
                    weights: w.data.iter().map(|&x| x as f32).collect(),
                    biases,
                    input: [c, shape[1], shape[2]],
                    output: out,
                    k,
                    stride,
                    padding,
                    threshold: 0.0,
                    min_v_mem: None,
                });
                Map { shape: out, flat: false }
            }
            "IF" => {
                let l = s.layer_of_neuron(name).expect("structure pairs every IF node with a layer");
                let weight_node = s.layers[l].0;
                let p = pending[l].as_mut().expect("the weight node comes first in topological order");
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
                    warnings.push(format!("IF node {name:?}: r = {r} folded into the weights and biases of {weight_node:?}"));
                    p.weights.iter_mut().for_each(|w| *w *= r);
                    p.biases.iter_mut().for_each(|b| *b *= r);
                }
                p.threshold = thr;
                p.min_v_mem = match opt.min_v_mem {
                    MinVMem::Missing => None,
                    MinVMem::NegThreshold => Some(-thr),
                };
                m0
            }
            "SumPool2d" | "AvgPool2d" => {
                if flat {
                    return Err(node_err(name, node, "pooling after Flatten is not supported"));
                }
                let k = pair(name, node, "kernel_size", None)?;
                let st = pair(name, node, "stride", Some(k[0]))?;
                let p = pair(name, node, "padding", Some(0))?;
                if k[0] != k[1] {
                    return Err(node_err(name, node, format!("pooling {}x{} is not square; the chip pools both axes alike", k[0], k[1])));
                }
                if st != k {
                    return Err(node_err(name, node, format!("stride {st:?} differs from the kernel {k:?}; the chip pools without overlap")));
                }
                if p != [0, 0] {
                    return Err(node_err(name, node, format!("padding {p:?}; pooling with padding is not supported")));
                }
                if k[0] == 0 || shape[1] < k[0] || shape[2] < k[0] {
                    return Err(node_err(name, node, format!("pooling {} of a {m0} map leaves no output", k[0])));
                }
                pools.insert(name, (k[0], kind == "AvgPool2d"));
                Map { shape: [shape[0], shape[1] / k[0], shape[2] / k[1]], flat: false }
            }
            "Flatten" => Map { shape, flat: true },
            // "Output"; [`structure`] refused every other kind.
            _ => m0,
        };
        maps.insert(name, out);
    }
    let pending: Vec<Pending> = pending.into_iter().map(|p| p.expect("every layer has a weight node")).collect();

    // Routes: each layer's destinations, and the input's.
    let layer_routes: Vec<Vec<Route>> = s.layers.iter().map(|&(_, n)| routes(&s, g, n, &pools)).collect();
    let input_routes = routes(&s, g, s.input, &pools);
    for (i, rs) in layer_routes.iter().enumerate() {
        let neuron = s.layers[i].1;
        if rs.len() > 2 {
            let n = if rs.len() >= MAX_ROUTES { format!("at least {MAX_ROUTES}") } else { rs.len().to_string() };
            let list: Vec<String> = rs.iter().map(|r| describe_route(g, &s, r)).collect();
            return Err(node_err(
                neuron,
                &g.nodes[neuron],
                format!(
                    "{n} destinations ({}); a chip layer sends to at most 2 (Sinabs: MaxDestinationsReached). Relay one through an identity layer (a 1x1 Conv2d with weight 1 and its own IF node), or read this layer out through its monitor copy (import --monitor) instead of an Output node",
                    list.join(", ")
                ),
            ));
        }
        for r in rs {
            if !limits::POOLINGS.contains(&(r.pooling as i64)) {
                return Err(ImportError::Graph(format!(
                    "pooling {} from layer {:?} to {} (nodes {:?}); the chip pools by 1, 2 or 4",
                    r.pooling,
                    s.layers[i].0,
                    describe_route(g, &s, r),
                    r.via
                )));
            }
            if let Target::Output(o) = r.target {
                if r.scale != 1.0 {
                    warnings.push(format!(
                        "average pooling before the Output {o:?}: the chip sums instead (by a factor {}); no later layer can absorb it",
                        1.0 / r.scale
                    ));
                }
            }
        }
    }
    let in_node = &g.nodes[s.input];
    if let Some(r) = input_routes.iter().find(|r| matches!(r.target, Target::Output(_))) {
        return Err(node_err(s.input, in_node, format!("reaches {} without a layer; the chip reads out only layers", describe_route(g, &s, r))));
    }

    // The DVS layer: inputs of 1 or 2 channels within the 128 x 128 sensor.
    // It has one pooling for all its (at most two) destinations.
    let dvs = input[0] <= 2 && input[1] <= limits::DVS_SIZE as usize && input[2] <= limits::DVS_SIZE as usize;
    let dvs_pool = input_routes[0].pooling;
    let input_pools: Vec<&str> = input_routes.iter().flat_map(|r| r.via.iter().copied()).filter(|n| is_pool(&g.nodes[*n].kind)).collect();
    if dvs {
        if input_routes.len() > 2 {
            let list: Vec<String> = input_routes.iter().map(|r| describe_route(g, &s, r)).collect();
            return Err(node_err(
                s.input,
                in_node,
                format!("{} destinations ({}); the DVS layer sends to at most 2 layers", if input_routes.len() >= MAX_ROUTES { format!("at least {MAX_ROUTES}") } else { input_routes.len().to_string() }, list.join(", ")),
            ));
        }
        if let Some(r) = input_routes.iter().find(|r| r.pooling != dvs_pool) {
            return Err(node_err(
                s.input,
                in_node,
                format!(
                    "its destinations are pooled differently: {} and {}; the DVS layer has one pooling for all its destinations",
                    describe_route(g, &s, &input_routes[0]),
                    describe_route(g, &s, r)
                ),
            ));
        }
        if !limits::POOLINGS.contains(&(dvs_pool as i64)) {
            return Err(ImportError::Graph(format!("pooling {dvs_pool} before the first layer (nodes {input_pools:?}); the DVS layer pools by 1, 2 or 4")));
        }
    } else if !input_pools.is_empty() {
        return Err(ImportError::Graph(format!(
            "pooling before the first layer (nodes {input_pools:?}) needs the DVS layer, but the input {input:?} is not a DVS input (C ≤ 2, H, W ≤ 128)"
        )));
    }

    // Sources and rescale factors per layer. The input's routes count only
    // when they pool (Sinabs adds the DVS pooling's factor, and nothing when
    // no pooling follows the DVS layer); a layer's routes always count.
    let mut sources: Vec<Vec<String>> = vec![Vec::new(); s.layers.len()];
    let mut factors: Vec<Vec<f64>> = vec![Vec::new(); s.layers.len()];
    let mut add = |from: &str, r: &Route, counts: bool| {
        if let Target::Layer(j) = r.target {
            if !sources[j].iter().any(|x| x == from) {
                sources[j].push(from.to_string());
            }
            if counts {
                factors[j].push(r.scale);
            }
        }
    };
    for r in &input_routes {
        add(s.input, r, r.via.iter().any(|n| is_pool(&g.nodes[*n].kind)));
    }
    for (i, rs) in layer_routes.iter().enumerate() {
        for r in rs {
            add(s.layers[i].1, r, true);
        }
    }

    // Discretize.
    let mut ints = Vec::new();
    let mut rescales = Vec::new();
    for (i, l) in pending.iter().enumerate() {
        let (weight_node, neuron) = s.layers[i];
        let (factor, conflict) = sinabs_rescale(&factors[i]);
        if conflict {
            warnings.push(format!(
                "layer {weight_node:?}: its sources arrive through different average poolings (weight factors {:?}); like Sinabs' default rescale_method_1 the weights are multiplied by round(mean · 0.5, 2) = {factor}; use SumPool2d on these branches to keep the weights as trained",
                factors[i]
            ));
        }
        // Sinabs 3 (DynapcnnLayer): `conv.weight * rescale_weights` in f32, before discretizing.
        let weights: Vec<f32> = if factor == 1.0 { l.weights.clone() } else { l.weights.iter().map(|&w| w * factor as f32).collect() };
        let d = discretize_layer(&FloatLayer { weights: &weights, biases: &l.biases, threshold: l.threshold, min_v_mem: l.min_v_mem, state: None });
        if l.min_v_mem.is_none() {
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
                "IF node {neuron:?}: the threshold {} becomes {} at scale {} (limited by {}); the chip needs ≥ 1",
                l.threshold,
                d.threshold_high,
                d.scales.chosen,
                d.scales.limited_by()
            )));
        }
        if d.weights.iter().all(|&w| w == 0) {
            warnings.push(format!("node {weight_node:?}: every weight rounds to 0 at scale {} (limited by {})", d.scales.chosen, d.scales.limited_by()));
        }
        ints.push(d);
        rescales.push(factor as f32);
    }

    // Map.
    let demands: Vec<Demand> = pending
        .iter()
        .enumerate()
        .map(|(i, l)| Demand {
            name: format!("{} {}x{}x{} -> {}x{}x{} k{}", s.layers[i].0, l.input[0], l.input[1], l.input[2], l.output[0], l.output[1], l.output[2], l.k),
            footprint: Footprint::new(l.input[0] as u32, l.output[0] as u32, l.k as u32, l.output[2] as u32, l.output[1] as u32),
        })
        .collect();
    let edges: Vec<(usize, usize)> = layer_routes
        .iter()
        .enumerate()
        .flat_map(|(i, rs)| rs.iter().filter_map(move |r| if let Target::Layer(j) = r.target { Some((i, j)) } else { None }))
        .collect();
    let entries: Vec<usize> = input_routes.iter().filter_map(|r| if let Target::Layer(j) = r.target { Some(j) } else { None }).collect();
    let placed = place(&demands, &preset.capacities(), &edges, &entries, opt.chips, spikehdl_model::chain::MAX_CHIPS)
        .map_err(|e| MappingError { message: format!("chip {:?}: {}", preset.name, e.message) })?;
    let (chip_of, cores) = (&placed.chip, &placed.core);
    let chips_why = if placed.n_chips == 1 {
        String::new()
    } else {
        let runs: Vec<String> = (0..placed.n_chips)
            .map(|k| {
                let on: Vec<&str> = (0..chip_of.len()).filter(|&i| chip_of[i] == k).map(|i| s.layers[i].0).collect();
                format!("chip {k}: {}", on.join(", "))
            })
            .collect();
        match opt.chips {
            Some(n) => format!("{n} chips as asked (--chips); {}", runs.join("; ")),
            None => format!(
                "the {} layers do not fit one {:?} ({} cores): {} daisy-chained chips; {}",
                demands.len(),
                preset.name,
                preset.cores.len(),
                placed.n_chips,
                runs.join("; ")
            ),
        }
    };
    let dest_layer = |r: &Route| match r.target {
        Target::Layer(j) => cores[j],
        Target::Output(_) => usize::from(HOST_LAYER),
    };
    let dest_chip = |i: usize, r: &Route| match r.target {
        Target::Layer(j) if chip_of[j] != chip_of[i] => Some(chip_of[j]),
        _ => None,
    };
    let dest_report = |i: usize, r: &Route| DestinationReport {
        to: match r.target {
            Target::Layer(j) => s.layers[j].0.to_string(),
            Target::Output(o) => o.to_string(),
        },
        chip: dest_chip(i, r),
        layer: dest_layer(r),
        pooling: r.pooling,
        via: r.via.iter().map(|n| n.to_string()).collect(),
    };

    // Emit the configuration.
    let mut cnn_layers: Vec<Vec<Option<CnnLayerConfig>>> = vec![vec![None; preset.cores.len()]; placed.n_chips];
    let mut reports = Vec::new();
    for (i, (l, d)) in pending.iter().zip(&ints).enumerate() {
        let (f, c, k) = (l.output[0], l.input[0], l.k);
        let mut weights = vec![vec![vec![vec![0i64; k]; k]; c]; f];
        for (idx, &w) in d.weights.iter().enumerate() {
            let (fi, rest) = (idx / (c * k * k), idx % (c * k * k));
            let (ci, rest) = (rest / (k * k), rest % (k * k));
            weights[fi][ci][rest / k][rest % k] = w;
        }
        let mut destinations: Vec<DestinationConfig> = layer_routes[i]
            .iter()
            .map(|r| DestinationConfig { chip: dest_chip(i, r).map(|c| c as i64), layer: dest_layer(r) as i64, enable: true, pooling: r.pooling as i64, feature_shift: 0 })
            .collect();
        destinations.resize(2, DestinationConfig { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 });
        let leak_enable = d.biases.iter().any(|&b| b != 0);
        cnn_layers[chip_of[i]][cores[i]] = Some(CnnLayerConfig {
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
            destinations,
        });
        reports.push(LayerReport {
            node: s.layers[i].0.to_string(),
            neuron: s.layers[i].1.to_string(),
            chip: chip_of[i],
            core: cores[i],
            input: l.input,
            output: l.output,
            kernel: k,
            stride: l.stride,
            padding: l.padding,
            sources: sources[i].clone(),
            destinations: layer_routes[i].iter().map(|r| dest_report(i, r)).collect(),
            rescale_factor: rescales[i],
            scales: d.scales,
            threshold_high: d.threshold_high,
            threshold_low: d.threshold_low,
            footprint: demands[i].footprint,
            leak_enable,
        });
    }
    let entry_cores: Vec<usize> = input_routes.iter().map(dest_layer).collect();
    if !dvs {
        warnings.push(format!(
            "input {input:?} is not a DVS input (C ≤ 2, H, W ≤ 128): no DVS layer; send inputs as spike items to core{} {}",
            if entry_cores.len() == 1 { "" } else { "s" },
            entry_cores.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ));
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
        destinations: entry_cores.iter().map(|&c| DvsDestinationConfig { layer: c as i64, enable: true }).collect(),
    });
    let mut chips: Vec<ChipConfig> = cnn_layers
        .into_iter()
        .map(|cnn_layers| ChipConfig { chip: ChipSpec { preset: Some(preset.name.to_string()), cores: None }, allow_cycles: false, dvs_layer: None, cnn_layers })
        .collect();
    chips[0].dvs_layer = dvs_layer;
    let config = chips.remove(0);
    let imported = Imported { config, other_chips: chips, chips_why, layers: reports, warnings, input, dvs, entry_cores };
    if let Err(errors) = spikehdl_model::validate_chain(&imported.file()) {
        let at = |r: &LayerReport| if imported.n_chips() > 1 { format!("chips[{}].cnn_layers[{}]", r.chip, r.core) } else { format!("cnn_layers[{}]", r.core) };
        let context = imported.layers.iter().map(|r| format!("{} = {}", at(r), r.node)).collect::<Vec<_>>().join(", ");
        return Err(ImportError::Invalid { context, errors });
    }
    Ok(imported)
}

/// Reads a `.nir` file and imports it.
pub fn import_file(path: &std::path::Path, opt: &Options) -> Result<Imported, ImportError> {
    let g = crate::graph::read(path)?;
    import_graph(&g, opt)
}
