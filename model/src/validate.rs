//! Validation of a [`ChipConfig`] against every static limit of spec §2, §5
//! and §7. All errors are collected and reported together; each names the
//! path of the offending field, its value and the allowed range.

use std::fmt;

use crate::config::{ChipConfig, CnnLayerConfig, DvsLayerConfig, Xy};
use crate::memory::{AddressBits, Footprint};
use crate::neuron::NeuronParams;
use crate::presets::{chip_preset, unknown_chip_preset, CoreCapacity, CHIP_REFERENCE, HOST_LAYER, MAX_CORES};

/// Limits of spec §2 (inclusive).
pub mod limits {
    pub const MAX_CHANNELS: i64 = 1024;
    pub const MAX_INPUT_SIZE: i64 = 128;
    pub const MAX_OUTPUT_SIZE: i64 = 64;
    pub const MAX_KERNEL: i64 = 16;
    pub const STRIDES: [i64; 4] = [1, 2, 4, 8];
    pub const MAX_PADDING: i64 = 7;
    pub const POOLINGS: [i64; 3] = [1, 2, 4];
    pub const MAX_FEATURE_SHIFT: i64 = 1023;
    pub const DVS_SIZE: i64 = 128;
}

/// One validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the offending field, e.g. `cnn_layers[3].destinations[1].pooling`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All errors found in one configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s) in the configuration:", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// A destination after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    /// Another chip of a chain that holds core `layer` (the event crosses
    /// the inter-chip link); `None` on this chip.
    pub chip: Option<u8>,
    /// Core id, or [`HOST_LAYER`].
    pub layer: u8,
    pub enable: bool,
    pub pooling: u32,
    pub feature_shift: u32,
}

/// A convolution layer after validation: every field in range, shapes consistent.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub c: u32,
    pub w_in: u32,
    pub h_in: u32,
    pub k: u32,
    pub stride_x: u32,
    pub stride_y: u32,
    pub pad_x: u32,
    pub pad_y: u32,
    pub f: u32,
    pub w_out: u32,
    pub h_out: u32,
    /// `[F][C][k][k]` flattened, PyTorch order.
    pub weights: Vec<i8>,
    /// Length F.
    pub biases: Vec<i16>,
    /// `[F][H_out][W_out]` flattened.
    pub neurons_initial_value: Vec<i16>,
    pub params: NeuronParams,
    pub leak_enable: bool,
    pub monitor_enable: bool,
    pub destinations: [Destination; 2],
}

impl Layer {
    /// Weight (f, c, ky, kx) in PyTorch order.
    pub fn weight(&self, f: u32, c: u32, ky: u32, kx: u32) -> i8 {
        let k = self.k as usize;
        self.weights[((f as usize * self.c as usize + c as usize) * k + ky as usize) * k + kx as usize]
    }
    /// Initial state of neuron (f, y, x).
    pub fn initial(&self, f: u32, y: u32, x: u32) -> i16 {
        self.neurons_initial_value
            [(f as usize * self.h_out as usize + y as usize) * self.w_out as usize + x as usize]
    }
    pub fn footprint(&self) -> Footprint {
        Footprint::new(self.c, self.f, self.k, self.w_out, self.h_out)
    }
    pub fn address_bits(&self) -> AddressBits {
        AddressBits::new(self.k, self.f, self.w_out, self.h_out)
    }
    /// Output size along one axis: floor((in + 2·pad − k)/stride) + 1, or None if negative.
    pub fn output_size(input: i64, pad: i64, k: i64, stride: i64) -> Option<i64> {
        let n = input + 2 * pad - k;
        if n < 0 || stride <= 0 {
            None
        } else {
            Some(n / stride + 1)
        }
    }
}

/// The DVS layer after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DvsLayer {
    pub pool_x: u32,
    pub pool_y: u32,
    pub origin_x: u32,
    pub origin_y: u32,
    pub cut_x: u32,
    pub cut_y: u32,
    pub mirror_x: bool,
    pub mirror_y: bool,
    pub mirror_diagonal: bool,
    pub merge: bool,
    pub on_channel: bool,
    pub off_channel: bool,
    pub monitor_enable: bool,
    /// Enabled destination core ids, in order.
    pub destinations: [Option<u8>; 2],
}

