//! Discretization of one convolution + IF layer exactly as Sinabs does it
//! (`sinabs/backend/dynapcnn/discretize.py`, `_discretize_conv_spk_`,
//! `determine_discretization_scale`, `discretize_tensor`).
//!
//! - One scale per layer: the minimum of the 8-bit scale of the weights,
//!   the 8-bit scale of the biases (Sinabs uses `DYNAPCNN_WEIGHT_PRECISION_BITS`
//!   for both), the 16-bit scale of the pair (min_v_mem, threshold) and, if
//!   the layer has an initial state, the 16-bit scale of that state.
//! - A missing min_v_mem enters the scale as −2^15 (Sinabs: `if
//!   spike_lyr.min_v_mem is None: min_v_mem = -(2**15)`), which caps the
//!   threshold scale at 1.
//! - Each quantity is multiplied by the scale and rounded half to even
//!   (`torch.round`); nothing is clamped afterwards (the scales guarantee the ranges).
//!
//! Arithmetic is f32 throughout, as torch does on `float32` parameters:
//! `scale = |127 / max|` or `|-128 / min|` is an f32 division, the product
//! `x * scale` an f32 multiplication.

/// Bits of a weight (and, in Sinabs, of the bias scale).
pub const WEIGHT_BITS: u32 = 8;
/// Bits of a neuron state / threshold.
pub const STATE_BITS: u32 = 16;
/// The value Sinabs uses for a missing `min_v_mem`.
pub const MISSING_MIN_V_MEM: f32 = -32768.0;

/// `determine_discretization_scale(obj, bit_precision)`:
/// ```python
/// min_val_disc = -(2 ** (bit_precision - 1)); max_val_disc = 2 ** (bit_precision - 1) - 1
/// min_max_ratio_disc = abs(min_val_disc / max_val_disc)
/// if abs(min_val_obj) <= abs(max_val_obj) * min_max_ratio_disc:
///     scaling = abs(max_val_disc / max_val_obj)
/// else:
///     scaling = abs(min_val_disc / min_val_obj)
/// ```
/// An all-zero tensor gives +inf (127 / 0 in torch), which never wins the minimum.
pub fn scale(obj: &[f32], bits: u32) -> f32 {
    let min_disc = -(2f64.powi(bits as i32 - 1));
    let max_disc = 2f64.powi(bits as i32 - 1) - 1.0;
    let min_obj = obj.iter().copied().fold(f32::INFINITY, f32::min);
    let max_obj = obj.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // Python float ratio, then a float32 tensor times a Python scalar.
    let ratio = (min_disc / max_disc).abs() as f32;
    if min_obj.abs() <= max_obj.abs() * ratio {
        (max_disc as f32 / max_obj).abs()
    } else {
        (min_disc as f32 / min_obj).abs()
    }
}

/// `discretize_tensor`: `torch.round(obj * scaling)` (half to even).
pub fn discretize(x: f32, scale: f32) -> f32 {
    (x * scale).round_ties_even()
}

/// The four candidate scales and the one chosen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scales {
    pub weights: f32,
    pub biases: f32,
    pub thresholds: f32,
    /// Present when the layer has an initial state.
    pub state: Option<f32>,
    /// min of the above.
    pub chosen: f32,
}

impl Scales {
    /// Which quantity limits the scale.
    pub fn limited_by(&self) -> &'static str {
        let c = self.chosen;
        if c == self.weights {
            "weights"
        } else if c == self.biases {
            "biases"
        } else if c == self.thresholds {
            "thresholds (min_v_mem, spike_threshold)"
        } else {
            "initial state"
        }
    }
}

/// One layer before discretization (f32, as Sinabs holds it).
#[derive(Debug, Clone)]
pub struct FloatLayer<'a> {
    /// `[F][C][k][k]` flattened.
    pub weights: &'a [f32],
    /// Length F (zeros when the convolution has no bias, as Sinabs does).
    pub biases: &'a [f32],
    pub threshold: f32,
    /// `None` = missing: −2^15 enters the scale (and becomes threshold_low after scaling).
    pub min_v_mem: Option<f32>,
    /// Initial membrane state `[F][H][W]`, if any.
    pub state: Option<&'a [f32]>,
}

/// A discretized layer.
#[derive(Debug, Clone, PartialEq)]
pub struct IntLayer {
    pub weights: Vec<i64>,
    pub biases: Vec<i64>,
    pub threshold_high: i64,
    pub threshold_low: i64,
    pub state: Option<Vec<i64>>,
    pub scales: Scales,
}

/// `_discretize_conv_spk_` for one layer.
pub fn discretize_layer(l: &FloatLayer) -> IntLayer {
    let min_v_mem = l.min_v_mem.unwrap_or(MISSING_MIN_V_MEM);
    let thresholds = [min_v_mem, l.threshold];
    let sw = scale(l.weights, WEIGHT_BITS);
    let sb = scale(l.biases, WEIGHT_BITS);
    let st = scale(&thresholds, STATE_BITS);
    let sn = l.state.map(|s| scale(s, STATE_BITS));
    // Python's min() over 0-d tensors: the first of equal values wins; all we need is the value.
    let mut chosen = sw.min(sb).min(st);
    if let Some(sn) = sn {
        chosen = chosen.min(sn);
    }
    let q = |x: f32| discretize(x, chosen) as i64;
    IntLayer {
        weights: l.weights.iter().map(|&w| q(w)).collect(),
        biases: l.biases.iter().map(|&b| q(b)).collect(),
        threshold_low: q(min_v_mem),
        threshold_high: q(l.threshold),
        state: l.state.map(|s| s.iter().map(|&v| q(v)).collect()),
        scales: Scales { weights: sw, biases: sb, thresholds: st, state: sn, chosen },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_uses_positive_side_unless_negative_side_is_larger_than_128_over_127() {
        // max 0.5 -> 127 / 0.5 = 254
        assert_eq!(scale(&[0.5, -0.2], 8), 254.0);
        // min -0.5, max 0.25: |-0.5| > 0.25 * 128/127 -> 128 / 0.5 = 256
        assert_eq!(scale(&[-0.5, 0.25], 8), 256.0);
        // |min| = 128, |max| = 127: equal after the ratio -> the positive branch
        assert_eq!(scale(&[-128.0, 127.0], 8), 1.0);
        // all zero -> inf
        assert!(scale(&[0.0, 0.0], 8).is_infinite());
        // 16 bits: (−2^15, 1.0): 32768 > 1 * 32768/32767 -> 32768 / 32768 = 1
        assert_eq!(scale(&[-32768.0, 1.0], 16), 1.0);
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(discretize(0.5, 1.0), 0.0);
        assert_eq!(discretize(1.5, 1.0), 2.0);
        assert_eq!(discretize(2.5, 1.0), 2.0);
        assert_eq!(discretize(-2.5, 1.0), -2.0);
        assert_eq!(discretize(-3.5, 1.0), -4.0);
    }
}
