//! The neuron update rule (spec §3): the one function every weight update
//! and every leak update goes through, in the model. Three **[decision]**s of
//! the spec live here: zero-weight skip, saturation, and the threshold_low
//! floor after every update.

/// Threshold parameters of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeuronParams {
    /// Spike when the saturated sum is ≥ this (1..=32767).
    pub threshold_high: i16,
    /// Floor of the state after every update (−32768..threshold_high−1).
    pub threshold_low: i16,
    /// Reset to 0 on a spike instead of subtracting `threshold_high`.
    pub return_to_zero: bool,
}

/// Applies one update of value `w` to state `v`; returns whether it spiked.
///
/// ```text
/// if w == 0: nothing happens                     [decision: zero weights are killed]
/// s = clamp(v + w, -32768, 32767)                [decision: saturate, never wrap]
/// spike = s >= threshold_high                    (at most one spike per update)
/// if spike: s = 0 if return_to_zero else s - threshold_high
/// v = max(s, threshold_low)                      [decision: floor after every update]
/// ```
#[inline(always)]
pub fn apply(v: &mut i16, w: i16, p: &NeuronParams) -> bool {
    if w == 0 {
        return false;
    }
    let s = v.saturating_add(w);
    let spike = s >= p.threshold_high;
    let s = if spike {
        if p.return_to_zero {
            0
        } else {
            // s ≤ 32767 and threshold_high ≥ 1: cannot overflow.
            s - p.threshold_high
        }
    } else {
        s
    };
    *v = s.max(p.threshold_low);
    spike
}
