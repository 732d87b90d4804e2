//! One convolution core (spec §2–4, §6, §8 neuron access), transaction level:
//! [`CoreModel::accept`] takes one core input item and appends the outputs it
//! causes, in the spec's order.
//!
//! Internally the state is stored `[y][x][f]` and the weights `[c][ky][kx][f]`
//! so that the inner loop over output features walks contiguous memory; the
//! spec's addresses (see [`crate::memory`]) are only an external view
//! ([`CoreModel::neuron_memory_image`]).

use crate::kernel::{for_each_bit, Kernel, Level};
use crate::neuron::{apply, NeuronParams};
use crate::validate::Layer;

/// An item on a core's input stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoreItem {
    /// Input spike at channel c, position (x, y).
    Spike { c: u16, x: u16, y: u16 },
    /// A leak tick: with `leak_enable`, every neuron gets its bias (spec §6).
    LeakTick,
    /// Overwrite neuron (f, x, y) with `value`.
    WriteNeuron { f: u16, x: u16, y: u16, value: i16 },
    /// Read neuron (f, x, y): answered with [`CoreOutput::NeuronValue`].
    ReadNeuron { f: u16, x: u16, y: u16 },
}

/// An item on a core's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoreOutput {
    /// Output spike of neuron (f, x, y).
    Spike { f: u16, x: u16, y: u16 },
    /// Answer to a [`CoreItem::ReadNeuron`].
    NeuronValue { f: u16, x: u16, y: u16, value: i16 },
}

/// Activity counters of one core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CoreCounters {
    /// Items accepted on the input stream (all kinds).
    pub items_in: u64,
    /// Output spikes produced.
    pub spikes_out: u64,
    /// Neuron updates visited: kernel taps × F per spike, plus F·H·W per leak
    /// tick when leak is enabled (zero weights included: they cost a slot).
    pub synaptic_updates: u64,
    /// Items that lay outside the configured shapes (spec §4 **[decision]**):
    /// spikes outside the input map, neuron reads/writes outside the output map.
    pub errors: u64,
}

/// The golden model of one core.
#[derive(Debug, Clone)]
pub struct CoreModel {
    layer: Layer,
    /// `[c][ky][kx][f]`, widened once so the hot loop does no conversion.
    weights: Vec<i16>,
    /// `[c][ky][k-1-kx][f]`: with stride_x = 1 the taps of one kernel row
    /// touch one contiguous run of `[y][x][f]` states (ox descending as kx
    /// ascends), so reversing kx makes the row one strip of weights too.
    weights_rev: Vec<i16>,
    /// `[y][x][f]`.
    state: Vec<i16>,
    params: NeuronParams,
    counters: CoreCounters,
    kernel: Kernel,
    /// Spike bits of one strip (k·F lanes), reused: no allocation per event.
    bits: Vec<u64>,
}

impl CoreModel {
    pub fn new(layer: &Layer) -> Self {
        let (f, c, k) = (layer.f as usize, layer.c as usize, layer.k as usize);
        let mut weights = vec![0i16; c * k * k * f];
        for fi in 0..f {
            for ci in 0..c {
                for ky in 0..k {
                    for kx in 0..k {
                        weights[((ci * k + ky) * k + kx) * f + fi] =
                            layer.weight(fi as u32, ci as u32, ky as u32, kx as u32).into();
                    }
                }
            }
        }
        let mut weights_rev = vec![0i16; weights.len()];
        for ci in 0..c {
            for ky in 0..k {
                for kx in 0..k {
                    let src = ((ci * k + ky) * k + kx) * f;
                    let dst = ((ci * k + ky) * k + (k - 1 - kx)) * f;
                    weights_rev[dst..dst + f].copy_from_slice(&weights[src..src + f]);
                }
            }
        }
        let (w, h) = (layer.w_out as usize, layer.h_out as usize);
        let mut state = vec![0i16; h * w * f];
        for fi in 0..f {
            for y in 0..h {
                for x in 0..w {
                    state[(y * w + x) * f + fi] = layer.initial(fi as u32, y as u32, x as u32);
                }
            }
        }
        Self {
            params: layer.params,
            layer: layer.clone(),
            weights,
            weights_rev,
            state,
            counters: CoreCounters::default(),
            kernel: Kernel::default(),
            bits: vec![0; (k * f).div_ceil(64) + 1],
        }
    }

