//! Memory footprints and addresses (spec §2). The address layout is a
//! **[decision]** of the spec; it lives here and nowhere else.

/// ceil(log2(n)) for n ≥ 1 (0 for n = 1).
pub fn ceil_log2(n: u64) -> u32 {
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
