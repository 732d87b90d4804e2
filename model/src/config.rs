//! The chip configuration file (JSON), with field names following Samna's
//! `DynapcnnConfiguration` / `CNNLayerConfig` / `DVSLayerConfig`.
//!
//! These are the *raw* types: every number is read as a wide integer so that
//! an out-of-range value reaches [`crate::validate`] and gets an error naming
//! its path, value and limit instead of a terse parse error. The model only
//! ever runs on a [`crate::validate::ValidConfig`].
//!
//! Weights are `[F][C][k][k]` in **PyTorch order `[out][in][y][x]`**;
//! `neurons_initial_value` is `[F][H_out][W_out]`. `cnn_layers[i]` sits on
//! core `i`; `null` leaves a core unused.

use serde::{Deserialize, Serialize};

use crate::presets::CoreCapacity;

/// A whole chip configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipConfig {
    /// Which chip the layers are placed on (default: the reference chip).
    #[serde(default)]
    pub chip: ChipSpec,
    /// Accept destination graphs with cycles (they may deadlock, Sinabs #270).
    #[serde(default)]
    pub allow_cycles: bool,
    /// The DVS input layer; absent means no DVS input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvs_layer: Option<DvsLayerConfig>,
    /// `cnn_layers[i]` is the layer on core `i`; `null` leaves that core unused.
    pub cnn_layers: Vec<Option<CnnLayerConfig>>,
}

/// The chip: a named preset or explicit per-core capacities.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<Vec<CoreCapacity>>,
}

/// `{features, x, y}`: a feature map shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub features: i64,
    pub x: i64,
    pub y: i64,
}

/// `{x, y}`: a pair of per-axis integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Xy {
    pub x: i64,
    pub y: i64,
}

/// `{x, y}`: a pair of per-axis flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XyFlags {
    #[serde(default)]
    pub x: bool,
    #[serde(default)]
    pub y: bool,
}

/// One convolution layer (Samna `CNNLayerConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnLayerConfig {
    pub input_shape: Shape,
    pub output_shape: Shape,
    pub kernel_size: i64,
    pub stride: Xy,
    pub padding: Xy,
    /// `[F][C][k][k]`, PyTorch order `[out][in][y][x]`, int8.
    pub weights: Vec<Vec<Vec<Vec<i64>>>>,
    /// Length F, int16; absent means all zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biases: Option<Vec<i64>>,
    /// `[F][H_out][W_out]`, int16; absent means all zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neurons_initial_value: Option<Vec<Vec<Vec<i64>>>>,
    pub threshold_high: i64,
    pub threshold_low: i64,
    #[serde(default)]
    pub return_to_zero: bool,
    #[serde(default)]
    pub leak_enable: bool,
    #[serde(default)]
    pub monitor_enable: bool,
    /// Exactly two entries.
    pub destinations: Vec<DestinationConfig>,
}

/// One of a layer's two destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// In a chain of chips (`crate::chain`): the chip that holds `layer`;
    /// absent (or this chip's own index) means this chip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<i64>,
    /// A core id, or 12 for the host readout.
    #[serde(default)]
    pub layer: i64,
    #[serde(default)]
    pub enable: bool,
    /// Sum-pooling factor, 1, 2 or 4 (both axes).
    #[serde(default = "one")]
    pub pooling: i64,
    /// Added to the feature index, 0..=1023.
    #[serde(default)]
    pub feature_shift: i64,
}

fn one() -> i64 {
    1
}
fn yes() -> bool {
    true
}

/// A destination of the DVS layer: a core id, no pooling or shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DvsDestinationConfig {
    #[serde(default)]
    pub layer: i64,
    #[serde(default)]
    pub enable: bool,
}

/// The DVS input layer (Samna `DVSLayerConfig`, spec §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DvsLayerConfig {
    /// Per-axis pooling, each 1, 2 or 4 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Xy>,
    /// Crop origin in pooled coordinates (default 0, 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Xy>,
    /// Crop end, inclusive, in pooled coordinates (default: the pooled map's last pixel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Xy>,
    #[serde(default)]
    pub mirror: XyFlags,
    #[serde(default)]
    pub mirror_diagonal: bool,
    #[serde(default)]
    pub merge: bool,
    #[serde(default = "yes")]
    pub on_channel: bool,
    #[serde(default = "yes")]
    pub off_channel: bool,
    #[serde(default)]
    pub monitor_enable: bool,
    /// Up to two destinations.
    #[serde(default)]
    pub destinations: Vec<DvsDestinationConfig>,
}

/// A configuration that is not valid JSON for [`ChipConfig`].
#[derive(Debug, thiserror::Error)]
#[error("{}{error}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct JsonError {
    /// Path of the field being read (`cnn_layers[2].kernel_size`); empty or
    /// "." when the error is not inside any field (a syntax error at the top).
    pub path: String,
    pub error: serde_json::Error,
}

impl ChipConfig {
    /// Parses a configuration from JSON text. Errors carry line and column
    /// and the path of the field being read (`cnn_layers[2].kernel_size`),
    /// so that a type error names the field, not only a column of a long line.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let cfg = serde_path_to_error::deserialize(&mut *de)
            .map_err(|e| JsonError { path: e.path().to_string(), error: e.into_inner() })?;
        // Trailing characters after the object are an error, as with serde_json::from_str.
        de.end().map_err(|error| JsonError { path: String::new(), error })?;
        Ok(cfg)
    }
}