impl DvsLayer {
    /// Output map `(channels, width, height)` after crop and flips.
    pub fn output_shape(&self) -> (u32, u32, u32) {
        let c = if self.merge { 1 } else { 2 };
        let wc = self.cut_x - self.origin_x + 1;
        let hc = self.cut_y - self.origin_y + 1;
        if self.mirror_diagonal {
            (c, hc, wc)
        } else {
            (c, wc, hc)
        }
    }
}

/// A configuration that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConfig {
    pub capacities: Vec<CoreCapacity>,
    /// `layers[i]` is the layer on core i.
    pub layers: Vec<Option<Layer>>,
    pub dvs: Option<DvsLayer>,
    pub allow_cycles: bool,
}

impl ValidConfig {
    pub fn n_cores(&self) -> usize {
        self.capacities.len()
    }

    /// Why this configuration does not run on a chip with cores `caps`
    /// (too few cores; each configured layer's [`Footprint::misfits`] on its
    /// core); empty when it fits.
    pub fn misfits_on(&self, caps: &[CoreCapacity]) -> Vec<String> {
        let mut v = Vec::new();
        if self.n_cores() > caps.len() {
            v.push(format!("the configuration has {} cores but the chip has {}", self.n_cores(), caps.len()));
        }
        for (i, (l, cap)) in self.layers.iter().zip(caps).enumerate() {
            if let Some(l) = l {
                for m in l.footprint().misfits(cap) {
                    v.push(format!("core {i}: {m}"));
                }
            }
        }
        v
    }
}

struct Errs(Vec<ConfigError>);

impl Errs {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError { path: path.into(), message: message.into() });
    }
    /// Checks lo ≤ v ≤ hi.
    fn range(&mut self, path: &str, v: i64, lo: i64, hi: i64) -> bool {
        if v < lo || v > hi {
            self.push(path, format!("value {v} is out of range {lo}..={hi}"));
            false
        } else {
            true
        }
    }
    fn one_of(&mut self, path: &str, v: i64, allowed: &[i64]) -> bool {
        if allowed.contains(&v) {
            true
        } else {
            self.push(path, format!("value {v} is not one of {allowed:?}"));
            false
        }
    }
}

/// Parses and validates a configuration from JSON text; a syntax error is
/// reported as a single [`ConfigError`] with path `<json>` and line/column.
pub fn parse_and_validate(text: &str) -> Result<ValidConfig, ConfigErrors> {
    let cfg = ChipConfig::from_json(text).map_err(|e| {
        // serde_path_to_error prints the root as "."; a syntax error before
        // any field has no path and keeps the `<json>` marker.
        let path = if e.path.is_empty() || e.path == "." { "<json>".to_string() } else { e.path };
        ConfigErrors(vec![ConfigError { path, message: e.error.to_string() }])
    })?;
    validate(&cfg)
}

/// Validates a configuration, reporting every error found.
pub fn validate(cfg: &ChipConfig) -> Result<ValidConfig, ConfigErrors> {
    validate_member(cfg, 0, 1)
}