    /// Selects the update loop; `false` (and no change) if the CPU lacks it.
    /// Every level gives the same results bit for bit.
    pub fn set_kernel_level(&mut self, level: Level) -> bool {
        match Kernel::new(level) {
            Some(k) => {
                self.kernel = k;
                true
            }
            None => false,
        }
    }

    pub fn kernel_level(&self) -> Level {
        self.kernel.level()
    }

    pub fn layer(&self) -> &Layer {
        &self.layer
    }

    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// Processes one input item; outputs are appended to `out` in spec order.
    pub fn accept(&mut self, item: CoreItem, out: &mut Vec<CoreOutput>) {
        self.counters.items_in += 1;
        match item {
            CoreItem::Spike { c, x, y } => {
                if self.in_shape(&item) {
                    self.spike(c.into(), x.into(), y.into(), out)
                } else {
                    self.counters.errors += 1;
                }
            }
            CoreItem::LeakTick => self.leak(out),
            CoreItem::WriteNeuron { f, x, y, value } => match self.index(f, x, y) {
                Some(i) => self.state[i] = value,
                None => self.counters.errors += 1,
            },
            CoreItem::ReadNeuron { f, x, y } => match self.index(f, x, y) {
                Some(i) => out.push(CoreOutput::NeuronValue { f, x, y, value: self.state[i] }),
                None => self.counters.errors += 1,
            },
        }
    }

    /// Convenience form of [`accept`](Self::accept) returning a fresh vector.
    pub fn accept_vec(&mut self, item: CoreItem) -> Vec<CoreOutput> {
        let mut out = Vec::new();
        self.accept(item, &mut out);
        out
    }

    fn index(&self, f: u16, x: u16, y: u16) -> Option<usize> {
        let l = &self.layer;
        (u32::from(f) < l.f && u32::from(x) < l.w_out && u32::from(y) < l.h_out)
            .then(|| (usize::from(y) * l.w_out as usize + usize::from(x)) * l.f as usize + usize::from(f))
    }

    /// Spec §4: kernel rows, then columns, then features, all ascending
    /// (the caller checked the input shape).
    fn spike(&mut self, c: u32, x: u32, y: u32, out: &mut Vec<CoreOutput>) {
        let l = &self.layer;
        if self.kernel.level() != Level::Scalar {
            return self.spike_strips(c, x, y, out);
        }
        let (k, f, w_out) = (l.k as usize, l.f as usize, l.w_out as usize);
        let p = self.params;
        let mut taps = 0u64;
        for ky in 0..l.k {
            let ny = (y + l.pad_y) as i32 - ky as i32;
            if ny < 0 || !(ny as u32).is_multiple_of(l.stride_y) {
                continue;
            }
            let oy = ny as u32 / l.stride_y;
            if oy >= l.h_out {
                continue;
            }
            for kx in 0..l.k {
                let nx = (x + l.pad_x) as i32 - kx as i32;
                if nx < 0 || !(nx as u32).is_multiple_of(l.stride_x) {
                    continue;
                }
                let ox = nx as u32 / l.stride_x;
                if ox >= l.w_out {
                    continue;
                }
                taps += 1;
                let wbase = ((c as usize * k + ky as usize) * k + kx as usize) * f;
                let nbase = (oy as usize * w_out + ox as usize) * f;
                let wrow = &self.weights[wbase..wbase + f];
                let nrow = &mut self.state[nbase..nbase + f];
                for (fi, (v, &w)) in nrow.iter_mut().zip(wrow).enumerate() {
                    if apply(v, w, &p) {
                        out.push(CoreOutput::Spike { f: fi as u16, x: ox as u16, y: oy as u16 });
                        self.counters.spikes_out += 1;
                    }
                }
            }
        }
        self.counters.synaptic_updates += taps * f as u64;
    }

