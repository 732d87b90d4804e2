//! Shared helpers of the model's integration tests: building configurations
//! without going through JSON, and small accessors for outputs.
#![allow(dead_code)]

use spikehdl_model::config::{
    ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, DvsDestinationConfig, DvsLayerConfig, Shape, Xy, XyFlags,
};
use spikehdl_model::{validate, ChipModel, CoreItem, CoreModel, CoreOutput, HostInput, HostOutput, ValidConfig};

/// Output size along one axis, spec §2: floor((in + 2·pad − k)/stride) + 1.
pub fn out_size(input: i64, pad: i64, k: i64, stride: i64) -> i64 {
    (input + 2 * pad - k) / stride + 1
}

/// A layer with input `[c][h][w]`, `f` output features, a `k`×`k` kernel,
/// stride and padding given as `(x, y)`; the output shape follows the
/// formula. All weights are 0, thresholds are out of reach
/// (32767 / −32768), both destinations are disabled.
pub fn layer(c: i64, w: i64, h: i64, f: i64, k: i64, stride: (i64, i64), pad: (i64, i64)) -> CnnLayerConfig {
    let (w_out, h_out) = (out_size(w, pad.0, k, stride.0), out_size(h, pad.1, k, stride.1));
    CnnLayerConfig {
        input_shape: Shape { features: c, x: w, y: h },
        output_shape: Shape { features: f, x: w_out, y: h_out },
        kernel_size: k,
        stride: Xy { x: stride.0, y: stride.1 },
        padding: Xy { x: pad.0, y: pad.1 },
        weights: vec![vec![vec![vec![0; k as usize]; k as usize]; c as usize]; f as usize],
        biases: None,
        neurons_initial_value: None,
        threshold_high: 32767,
        threshold_low: -32768,
        return_to_zero: false,
        leak_enable: false,
        monitor_enable: false,
        destinations: vec![off(), off()],
    }
}

/// A 1×1-kernel, stride-1 layer: `c` channels to `f` features on a `w`×`h` map.
pub fn pointwise(c: i64, f: i64, w: i64, h: i64) -> CnnLayerConfig {
    layer(c, w, h, f, 1, (1, 1), (0, 0))
}

/// Sets every weight to `g(f, c, ky, kx)`.
pub fn set_weights(l: &mut CnnLayerConfig, g: impl Fn(usize, usize, usize, usize) -> i64) {
    for (f, wf) in l.weights.iter_mut().enumerate() {
        for (c, wc) in wf.iter_mut().enumerate() {
            for (ky, row) in wc.iter_mut().enumerate() {
                for (kx, w) in row.iter_mut().enumerate() {
                    *w = g(f, c, ky, kx);
                }
            }
        }
    }
}

/// Sets every initial neuron value to `g(f, y, x)`.
pub fn set_initial(l: &mut CnnLayerConfig, g: impl Fn(usize, usize, usize) -> i64) {
    let (f, h, w) = (l.output_shape.features as usize, l.output_shape.y as usize, l.output_shape.x as usize);
    l.neurons_initial_value =
        Some((0..f).map(|fi| (0..h).map(|y| (0..w).map(|x| g(fi, y, x)).collect()).collect()).collect());
}

pub fn off() -> DestinationConfig {
    DestinationConfig { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 }
}

/// An enabled destination to core `layer` (or 12, the host readout).
pub fn dest(layer: i64, pooling: i64, feature_shift: i64) -> DestinationConfig {
    DestinationConfig { chip: None, layer, enable: true, pooling, feature_shift }
}

pub fn to_host(pooling: i64, feature_shift: i64) -> DestinationConfig {
    dest(12, pooling, feature_shift)
}

/// A chip configuration on the reference chip.
pub fn config(layers: Vec<Option<CnnLayerConfig>>) -> ChipConfig {
    ChipConfig { chip: ChipSpec::default(), allow_cycles: false, dvs_layer: None, cnn_layers: layers }
}

/// A DVS layer with every option at its default: both polarities, no
/// pooling, crop or flip, no monitor, no destination.
pub fn dvs_layer() -> DvsLayerConfig {
    DvsLayerConfig {
        pooling: None,
        origin: None,
        cut: None,
        mirror: XyFlags::default(),
        mirror_diagonal: false,
        merge: false,
        on_channel: true,
        off_channel: true,
        monitor_enable: false,
        destinations: vec![],
    }
}

pub fn dvs_dest(layer: i64) -> DvsDestinationConfig {
    DvsDestinationConfig { layer, enable: true }
}

/// Validates, panicking with every error if the configuration is invalid.
pub fn valid(cfg: &ChipConfig) -> ValidConfig {
    validate(cfg).unwrap_or_else(|e| panic!("test configuration is invalid: {e}"))
}

/// A chip model of a configuration that must be valid.
pub fn chip_model(cfg: &ChipConfig) -> ChipModel {
    ChipModel::new(&valid(cfg))
}

/// The core model of one layer, validated on core 0 of the reference chip.
pub fn core(l: &CnnLayerConfig) -> CoreModel {
    let v = valid(&config(vec![Some(l.clone())]));
    CoreModel::new(v.layers[0].as_ref().expect("core 0 configured"))
}

/// Output spikes `(f, x, y)`, in order; panics on any other output.
pub fn spikes(out: &[CoreOutput]) -> Vec<(u16, u16, u16)> {
    out.iter()
        .map(|o| match *o {
            CoreOutput::Spike { f, x, y } => (f, x, y),
            other => panic!("expected only spikes, got {other:?}"),
        })
        .collect()
}

pub fn in_spike(c: u16, x: u16, y: u16) -> CoreItem {
    CoreItem::Spike { c, x, y }
}

/// Feeds host items one by one; every item must be accepted.
pub fn run(chip: &mut ChipModel, items: &[HostInput]) -> Vec<HostOutput> {
    let mut out = Vec::new();
    for it in items {
        chip.accept(it, &mut out).unwrap_or_else(|e| panic!("item {it:?} rejected: {e}"));
    }
    out
}

pub fn host_spike(layer: u8, c: u16, x: u16, y: u16) -> HostInput {
    HostInput::Spike { layer, c, x, y }
}