/// Validates chip `own` of a chain of `n_chips` chips ([`crate::chain`]):
/// a destination may name another chip, whose checks (the target core, its
/// shape, the link rules) need the whole chain and are left to the chain.
pub(crate) fn validate_member(cfg: &ChipConfig, own: usize, n_chips: usize) -> Result<ValidConfig, ConfigErrors> {
    let mut e = Errs(Vec::new());
    let capacities = chip_capacities(cfg, &mut e);
    let n = capacities.len();
    if cfg.cnn_layers.len() > n {
        e.push(
            "cnn_layers",
            format!("{} layers given but the chip has {} cores (ids 0..={})", cfg.cnn_layers.len(), n, n.saturating_sub(1)),
        );
    }
    let mut layers: Vec<Option<Layer>> = vec![None; n];
    for (i, l) in cfg.cnn_layers.iter().enumerate() {
        if let Some(l) = l {
            let path = format!("cnn_layers[{i}]");
            if let Some(layer) = validate_layer(&path, l, n, own, n_chips, &mut e) {
                if let Some(cap) = capacities.get(i) {
                    check_capacity(&path, &layer, cap, i, &mut e);
                }
                if i < n {
                    layers[i] = Some(layer);
                }
            }
        }
    }
    let dvs = cfg.dvs_layer.as_ref().and_then(|d| validate_dvs("dvs_layer", d, n, &mut e));

    // Destination compatibility needs every layer validated first. A core whose
    // layer is configured but invalid already has its own errors: not repeated here.
    let unconfigured = |j: usize| !matches!(cfg.cnn_layers.get(j), Some(Some(_)));
    for (i, l) in layers.iter().enumerate() {
        let Some(l) = l else { continue };
        for (d, dest) in l.destinations.iter().enumerate() {
            if !dest.enable || dest.layer == HOST_LAYER || dest.chip.is_some() {
                continue;
            }
            let path = format!("cnn_layers[{i}].destinations[{d}]");
            let j = dest.layer as usize;
            match layers.get(j).and_then(|t| t.as_ref()) {
                None if unconfigured(j) => {
                    e.push(format!("{path}.layer"), format!("value {j} names core {j}, which has no layer configured"))
                }
                None => {}
                Some(t) => {
                    let (pw, ph) = (l.w_out / dest.pooling, l.h_out / dest.pooling);
                    if (pw, ph) != (t.w_in, t.h_in) {
                        e.push(
                            format!("{path}.pooling"),
                            format!(
                                "output {}x{} of layer {i} pooled by {} is {}x{} (x by y), but core {j}'s input_shape is {}x{}",
                                l.w_out, l.h_out, dest.pooling, pw, ph, t.w_in, t.h_in
                            ),
                        );
                    }
                    if dest.feature_shift + l.f > t.c {
                        e.push(
                            format!("{path}.feature_shift"),
                            format!(
                                "feature_shift {} + {} features = {} exceeds core {j}'s {} input features",
                                dest.feature_shift,
                                l.f,
                                dest.feature_shift + l.f,
                                t.c
                            ),
                        );
                    }
                }
            }
        }
    }
    if let Some(d) = &dvs {
        let (c, w, h) = d.output_shape();
        for (k, dest) in d.destinations.iter().enumerate() {
            let Some(j) = dest else { continue };
            let path = format!("dvs_layer.destinations[{k}].layer");
            match layers.get(*j as usize).and_then(|t| t.as_ref()) {
                None if unconfigured(*j as usize) => {
                    e.push(path, format!("value {j} names core {j}, which has no layer configured"))
                }
                None => {}
                Some(t) => {
                    if (w, h) != (t.w_in, t.h_in) {
                        e.push(
                            path.clone(),
                            format!("DVS output {w}x{h} (x by y, after crop and flips) differs from core {j}'s input_shape {}x{}", t.w_in, t.h_in),
                        );
                    }
                    if c > t.c {
                        e.push(path, format!("DVS output has {c} channels but core {j} takes only {}", t.c));
                    }
                }
            }
        }
    }
    if !cfg.allow_cycles {
        if let Some(cycle) = find_cycle(&layers) {
            let path = format!("cnn_layers[{}].destinations", cycle[0]);
            let s: Vec<String> = cycle.iter().map(|c| c.to_string()).collect();
            e.push(
                path,
                format!("destination cycle {} -> {}; the chip may deadlock on it (Sinabs #270): set \"allow_cycles\": true to accept it", s.join(" -> "), cycle[0]),
            );
        }
    }
    if e.0.is_empty() {
        Ok(ValidConfig { capacities, layers, dvs, allow_cycles: cfg.allow_cycles })
    } else {
        Err(ConfigErrors(e.0))
    }
}