    /// Spec §4 with the vector kernel: the same updates and the same spike
    /// order as [`spike`](Self::spike). With stride_x = 1 the valid taps of a
    /// kernel row are one strip (k·F contiguous lanes, see `weights_rev`);
    /// otherwise each tap is a strip of F lanes. Lanes of one strip are
    /// distinct neurons, so computing them together and emitting afterwards
    /// in (kx, f) order is the sequential rule.
    fn spike_strips(&mut self, c: u32, x: u32, y: u32, out: &mut Vec<CoreOutput>) {
        let l = &self.layer;
        let (k, f, w_out) = (l.k as usize, l.f as usize, l.w_out as usize);
        let strip = self.kernel.bind(&self.params);
        let mut taps = 0usize;
        let out_before = out.len();
        // Strides are powers of two (validated): shifts instead of divisions.
        let (sy_mask, sy_shift) = (l.stride_y as usize - 1, l.stride_y.trailing_zeros());
        let yp = (y + l.pad_y) as usize;
        // Rows with oy = (yp − ky)/stride ≥ H_out start no strip: skip them
        // (a k = 8 readout on a 1×1 map has one valid row in eight).
        let ky_lo = yp.saturating_sub((l.h_out as usize - 1) * l.stride_y as usize);
        for ky in ky_lo..k.min(yp + 1) {
            let ny = yp - ky;
            if ny & sy_mask != 0 {
                continue;
            }
            let oy = ny >> sy_shift;
            if oy >= l.h_out as usize {
                continue;
            }
            let xp = (x + l.pad_x) as isize;
            if l.stride_x == 1 {
                // kx with 0 ≤ ox = xp − kx < W_out, as one range.
                let kx_lo = (xp - (w_out as isize - 1)).max(0);
                let kx_hi = xp.min(k as isize - 1);
                if kx_lo > kx_hi {
                    continue;
                }
                let (kx_lo, kx_hi) = (kx_lo as usize, kx_hi as usize);
                let n = kx_hi - kx_lo + 1;
                let ox_lo = xp as usize - kx_hi;
                let sb = (oy * w_out + ox_lo) * f;
                let wb = ((c as usize * k + ky) * k + (k - 1 - kx_hi)) * f;
                let len = n * f;
                taps += n;
                let any = strip.run(&mut self.state[sb..sb + len], &self.weights_rev[wb..wb + len], &mut self.bits);
                if any != 0 {
                    // kx ascending is ox descending: the last tap of the strip first.
                    for j in (0..n).rev() {
                        let (ox, base) = ((ox_lo + j) as u16, j * f);
                        for_each_bit(&self.bits, base, f, |i| {
                            out.push(CoreOutput::Spike { f: (i - base) as u16, x: ox, y: oy as u16 })
                        });
                    }
                }
            } else {
                for kx in 0..k {
                    let nx = xp - kx as isize;
                    if nx < 0 || !(nx as u32).is_multiple_of(l.stride_x) {
                        continue;
                    }
                    let ox = nx as usize / l.stride_x as usize;
                    if ox >= w_out {
                        continue;
                    }
                    taps += 1;
                    let wb = ((c as usize * k + ky) * k + kx) * f;
                    let sb = (oy * w_out + ox) * f;
                    let any = strip.run(&mut self.state[sb..sb + f], &self.weights[wb..wb + f], &mut self.bits);
                    if any != 0 {
                        for_each_bit(&self.bits, 0, f, |i| {
                            out.push(CoreOutput::Spike { f: i as u16, x: ox as u16, y: oy as u16 })
                        });
                    }
                }
            }
        }
        self.counters.spikes_out += (out.len() - out_before) as u64;
        self.counters.synaptic_updates += (taps * f) as u64;
    }

    /// Spec §6: every neuron in neuron-address order (f, then y, then x) gets its bias.
    fn leak(&mut self, out: &mut Vec<CoreOutput>) {
        let l = &self.layer;
        if !l.leak_enable {
            return;
        }
        let (f, w, h) = (l.f as usize, l.w_out as usize, l.h_out as usize);
        let p = self.params;
        for fi in 0..f {
            let b = l.biases[fi];
            for y in 0..h {
                for x in 0..w {
                    if apply(&mut self.state[(y * w + x) * f + fi], b, &p) {
                        out.push(CoreOutput::Spike { f: fi as u16, x: x as u16, y: y as u16 });
                        self.counters.spikes_out += 1;
                    }
                }
            }
        }
        self.counters.synaptic_updates += (f * w * h) as u64;
    }

