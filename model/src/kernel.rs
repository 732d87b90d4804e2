//! The vectorized neuron update loop: the spec §3 rule applied to a *strip*
//! of contiguous states with a matching strip of weights, branch-free across
//! lanes, returning a spike bit per lane.
//!
//! | item | contract |
//! |---|---|
//! | input | `state[i]`, `weight[i]` for i in 0..n (same length), one [`NeuronParams`] |
//! | effect | every lane gets exactly [`crate::neuron::apply`] (bit for bit) |
//! | output | bit `i % 64` of `bits[i / 64]` is set iff lane i spiked; `bits` needs `n.div_ceil(64)` words; returns the OR of all words (0 = no spike) |
//! | order | lanes are independent (distinct neurons); the caller emits spikes in spec §4 order by reading the bits (lowest lane of a tap first) |
//!
//! One portable body ([`strip_body`]) is compiled several times: for the
//! baseline target (SSE2 on x86-64) and, behind `#[target_feature]`, for AVX2
//! and AVX-512BW; [`Kernel::new`] picks a level only if the running CPU has it
//! (`is_x86_feature_detected!`). [`Level::Scalar`] is the reference loop the
//! vector levels replaced: per lane through [`crate::neuron::apply`].
//!
//! Bit-exactness pitfalls the body respects (each tested at the rails in
//! `model/tests/kernel.rs`): a zero weight changes nothing, neither the state
//! (which may legally sit ≥ threshold_high or below threshold_low) nor the
//! spike bit; the add saturates; `s − th` is computed in every lane with a
//! wrapping subtract (only spiking lanes keep it, where it cannot overflow);
//! the floor comes after the reset. The spike mask is built from a 0/1 byte
//! array folded eight lanes at a time by one multiply, so it stays in lane
//! order (no `movemask`/`packs` reordering).

use crate::neuron::{apply, NeuronParams};