fn chip_capacities(cfg: &ChipConfig, e: &mut Errs) -> Vec<CoreCapacity> {
    match (&cfg.chip.preset, &cfg.chip.cores) {
        (Some(_), Some(_)) => {
            e.push("chip", "give either \"preset\" or \"cores\", not both");
            CHIP_REFERENCE.capacities()
        }
        (Some(name), None) => match chip_preset(name) {
            Some(p) => p.capacities(),
            None => {
                e.push("chip.preset", unknown_chip_preset(name));
                CHIP_REFERENCE.capacities()
            }
        },
        (None, Some(cores)) => {
            if cores.is_empty() || cores.len() > MAX_CORES {
                e.push("chip.cores", format!("{} cores given; a chip has 1..={MAX_CORES} cores", cores.len()));
            }
            cores.iter().take(MAX_CORES).copied().collect()
        }
        (None, None) => CHIP_REFERENCE.capacities(),
    }
}

fn check_capacity(path: &str, l: &Layer, cap: &CoreCapacity, core: usize, e: &mut Errs) {
    for m in l.footprint().misfits(cap) {
        e.push(path, format!("needs {} {} words but core {core} has {}", m.needed, m.memory, m.available));
    }
}

fn xy_in(e: &mut Errs, path: &str, v: &Xy, check: impl Fn(&mut Errs, &str, i64) -> bool) -> bool {
    let a = check(e, &format!("{path}.x"), v.x);
    let b = check(e, &format!("{path}.y"), v.y);
    a && b
}