    /// Whether `item` lies inside the configured shapes: a spike inside the
    /// input map, a neuron read or write inside the output map. [`accept`]
    /// counts every other item as an error (spec §4 **[decision]**).
    ///
    /// [`accept`]: Self::accept
    pub fn in_shape(&self, item: &CoreItem) -> bool {
        let l = &self.layer;
        match *item {
            CoreItem::Spike { c, x, y } => u32::from(c) < l.c && u32::from(x) < l.w_in && u32::from(y) < l.h_in,
            CoreItem::LeakTick => true,
            CoreItem::WriteNeuron { f, x, y, .. } | CoreItem::ReadNeuron { f, x, y } => self.index(f, x, y).is_some(),
        }
    }

    /// The core restricted to output features `lo..hi` (a thread's share,
    /// see `crate::split`): the same layer cut to those features, the
    /// current states of those neurons, the same kernel level, counters at
    /// zero. Its outputs name features relative to `lo`.
    pub(crate) fn feature_slice(&self, lo: usize, hi: usize) -> CoreModel {
        let l = &self.layer;
        let (f, c, k, w, h) = (l.f as usize, l.c as usize, l.k as usize, l.w_out as usize, l.h_out as usize);
        assert!(lo < hi && hi <= f, "feature slice {lo}..{hi} of {f}");
        let mut sub = l.clone();
        sub.f = (hi - lo) as u32;
        sub.weights = l.weights[lo * c * k * k..hi * c * k * k].to_vec();
        sub.biases = l.biases[lo..hi].to_vec();
        sub.neurons_initial_value = l.neurons_initial_value[lo * h * w..hi * h * w].to_vec();
        let mut s = CoreModel::new(&sub);
        s.kernel = self.kernel;
        let n = hi - lo;
        for (dst, src) in s.state.chunks_exact_mut(n).zip(self.state.chunks_exact(f)) {
            dst.copy_from_slice(&src[lo..hi]);
        }
        s
    }

    /// Takes back the states of slices made by [`feature_slice`](Self::feature_slice)
    /// (`(lo, slice)`) and their spikes and updates; `items` and `errors`
    /// are what the core as a whole accepted and rejected meanwhile.
    pub(crate) fn absorb_slices(&mut self, slices: &[(usize, CoreModel)], items: u64, errors: u64) {
        let f = self.layer.f as usize;
        for (lo, s) in slices {
            let n = s.layer.f as usize;
            for (dst, src) in self.state.chunks_exact_mut(f).zip(s.state.chunks_exact(n)) {
                dst[*lo..*lo + n].copy_from_slice(src);
            }
            self.counters.spikes_out += s.counters.spikes_out;
            self.counters.synaptic_updates += s.counters.synaptic_updates;
        }
        self.counters.items_in += items;
        self.counters.errors += errors;
    }

    /// State of neuron (f, x, y), or None outside the output map.
    pub fn neuron(&self, f: u16, x: u16, y: u16) -> Option<i16> {
        self.index(f, x, y).map(|i| self.state[i])
    }

    /// The neuron memory as the RTL holds it: word `a` is the state of the
    /// neuron whose spec §2 address is `a`; addresses no neuron maps to hold 0.
    pub fn neuron_memory_image(&self) -> Vec<i16> {
        let l = &self.layer;
        let b = l.address_bits();
        let mut img = vec![0i16; l.footprint().neuron_words as usize];
        for fi in 0..l.f {
            for y in 0..l.h_out {
                for x in 0..l.w_out {
                    img[b.neuron_address(fi, y, x) as usize] =
                        self.state[(y as usize * l.w_out as usize + x as usize) * l.f as usize + fi as usize];
                }
            }
        }
        img
    }

    /// All neuron states as `[F][H_out][W_out]` (PyTorch order).
    pub fn states(&self) -> Vec<i16> {
        let l = &self.layer;
        let mut v = Vec::with_capacity(self.state.len());
        for fi in 0..l.f as usize {
            for y in 0..l.h_out as usize {
                for x in 0..l.w_out as usize {
                    v.push(self.state[(y * l.w_out as usize + x) * l.f as usize + fi]);
                }
            }
        }
        v
    }
}