/// An implementation of the update loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// One lane at a time through [`apply`], branchy: the loop the vector levels replaced.
    Scalar,
    /// The branch-free body compiled for the baseline target.
    Portable,
    /// The same body compiled with AVX2 enabled.
    Avx2,
    /// The same body compiled with AVX-512F/BW enabled.
    Avx512,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Scalar, Level::Portable, Level::Avx2, Level::Avx512];

    /// The name used by `SPIKEHDL_KERNEL` and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    pub fn from_name(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether the running CPU can execute this level.
    pub fn is_supported(self) -> bool {
        match self {
            Level::Scalar | Level::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every level this CPU supports, ascending.
    pub fn supported() -> Vec<Level> {
        Level::ALL.into_iter().filter(|l| l.is_supported()).collect()
    }

    /// The fastest supported level.
    pub fn best_supported() -> Level {
        *Level::supported().last().expect("scalar is always supported")
    }

    /// The level new cores use: `SPIKEHDL_KERNEL` (scalar, portable, avx2,
    /// avx512) if set and supported, else the fastest supported one. Read once.
    pub fn default_level() -> Level {
        static DEFAULT: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
        *DEFAULT.get_or_init(|| {
            match std::env::var("SPIKEHDL_KERNEL").ok().as_deref().and_then(Level::from_name) {
                Some(l) if l.is_supported() => l,
                _ => Level::best_supported(),
            }
        })
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A level the running CPU supports (checked once at construction, so calling
/// the feature-specific builds is sound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel(Level);

impl Kernel {
    /// `None` if the CPU lacks the level's instructions.
    pub fn new(level: Level) -> Option<Kernel> {
        level.is_supported().then_some(Kernel(level))
    }

    pub fn level(self) -> Level {
        self.0
    }

    /// Applies the update rule to every lane of the strip; see the module docs.
    #[inline]
    pub fn strip(self, state: &mut [i16], weights: &[i16], p: &NeuronParams, bits: &mut [u64]) -> u64 {
        self.bind(p).run(state, weights, bits)
    }

    /// The loop of this level for one layer's parameters, resolved once so
    /// that a core's many strips per input spike skip the dispatch.
    #[inline]
    pub fn bind(self, p: &NeuronParams) -> Strip {
        let f: StripFn = match (self.0, p.return_to_zero) {
            (Level::Scalar, false) => strip_scalar::<false>,
            (Level::Scalar, true) => strip_scalar::<true>,
            (Level::Portable, false) => portable::<false>,
            (Level::Portable, true) => portable::<true>,
            #[cfg(target_arch = "x86_64")]
            (Level::Avx2, false) => x86::avx2::<false>,
            #[cfg(target_arch = "x86_64")]
            (Level::Avx2, true) => x86::avx2::<true>,
            #[cfg(target_arch = "x86_64")]
            (Level::Avx512, false) => x86::avx512::<false>,
            #[cfg(target_arch = "x86_64")]
            (Level::Avx512, true) => x86::avx512::<true>,
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("Kernel::new admits no x86 level here"),
        };
        Strip { f, th: p.threshold_high, tl: p.threshold_low }
    }
}

/// One level's loop (`unsafe`: the x86 builds need their CPU features; the
/// others are safe fns coerced to it).
type StripFn = unsafe fn(&mut [i16], &[i16], i16, i16, &mut [u64]) -> u64;

/// A [`Kernel`] bound to one layer's thresholds and reset mode.
#[derive(Clone, Copy)]
pub struct Strip {
    f: StripFn,
    th: i16,
    tl: i16,
}

impl Strip {
    /// [`Kernel::strip`] without the per-call dispatch.
    #[inline]
    pub fn run(&self, state: &mut [i16], weights: &[i16], bits: &mut [u64]) -> u64 {
        // (A short bit buffer fails on its own index; this one would not.)
        assert_eq!(state.len(), weights.len(), "strip: state and weight lengths differ");
        // SAFETY: a Strip comes from a Kernel, which holds a vector level
        // only if the CPU supports it (Kernel::new); the other levels are safe code.
        unsafe { (self.f)(state, weights, self.th, self.tl, bits) }
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel(Level::default_level())
    }
}

/// The reference: lane by lane through [`apply`].
fn strip_scalar<const RTZ: bool>(state: &mut [i16], weights: &[i16], th: i16, tl: i16, bits: &mut [u64]) -> u64 {
    let p = &NeuronParams { threshold_high: th, threshold_low: tl, return_to_zero: RTZ };
    let mut any = 0;
    for (wi, (sc, wc)) in bits.iter_mut().zip(state.chunks_mut(64).zip(weights.chunks(64))) {
        let mut m = 0u64;
        for (i, (v, &w)) in sc.iter_mut().zip(wc).enumerate() {
            if apply(v, w, p) {
                m |= 1 << i;
            }
        }
        *wi = m;
        any |= m;
    }
    any
}

/// The baseline build (a safe fn; it coerces to the shared pointer type).
fn portable<const RTZ: bool>(s: &mut [i16], w: &[i16], th: i16, tl: i16, bits: &mut [u64]) -> u64 {
    strip_body::<RTZ>(s, w, th, tl, bits)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2")]
    pub unsafe fn avx2<const RTZ: bool>(s: &mut [i16], w: &[i16], th: i16, tl: i16, bits: &mut [u64]) -> u64 {
        super::strip_body::<RTZ>(s, w, th, tl, bits)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn avx512<const RTZ: bool>(s: &mut [i16], w: &[i16], th: i16, tl: i16, bits: &mut [u64]) -> u64 {
        super::strip_body::<RTZ>(s, w, th, tl, bits)
    }
}

/// Branch-free over the strip: 64-lane chunks, then a rest of exactly 32 or
/// 48 lanes as one chunk, or else 16- and 8-lane chunks and the last < 8
/// lanes one at a time (the same [`lane`] rule).
#[inline(always)]
fn strip_body<const RTZ: bool>(s: &mut [i16], w: &[i16], th: i16, tl: i16, bits: &mut [u64]) -> u64 {
    let n = s.len();
    let mut any = 0u64;
    let mut i = 0;
    while i + 64 <= n {
        let m = chunk::<64, RTZ>(arr_mut(&mut s[i..i + 64]), arr(&w[i..i + 64]), th, tl);
        bits[i / 64] = m;
        any |= m;
        i += 64;
    }
    if i == n {
        return any;
    }
    // A rest of 32 or 48 lanes in one chunk: one spike-flag test instead
    // of two or three (taps of F = 16 or 32, common strips). `i` is a
    // multiple of 64 here: the rest starts a word.
    if n - i == 48 || n - i == 32 {
        let word = if n - i == 48 {
            chunk::<48, RTZ>(arr_mut(&mut s[i..]), arr(&w[i..]), th, tl)
        } else {
            chunk::<32, RTZ>(arr_mut(&mut s[i..]), arr(&w[i..]), th, tl)
        };
        bits[n / 64] = word;
        return any | word;
    }
    let mut word = 0u64;
    while i + 16 <= n {
        word |= chunk::<16, RTZ>(arr_mut(&mut s[i..i + 16]), arr(&w[i..i + 16]), th, tl) << (i % 64);
        i += 16;
    }
    if i + 8 <= n {
        word |= chunk::<8, RTZ>(arr_mut(&mut s[i..i + 8]), arr(&w[i..i + 8]), th, tl) << (i % 64);
        i += 8;
    }
    // The last < 8 lanes one by one: a padded copy costs two memcpy calls,
    // more than the lanes themselves (F = 10 readout cores, odd slices).
    let base = i % 64;
    for (l, (v, &wi)) in s[i..].iter_mut().zip(&w[i..]).enumerate() {
        let (r, spike) = lane::<RTZ>(*v, wi, th, tl);
        *v = r;
        word |= u64::from(spike) << (base + l);
    }
    bits[n / 64] = word;
    any | word
}

#[inline(always)]
fn arr_mut<const L: usize>(s: &mut [i16]) -> &mut [i16; L] {
    s.try_into().expect("chunk length")
}

#[inline(always)]
fn arr<const L: usize>(s: &[i16]) -> &[i16; L] {
    s.try_into().expect("chunk length")
}

/// One lane of the rule, branch-free: (new state, spiked). A zero weight
/// leaves the state as it is and never spikes.
#[inline(always)]
fn lane<const RTZ: bool>(v: i16, wi: i16, th: i16, tl: i16) -> (i16, bool) {
    let sum = v.saturating_add(wi);
    let spike = sum >= th;
    // Every lane computes the subtract; only spiking lanes (sum ≥ th ≥ 1) keep it.
    let reset = if RTZ { 0 } else { sum.wrapping_sub(th) };
    let r = if spike { reset } else { sum };
    let r = r.max(tl);
    let live = wi != 0;
    (if live { r } else { v }, spike & live)
}

/// L lanes (a multiple of 8, ≤ 64) of the rule; bit i of the result = lane i spiked.
#[inline(always)]
fn chunk<const L: usize, const RTZ: bool>(s: &mut [i16; L], w: &[i16; L], th: i16, tl: i16) -> u64 {
    let mut flags = [0u8; L];
    for i in 0..L {
        let (r, spike) = lane::<RTZ>(s[i], w[i], th, tl);
        s[i] = r;
        flags[i] = spike as u8;
    }
    // Spikes are rare (well under 1 % of updates on typical networks): skip
    // the fold when no lane spiked. The OR stays in vector registers.
    if flags.iter().fold(0u8, |a, &f| a | f) == 0 {
        return 0;
    }
    let mut m = 0u64;
    for g in 0..L / 8 {
        let b = u64::from_le_bytes(flags[g * 8..g * 8 + 8].try_into().expect("8 flags"));
        // Eight 0/1 bytes -> eight bits in lane order (no carries between the partial products).
        m |= (b.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (g * 8);
    }
    m
}

/// Calls `f(i)` for every set bit i in `start..start + len` of the bitset, ascending.
#[inline]
pub fn for_each_bit(bits: &[u64], start: usize, len: usize, mut f: impl FnMut(usize)) {
    let end = start + len;
    let mut wi = start / 64;
    while wi * 64 < end {
        let mut m = bits[wi];
        let lo = wi * 64;
        if start > lo {
            m &= !0u64 << (start - lo);
        }
        if end < lo + 64 {
            m &= (1u64 << (end - lo)) - 1;
        }
        while m != 0 {
            f(lo + m.trailing_zeros() as usize);
            m &= m - 1;
        }
        wi += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_helpers_respect_ranges() {
        let bits = [0x8000_0000_0000_0001u64, 0b1011];
        let mut got = Vec::new();
        for_each_bit(&bits, 0, 128, |i| got.push(i));
        assert_eq!(got, vec![0, 63, 64, 65, 67]);
        got.clear();
        for_each_bit(&bits, 1, 65, |i| got.push(i));
        assert_eq!(got, vec![63, 64, 65]);
    }

    #[test]
    fn names_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
        assert!(Level::supported().contains(&Level::Scalar));
        assert!(Kernel::new(Level::Portable).is_some());
    }
}