fn validate_layer(path: &str, l: &CnnLayerConfig, n_cores: usize, own: usize, n_chips: usize, e: &mut Errs) -> Option<Layer> {
    use limits::*;
    let before = e.0.len();
    e.range(&format!("{path}.input_shape.features"), l.input_shape.features, 1, MAX_CHANNELS);
    let x_ok = e.range(&format!("{path}.input_shape.x"), l.input_shape.x, 1, MAX_INPUT_SIZE);
    let y_ok = e.range(&format!("{path}.input_shape.y"), l.input_shape.y, 1, MAX_INPUT_SIZE);
    e.range(&format!("{path}.output_shape.features"), l.output_shape.features, 1, MAX_CHANNELS);
    e.range(&format!("{path}.output_shape.x"), l.output_shape.x, 1, MAX_OUTPUT_SIZE);
    e.range(&format!("{path}.output_shape.y"), l.output_shape.y, 1, MAX_OUTPUT_SIZE);
    let k_ok = e.range(&format!("{path}.kernel_size"), l.kernel_size, 1, MAX_KERNEL);
    let s_ok = xy_in(e, &format!("{path}.stride"), &l.stride, |e, p, v| e.one_of(p, v, &STRIDES));
    let p_ok = xy_in(e, &format!("{path}.padding"), &l.padding, |e, p, v| e.range(p, v, 0, MAX_PADDING));
    e.range(&format!("{path}.threshold_high"), l.threshold_high, 1, 32767);
    e.range(&format!("{path}.threshold_low"), l.threshold_low, -32768, l.threshold_high.clamp(1, 32767) - 1);

    if k_ok && s_ok && p_ok {
        for (axis, in_ok, input, pad, stride, stated) in [
            ("x", x_ok, l.input_shape.x, l.padding.x, l.stride.x, l.output_shape.x),
            ("y", y_ok, l.input_shape.y, l.padding.y, l.stride.y, l.output_shape.y),
        ] {
            // An input size out of range has its own error (and could overflow here).
            if !in_ok {
                continue;
            }
            match Layer::output_size(input, pad, l.kernel_size, stride) {
                None => e.push(
                    format!("{path}.kernel_size"),
                    format!("kernel {} is larger than input_shape.{axis} {input} + 2 x padding {pad}", l.kernel_size),
                ),
                Some(o) if o != stated => e.push(
                    format!("{path}.output_shape.{axis}"),
                    format!("value {stated} disagrees with floor(({input} + 2*{pad} - {})/{stride}) + 1 = {o}", l.kernel_size),
                ),
                _ => {}
            }
        }
    }

    if l.destinations.len() != 2 {
        e.push(format!("{path}.destinations"), format!("{} entries given; exactly 2 are required", l.destinations.len()));
    }
    let mut dests = [Destination { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 }; 2];
    for (d, dc) in l.destinations.iter().enumerate().take(2) {
        let dp = format!("{path}.destinations[{d}]");
        // Another chip's core: its range is checked by the chain, which knows that chip.
        let remote = match dc.chip {
            None => None,
            Some(k) if k == own as i64 => None,
            Some(k) if (0..n_chips as i64).contains(&k) => Some(k as u8),
            Some(k) => {
                if dc.enable {
                    let what = if n_chips == 1 {
                        "a single-chip configuration has only chip 0 (list the chips under \"chips\" to send to another)".to_string()
                    } else {
                        format!("the chain has chips 0..={}", n_chips - 1)
                    };
                    e.push(format!("{dp}.chip"), format!("value {k} names no chip: {what}"));
                }
                None
            }
        };
        if remote.is_some() && dc.enable && dc.layer == i64::from(HOST_LAYER) {
            e.push(
                format!("{dp}.layer"),
                format!("value {HOST_LAYER} (the host readout) on chip {}: every chip reads out to the host itself; drop \"chip\"", dc.chip.unwrap_or(0)),
            );
        }
        let layer_ok = match remote {
            Some(_) => (0..i64::from(HOST_LAYER)).contains(&dc.layer),
            None => dc.layer == i64::from(HOST_LAYER) || (0..n_cores as i64).contains(&dc.layer),
        };
        if !layer_ok && dc.enable && remote.is_none() {
            e.push(
                format!("{dp}.layer"),
                format!("value {} is neither a core id (0..={}) nor the host readout ({HOST_LAYER})", dc.layer, n_cores as i64 - 1),
            );
        }
        e.one_of(&format!("{dp}.pooling"), dc.pooling, &POOLINGS);
        e.range(&format!("{dp}.feature_shift"), dc.feature_shift, 0, MAX_FEATURE_SHIFT);
        dests[d] = Destination {
            chip: remote,
            layer: if layer_ok { dc.layer as u8 } else { 0 },
            enable: dc.enable && layer_ok,
            pooling: dc.pooling.clamp(1, 4) as u32,
            feature_shift: dc.feature_shift.clamp(0, MAX_FEATURE_SHIFT) as u32,
        };
    }
    if e.0.len() != before {
        return None;
    }
    // Scalars are all valid here; check arrays against them.
    let (f, c, k) = (l.output_shape.features as usize, l.input_shape.features as usize, l.kernel_size as usize);
    let (w_out, h_out) = (l.output_shape.x as usize, l.output_shape.y as usize);
    let weights = flatten4(e, &format!("{path}.weights"), &l.weights, [f, c, k, k], ["F", "C", "k", "k"], -128, 127)
        .map(|v| v.into_iter().map(|x| x as i8).collect());
    let biases = match &l.biases {
        None => Some(vec![0i16; f]),
        Some(b) => flatten1(e, &format!("{path}.biases"), b, f, "F", -32768, 32767).map(|v| v.into_iter().map(|x| x as i16).collect()),
    };
    let init = match &l.neurons_initial_value {
        None => Some(vec![0i16; f * h_out * w_out]),
        Some(v) => {
            let nested: Vec<Vec<Vec<Vec<i64>>>> = vec![v.clone()];
            flatten4(e, &format!("{path}.neurons_initial_value"), &nested, [1, f, h_out, w_out], ["", "F", "H_out", "W_out"], -32768, 32767)
                .map(|v| v.into_iter().map(|x| x as i16).collect())
        }
    };
    let (weights, biases, init) = (weights?, biases?, init?);
    Some(Layer {
        c: c as u32,
        w_in: l.input_shape.x as u32,
        h_in: l.input_shape.y as u32,
        k: k as u32,
        stride_x: l.stride.x as u32,
        stride_y: l.stride.y as u32,
        pad_x: l.padding.x as u32,
        pad_y: l.padding.y as u32,
        f: f as u32,
        w_out: w_out as u32,
        h_out: h_out as u32,
        weights,
        biases,
        neurons_initial_value: init,
        params: NeuronParams {
            threshold_high: l.threshold_high as i16,
            threshold_low: l.threshold_low as i16,
            return_to_zero: l.return_to_zero,
        },
        leak_enable: l.leak_enable,
        monitor_enable: l.monitor_enable,
        destinations: dests,
    })
}

