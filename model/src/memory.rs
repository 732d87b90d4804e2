//! Memory footprints and addresses (spec §2). The address layout is a
//! **[decision]** of the spec; it lives here and nowhere else, and so does the
//! one comparison of a footprint with a core's capacity ([`Footprint::misfits`]):
//! validation, the chip presets, the NIR mapper and the CLI all ask it.

use std::fmt;

use crate::presets::CoreCapacity;

/// ceil(log2(n)) for n ≥ 1 (0 for n = 1). `const` so that HDL address
/// widths (const generics) can be derived from capacities.
pub const fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

/// Address-field widths of one layer: kb = ceil(log2 k²), fb = ceil(log2 F),
/// xb = ceil(log2 W_out), yb = ceil(log2 H_out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBits {
    pub kb: u32,
    pub fb: u32,
    pub xb: u32,
    pub yb: u32,
}

impl AddressBits {
    pub fn new(k: u32, f: u32, w_out: u32, h_out: u32) -> Self {
        Self {
            kb: ceil_log2(u64::from(k) * u64::from(k)),
            fb: ceil_log2(f.into()),
            xb: ceil_log2(w_out.into()),
            yb: ceil_log2(h_out.into()),
        }
    }

    /// Kernel address of weight (f, c, ky, kx) = (c << (kb+fb)) | (f << kb) | (ky·k + kx).
    pub fn kernel_address(&self, k: u32, f: u32, c: u32, ky: u32, kx: u32) -> u64 {
        (u64::from(c) << (self.kb + self.fb)) | (u64::from(f) << self.kb) | u64::from(ky * k + kx)
    }

    /// Neuron address of (f, y, x) = (f << (xb+yb)) | (y << xb) | x.
    pub fn neuron_address(&self, f: u32, y: u32, x: u32) -> u64 {
        (u64::from(f) << (self.xb + self.yb)) | (u64::from(y) << self.xb) | u64::from(x)
    }
}

/// Words a layer needs in each memory (Sinabs `memory_summary`, exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Footprint {
    pub kernel_words: u64,
    pub neuron_words: u64,
    pub bias_words: u64,
}

impl Footprint {
    /// kernel = C·2^(kb+fb), neuron = F·2^(xb+yb), bias = F.
    pub fn new(c: u32, f: u32, k: u32, w_out: u32, h_out: u32) -> Self {
        let b = AddressBits::new(k, f, w_out, h_out);
        Self {
            kernel_words: u64::from(c) << (b.kb + b.fb),
            neuron_words: u64::from(f) << (b.xb + b.yb),
            bias_words: u64::from(f),
        }
    }

    /// Every memory of `cap` too small for this footprint (kernel, neuron,
    /// bias order; empty when it fits). A word count equal to the capacity fits.
    pub fn misfits(&self, cap: &CoreCapacity) -> Vec<Misfit> {
        [
            ("kernel", self.kernel_words, cap.kernel_words),
            ("neuron", self.neuron_words, cap.neuron_words),
            ("bias", self.bias_words, cap.bias_words),
        ]
        .into_iter()
        .filter(|&(_, needed, available)| needed > available)
        .map(|(memory, needed, available)| Misfit { memory, needed, available })
        .collect()
    }

    /// True when every memory of `cap` holds this footprint.
    pub fn fits(&self, cap: &CoreCapacity) -> bool {
        self.misfits(cap).is_empty()
    }
}

/// One core memory too small for a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Misfit {
    /// `kernel`, `neuron` or `bias`.
    pub memory: &'static str,
    /// Words the layer needs.
    pub needed: u64,
    /// Words the core has.
    pub available: u64,
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} words needed {} > {} available", self.memory, self.needed, self.available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_log2_values() {
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(9), 4);
        assert_eq!(ceil_log2(256), 8);
        assert_eq!(ceil_log2(257), 9);
    }

    #[test]
    fn misfits_at_the_boundary() {
        let cap = CoreCapacity::new(1024, 2048, 64);
        let exact = Footprint { kernel_words: 1024, neuron_words: 2048, bias_words: 64 };
        assert!(exact.fits(&cap));
        assert_eq!(exact.misfits(&cap), vec![]);
        for (memory, fp) in [
            ("kernel", Footprint { kernel_words: 1025, ..exact }),
            ("neuron", Footprint { neuron_words: 2049, ..exact }),
            ("bias", Footprint { bias_words: 65, ..exact }),
        ] {
            let m = fp.misfits(&cap);
            assert!(!fp.fits(&cap), "{memory}");
            assert_eq!(m.len(), 1, "{memory}: {m:?}");
            assert_eq!(m[0].memory, memory);
            assert_eq!(m[0].needed, m[0].available + 1, "{memory}");
        }
        let all = Footprint { kernel_words: 1025, neuron_words: 2049, bias_words: 65 }.misfits(&cap);
        let shown: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "kernel words needed 1025 > 1024 available",
                "neuron words needed 2049 > 2048 available",
                "bias words needed 65 > 64 available"
            ]
        );
    }

    #[test]
    fn footprint_matches_sinabs_rounding() {
        // 3x3 kernel -> 9 -> 16; F = 10 -> 16; C = 2.
        let fp = Footprint::new(2, 10, 3, 30, 5);
        assert_eq!(fp.kernel_words, 2 * 16 * 16);
        assert_eq!(fp.neuron_words, 10 * 32 * 8);
        assert_eq!(fp.bias_words, 10);
    }

    #[test]
    fn addresses_are_disjoint_and_within_footprint() {
        let (c, f, k, w, h) = (3u32, 5u32, 3u32, 6u32, 7u32);
        let b = AddressBits::new(k, f, w, h);
        let fp = Footprint::new(c, f, k, w, h);
        let mut seen = std::collections::HashSet::new();
        for ci in 0..c {
            for fi in 0..f {
                for ky in 0..k {
                    for kx in 0..k {
                        let a = b.kernel_address(k, fi, ci, ky, kx);
                        assert!(a < fp.kernel_words);
                        assert!(seen.insert(a));
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for fi in 0..f {
            for y in 0..h {
                for x in 0..w {
                    let a = b.neuron_address(fi, y, x);
                    assert!(a < fp.neuron_words);
                    assert!(seen.insert(a));
                }
            }
        }
    }
}