/// Values outside lo..=hi are reported: the first one with its index, plus a count.
fn report_range(e: &mut Errs, path: &str, values: &[(String, i64)], lo: i64, hi: i64) -> bool {
    let bad: Vec<&(String, i64)> = values.iter().filter(|(_, v)| *v < lo || *v > hi).collect();
    if let Some((idx, v)) = bad.first() {
        let more = if bad.len() > 1 { format!(" ({} more out of range)", bad.len() - 1) } else { String::new() };
        e.push(format!("{path}{idx}"), format!("value {v} is out of range {lo}..={hi}{more}"));
        false
    } else {
        true
    }
}

fn flatten1(e: &mut Errs, path: &str, v: &[i64], n: usize, name: &str, lo: i64, hi: i64) -> Option<Vec<i64>> {
    if v.len() != n {
        e.push(path, format!("length {} differs from {name} = {n}", v.len()));
        return None;
    }
    let vals: Vec<(String, i64)> = v.iter().enumerate().map(|(i, x)| (format!("[{i}]"), *x)).collect();
    report_range(e, path, &vals, lo, hi).then(|| v.to_vec())
}

#[allow(clippy::too_many_arguments)]
fn flatten4(
    e: &mut Errs,
    path: &str,
    v: &[Vec<Vec<Vec<i64>>>],
    dims: [usize; 4],
    names: [&str; 4],
    lo: i64,
    hi: i64,
) -> Option<Vec<i64>> {
    // When the outer dimension is a wrapper of length 1 (3-D arrays), indices start one level down.
    let skip_outer = names[0].is_empty();
    let fmt_idx = |idx: &[usize]| -> String {
        let idx = if skip_outer { &idx[1..] } else { idx };
        idx.iter().map(|i| format!("[{i}]")).collect()
    };
    let mut out = Vec::with_capacity(dims.iter().product());
    let mut ok = true;
    let mut first_bad: Option<(String, i64)> = None;
    let mut n_bad = 0usize;
    if v.len() != dims[0] {
        e.push(path, format!("length {} differs from {} = {}", v.len(), names[0], dims[0]));
        return None;
    }
    for (a, va) in v.iter().enumerate() {
        if va.len() != dims[1] {
            e.push(format!("{path}{}", fmt_idx(&[a])), format!("length {} differs from {} = {}", va.len(), names[1], dims[1]));
            ok = false;
            continue;
        }
        for (b, vb) in va.iter().enumerate() {
            if vb.len() != dims[2] {
                e.push(format!("{path}{}", fmt_idx(&[a, b])), format!("length {} differs from {} = {}", vb.len(), names[2], dims[2]));
                ok = false;
                continue;
            }
            for (c, vc) in vb.iter().enumerate() {
                if vc.len() != dims[3] {
                    e.push(format!("{path}{}", fmt_idx(&[a, b, c])), format!("length {} differs from {} = {}", vc.len(), names[3], dims[3]));
                    ok = false;
                    continue;
                }
                for (d, x) in vc.iter().enumerate() {
                    if *x < lo || *x > hi {
                        n_bad += 1;
                        if first_bad.is_none() {
                            first_bad = Some((fmt_idx(&[a, b, c, d]), *x));
                        }
                    }
                    out.push(*x);
                }
            }
        }
    }
    if let Some((idx, x)) = first_bad {
        let more = if n_bad > 1 { format!(" ({} more out of range)", n_bad - 1) } else { String::new() };
        e.push(format!("{path}{idx}"), format!("value {x} is out of range {lo}..={hi}{more}"));
        ok = false;
    }
    ok.then_some(out)
}

fn validate_dvs(path: &str, d: &DvsLayerConfig, n_cores: usize, e: &mut Errs) -> Option<DvsLayer> {
    use limits::*;
    let before = e.0.len();
    let pool = d.pooling.unwrap_or(Xy { x: 1, y: 1 });
    let pool_ok = xy_in(e, &format!("{path}.pooling"), &pool, |e, p, v| e.one_of(p, v, &POOLINGS));
    let origin = d.origin.unwrap_or(Xy { x: 0, y: 0 });
    if pool_ok {
        let (mx, my) = (DVS_SIZE / pool.x - 1, DVS_SIZE / pool.y - 1);
        let cut = d.cut.unwrap_or(Xy { x: mx, y: my });
        e.range(&format!("{path}.origin.x"), origin.x, 0, mx);
        e.range(&format!("{path}.origin.y"), origin.y, 0, my);
        e.range(&format!("{path}.cut.x"), cut.x, origin.x.clamp(0, mx), mx);
        e.range(&format!("{path}.cut.y"), cut.y, origin.y.clamp(0, my), my);
        if d.destinations.len() > 2 {
            e.push(format!("{path}.destinations"), format!("{} entries given; at most 2 are allowed", d.destinations.len()));
        }
        let mut dests = [None; 2];
        for (k, dc) in d.destinations.iter().enumerate().take(2) {
            if !dc.enable {
                continue;
            }
            if (0..n_cores as i64).contains(&dc.layer) {
                dests[k] = Some(dc.layer as u8);
            } else {
                e.push(format!("{path}.destinations[{k}].layer"), format!("value {} is not a core id (0..={})", dc.layer, n_cores as i64 - 1));
            }
        }
        if e.0.len() == before {
            return Some(DvsLayer {
                pool_x: pool.x as u32,
                pool_y: pool.y as u32,
                origin_x: origin.x as u32,
                origin_y: origin.y as u32,
                cut_x: cut.x as u32,
                cut_y: cut.y as u32,
                mirror_x: d.mirror.x,
                mirror_y: d.mirror.y,
                mirror_diagonal: d.mirror_diagonal,
                merge: d.merge,
                on_channel: d.on_channel,
                off_channel: d.off_channel,
                monitor_enable: d.monitor_enable,
                destinations: dests,
            });
        }
    }
    None
}

/// Finds a cycle among enabled core-to-core destinations; returns its cores in order.
fn find_cycle(layers: &[Option<Layer>]) -> Option<Vec<usize>> {
    let n = layers.len();
    let succ = |i: usize| -> Vec<usize> {
        layers[i]
            .as_ref()
            .map(|l| {
                l.destinations
                    .iter()
                    .filter(|d| d.enable && d.chip.is_none() && (d.layer as usize) < n && layers[d.layer as usize].is_some())
                    .map(|d| d.layer as usize)
                    .collect()
            })
            .unwrap_or_default()
    };
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state = vec![0u8; n];
    let mut stack: Vec<usize> = Vec::new();
    fn dfs(i: usize, succ: &dyn Fn(usize) -> Vec<usize>, state: &mut [u8], stack: &mut Vec<usize>) -> Option<Vec<usize>> {
        state[i] = 1;
        stack.push(i);
        for j in succ(i) {
            if state[j] == 1 {
                let pos = stack.iter().position(|&s| s == j).unwrap_or(0);
                return Some(stack[pos..].to_vec());
            }
            if state[j] == 0 {
                if let Some(c) = dfs(j, succ, state, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        state[i] = 2;
        None
    }
    for i in 0..n {
        if state[i] == 0 {
            if let Some(c) = dfs(i, &succ, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}
