//! The configuration map of [`LayerCore`](crate::layer_core::LayerCore): the
//! single source of truth for register addresses, memory regions, field
//! encodings, stream item kind codes and port widths. The core's HDL reads
//! its constants from here, and the Verilator shim and testbenches use only
//! [`config_writes`], [`encode_item`] and [`decode_output`] plus the flat
//! scalar ports.
//!
//! # Config address space (`cfg_addr`, [`CFG_ADDR_BITS`] bits)
//!
//! `cfg_addr[19:16]` selects a region, `cfg_addr[15:0]` is the word offset
//! inside it. One `cfg_data` write sets one word (the low bits of the 32-bit
//! data; signed fields are two's complement in their low bits).
//!
//! | region | `cfg_addr` | contents |
//! |---|---|---|
//! | [`REGION_REGS`] = 0 | `0x0_00xx` | geometry / neuron registers, see [`REGISTERS`] |
//! | [`REGION_KERNEL`] = 1 | `0x1_aaaa` | kernel word at spec §2 kernel address `aaaa` (int8 in `data[7:0]`) |
//! | [`REGION_NEURON`] = 2 | `0x2_aaaa` | neuron state at spec §2 neuron address `aaaa` (int16 in `data[15:0]`) |
//! | [`REGION_BIAS`] = 3 | `0x3_aaaa` | bias of output feature `aaaa` (int16 in `data[15:0]`) |
//!
//! Offsets at or beyond the preset's capacity alias lower words (the address
//! is truncated to the memory's width): [`config_writes`] never produces them.

use spikehdl_model::core::{CoreItem, CoreOutput};
use spikehdl_model::memory::ceil_log2;
use spikehdl_model::Layer;

use crate::presets::CorePreset;

/// Width of `cfg_addr`.
pub const CFG_ADDR_BITS: usize = 20;
/// Width of `cfg_data`.
pub const CFG_DATA_BITS: usize = 32;
/// `cfg_addr >> REGION_SHIFT` is the region.
pub const REGION_SHIFT: u32 = 16;
/// Register region.
pub const REGION_REGS: u32 = 0;
/// Kernel memory region (8-bit words).
pub const REGION_KERNEL: u32 = 1;
/// Neuron memory region (16-bit words).
pub const REGION_NEURON: u32 = 2;
/// Bias memory region (16-bit words).
pub const REGION_BIAS: u32 = 3;
/// Width of the register index inside the register region (`cfg_addr[5:0]`).
pub const REG_INDEX_BITS: usize = 6;

/// Register indices (word offsets in [`REGION_REGS`]).
pub mod reg {
    /// Input features C (1..=1024).
    pub const C: u32 = 0;
    /// Input width W_in (1..=128).
    pub const W_IN: u32 = 1;
    /// Input height H_in (1..=128).
    pub const H_IN: u32 = 2;
    /// Kernel size k (1..=16).
    pub const K: u32 = 3;
    /// log2(stride_x) (0..=3).
    pub const LOG2_STRIDE_X: u32 = 4;
    /// log2(stride_y) (0..=3).
    pub const LOG2_STRIDE_Y: u32 = 5;
    /// pad_x (0..=7).
    pub const PAD_X: u32 = 6;
    /// pad_y (0..=7).
    pub const PAD_Y: u32 = 7;
    /// Output features F (1..=1024).
    pub const F: u32 = 8;
    /// Output width W_out (1..=64).
    pub const W_OUT: u32 = 9;
    /// Output height H_out (1..=64).
    pub const H_OUT: u32 = 10;
    /// kb = ceil(log2(k²)) (0..=8).
    pub const KB: u32 = 11;
    /// fb = ceil(log2 F) (0..=10).
    pub const FB: u32 = 12;
    /// xb = ceil(log2 W_out) (0..=6).
    pub const XB: u32 = 13;
    /// yb = ceil(log2 H_out) (0..=6).
    pub const YB: u32 = 14;
    /// threshold_high, int16 two's complement in data[15:0] (1..=32767).
    pub const THRESHOLD_HIGH: u32 = 15;
    /// threshold_low, int16 two's complement in data[15:0].
    pub const THRESHOLD_LOW: u32 = 16;
    /// bit 0: return_to_zero; bit 1: leak_enable.
    pub const FLAGS: u32 = 17;
}

/// `FLAGS` bit: reset to 0 on a spike instead of subtracting threshold_high.
pub const FLAG_RETURN_TO_ZERO: u32 = 1 << 0;
/// `FLAGS` bit: leak ticks apply the biases.
pub const FLAG_LEAK_ENABLE: u32 = 1 << 1;

/// One register: name, index, width of the flip-flop in the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    pub name: &'static str,
    pub index: u32,
    pub bits: usize,
}

/// Every register, with the width the core keeps (higher data bits are ignored).
pub const REGISTERS: &[Register] = &[
    Register { name: "C", index: reg::C, bits: 11 },
    Register { name: "W_IN", index: reg::W_IN, bits: 8 },
    Register { name: "H_IN", index: reg::H_IN, bits: 8 },
    Register { name: "K", index: reg::K, bits: 5 },
    Register { name: "LOG2_STRIDE_X", index: reg::LOG2_STRIDE_X, bits: 2 },
    Register { name: "LOG2_STRIDE_Y", index: reg::LOG2_STRIDE_Y, bits: 2 },
    Register { name: "PAD_X", index: reg::PAD_X, bits: 3 },
    Register { name: "PAD_Y", index: reg::PAD_Y, bits: 3 },
    Register { name: "F", index: reg::F, bits: 11 },
    Register { name: "W_OUT", index: reg::W_OUT, bits: 7 },
    Register { name: "H_OUT", index: reg::H_OUT, bits: 7 },
    Register { name: "KB", index: reg::KB, bits: 4 },
    Register { name: "FB", index: reg::FB, bits: 4 },
    Register { name: "XB", index: reg::XB, bits: 3 },
    Register { name: "YB", index: reg::YB, bits: 3 },
    Register { name: "THRESHOLD_HIGH", index: reg::THRESHOLD_HIGH, bits: 16 },
    Register { name: "THRESHOLD_LOW", index: reg::THRESHOLD_LOW, bits: 16 },
    Register { name: "FLAGS", index: reg::FLAGS, bits: 2 },
];

/// `in_kind` code: input spike (uses `in_c`, `in_x`, `in_y`).
pub const IN_KIND_SPIKE: u8 = 0;
/// `in_kind` code: leak tick (no payload).
pub const IN_KIND_LEAK: u8 = 1;
/// `in_kind` code: write neuron (uses `in_f`, `in_x`, `in_y`, `in_value`).
pub const IN_KIND_WRITE: u8 = 2;
/// `in_kind` code: read neuron (uses `in_f`, `in_x`, `in_y`).
pub const IN_KIND_READ: u8 = 3;
/// `out_kind` code: output spike (`out_value` is 0).
pub const OUT_KIND_SPIKE: u8 = 0;
/// `out_kind` code: neuron value answering a read.
pub const OUT_KIND_VALUE: u8 = 1;

/// Port widths (identical for every preset: the presets differ only in
/// memory depth, which is internal).
pub mod width {
    pub const IN_KIND: usize = 2;
    /// `in_c`, `in_x`, `in_y`, `in_f` carry the model's u16 fields whole, so
    /// that every out-of-shape item reaches the core and is counted.
    pub const IN_COORD: usize = 16;
    pub const IN_VALUE: usize = 16;
    pub const OUT_KIND: usize = 1;
    pub const OUT_F: usize = 10;
    pub const OUT_XY: usize = 6;
    pub const OUT_VALUE: usize = 16;
    pub const ERR_COUNT: usize = 32;
}

/// Values of the input stream payload ports for one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InPorts {
    pub kind: u8,
    pub c: u16,
    pub x: u16,
    pub y: u16,
    pub f: u16,
    /// int16 as two's complement.
    pub value: u16,
}

/// Values of the output stream payload ports for one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutPorts {
    pub kind: u8,
    pub f: u16,
    pub x: u16,
    pub y: u16,
    /// int16 as two's complement.
    pub value: u16,
}

/// Encodes a core input item as input port values (unused fields are 0).
pub fn encode_item(item: &CoreItem) -> InPorts {
    match *item {
        CoreItem::Spike { c, x, y } => InPorts { kind: IN_KIND_SPIKE, c, x, y, ..Default::default() },
        CoreItem::LeakTick => InPorts { kind: IN_KIND_LEAK, ..Default::default() },
        CoreItem::WriteNeuron { f, x, y, value } => {
            InPorts { kind: IN_KIND_WRITE, f, x, y, value: value as u16, ..Default::default() }
        }
        CoreItem::ReadNeuron { f, x, y } => InPorts { kind: IN_KIND_READ, f, x, y, ..Default::default() },
    }
}

/// Decodes output port values into a core output item.
pub fn decode_output(o: &OutPorts) -> Result<CoreOutput, String> {
    let (f, x, y) = (o.f, o.x, o.y);
    if u32::from(f) >> width::OUT_F != 0 || u32::from(x | y) >> width::OUT_XY != 0 {
        return Err(format!("output port value out of port width: {o:?}"));
    }
    match o.kind {
        OUT_KIND_SPIKE => Ok(CoreOutput::Spike { f, x, y }),
        OUT_KIND_VALUE => Ok(CoreOutput::NeuronValue { f, x, y, value: o.value as i16 }),
        k => Err(format!("unknown out_kind {k}")),
    }
}

/// Full `cfg_addr` of a word in a region.
pub fn cfg_address(region: u32, offset: u32) -> u32 {
    (region << REGION_SHIFT) | offset
}

/// Every register and memory write needed to load `layer` into a core of
/// `preset`, in this order: registers, kernel memory, bias memory, neuron
/// memory. Every word of the layer's kernel and neuron footprints is written
/// (holes with 0), so the neuron memory afterwards equals
/// `CoreModel::new(layer).neuron_memory_image()` exactly. Errors if the layer
/// exceeds the preset's capacity or a register's width.
pub fn config_writes(layer: &Layer, preset: &CorePreset) -> Result<Vec<(u32, u32)>, String> {
    let fp = layer.footprint();
    let why: Vec<String> = fp.misfits(&preset.capacity).iter().map(ToString::to_string).collect();
    if !why.is_empty() {
        return Err(format!("layer does not fit core type {}: {}", preset.name, why.join("; ")));
    }
    let b = layer.address_bits();
    let log2 = |s: u32, axis: &str| -> Result<u32, String> {
        if s.is_power_of_two() && s <= 8 {
            Ok(s.trailing_zeros())
        } else {
            Err(format!("stride_{axis} {s} is not one of 1, 2, 4, 8"))
        }
    };
    let flags = if layer.params.return_to_zero { FLAG_RETURN_TO_ZERO } else { 0 }
        | if layer.leak_enable { FLAG_LEAK_ENABLE } else { 0 };
    let values: [(u32, u32); 18] = [
        (reg::C, layer.c),
        (reg::W_IN, layer.w_in),
        (reg::H_IN, layer.h_in),
        (reg::K, layer.k),
        (reg::LOG2_STRIDE_X, log2(layer.stride_x, "x")?),
        (reg::LOG2_STRIDE_Y, log2(layer.stride_y, "y")?),
        (reg::PAD_X, layer.pad_x),
        (reg::PAD_Y, layer.pad_y),
        (reg::F, layer.f),
        (reg::W_OUT, layer.w_out),
        (reg::H_OUT, layer.h_out),
        (reg::KB, b.kb),
        (reg::FB, b.fb),
        (reg::XB, b.xb),
        (reg::YB, b.yb),
        (reg::THRESHOLD_HIGH, u32::from(layer.params.threshold_high as u16)),
        (reg::THRESHOLD_LOW, u32::from(layer.params.threshold_low as u16)),
        (reg::FLAGS, flags),
    ];
    // Limits the datapath relies on (spec §2; the model validates them too).
    for (name, v, lo, hi) in [
        ("C", layer.c, 1, 1024),
        ("W_in", layer.w_in, 1, 128),
        ("H_in", layer.h_in, 1, 128),
        ("k", layer.k, 1, 16),
        ("pad_x", layer.pad_x, 0, 7),
        ("pad_y", layer.pad_y, 0, 7),
        ("F", layer.f, 1, 1024),
        ("W_out", layer.w_out, 1, 64),
        ("H_out", layer.h_out, 1, 64),
    ] {
        if v < lo || v > hi {
            return Err(format!("{name} = {v} is outside {lo}..={hi}"));
        }
    }
    if layer.params.threshold_high < 1 || layer.params.threshold_low >= layer.params.threshold_high {
        return Err(format!("thresholds {:?} out of range", layer.params));
    }
    let mut w = Vec::new();
    for (index, v) in values {
        let r = REGISTERS.iter().find(|r| r.index == index).expect("register table covers every index");
        if r.bits < 32 && v >> r.bits != 0 {
            return Err(format!("register {} value {v} exceeds {} bits", r.name, r.bits));
        }
        w.push((cfg_address(REGION_REGS, index), v));
    }
    // Kernel memory: the whole footprint, holes 0.
    let mut kernel = vec![0u8; fp.kernel_words as usize];
    for f in 0..layer.f {
        for c in 0..layer.c {
            for ky in 0..layer.k {
                for kx in 0..layer.k {
                    kernel[b.kernel_address(layer.k, f, c, ky, kx) as usize] = layer.weight(f, c, ky, kx) as u8;
                }
            }
        }
    }
    w.extend(kernel.iter().enumerate().map(|(a, &v)| (cfg_address(REGION_KERNEL, a as u32), u32::from(v))));
    w.extend(
        layer.biases.iter().enumerate().map(|(a, &v)| (cfg_address(REGION_BIAS, a as u32), u32::from(v as u16))),
    );
    let mut neurons = vec![0i16; fp.neuron_words as usize];
    for f in 0..layer.f {
        for y in 0..layer.h_out {
            for x in 0..layer.w_out {
                neurons[b.neuron_address(f, y, x) as usize] = layer.initial(f, y, x);
            }
        }
    }
    w.extend(
        neurons.iter().enumerate().map(|(a, &v)| (cfg_address(REGION_NEURON, a as u32), u32::from(v as u16))),
    );
    debug_assert!(ceil_log2(fp.neuron_words) as usize <= preset.capacity.neuron_addr_bits());
    Ok(w)
}

/// `ReadNeuron` items for every neuron of `layer`, in neuron-address order.
/// Appended to a stream, their answers plus [`neuron_image_from_values`]
/// give the core's whole neuron memory.
pub fn readback_items(layer: &Layer) -> Vec<CoreItem> {
    let mut v = Vec::with_capacity((layer.f * layer.h_out * layer.w_out) as usize);
    for f in 0..layer.f as u16 {
        for y in 0..layer.h_out as u16 {
            for x in 0..layer.w_out as u16 {
                v.push(CoreItem::ReadNeuron { f, x, y });
            }
        }
    }
    v
}

/// The neuron memory image (spec §2 layout, the same shape as
/// `CoreModel::neuron_memory_image()`) from the `NeuronValue` answers of a
/// core; addresses no neuron maps to are 0, as [`config_writes`] leaves them
/// and the core never writes them. Other outputs are ignored.
pub fn neuron_image_from_values(layer: &Layer, outputs: &[CoreOutput]) -> Vec<i16> {
    let b = layer.address_bits();
    let mut img = vec![0i16; layer.footprint().neuron_words as usize];
    for o in outputs {
        if let CoreOutput::NeuronValue { f, x, y, value } = *o {
            img[b.neuron_address(f.into(), y.into(), x.into()) as usize] = value;
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use spikehdl_model::neuron::NeuronParams;
    use spikehdl_model::validate::Destination;
    use spikehdl_model::CoreModel;

    fn sample_layer() -> Layer {
        let (c, f, k, w_out, h_out) = (2u32, 3u32, 3u32, 5u32, 3u32);
        let d = Destination { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 };
        Layer {
            c,
            w_in: 5,
            h_in: 3,
            k,
            stride_x: 1,
            stride_y: 1,
            pad_x: 1,
            pad_y: 1,
            f,
            w_out,
            h_out,
            weights: (0..f * c * k * k).map(|i| (i as i8).wrapping_mul(37)).collect(),
            biases: vec![1, -2, 3],
            neurons_initial_value: (0..f * h_out * w_out).map(|i| i as i16 * 7 - 20).collect(),
            params: NeuronParams { threshold_high: 10, threshold_low: -5, return_to_zero: false },
            leak_enable: true,
            monitor_enable: false,
            destinations: [d, d],
        }
    }

    #[test]
    fn config_writes_load_the_model_image() {
        let l = sample_layer();
        let w = config_writes(&l, crate::presets::preset("tiny").unwrap()).unwrap();
        let neuron: Vec<i16> = w
            .iter()
            .filter(|(a, _)| a >> REGION_SHIFT == REGION_NEURON)
            .map(|&(_, d)| d as u16 as i16)
            .collect();
        assert_eq!(neuron, CoreModel::new(&l).neuron_memory_image());
        let b = l.address_bits();
        let kw: std::collections::HashMap<u32, u32> =
            w.iter().filter(|(a, _)| a >> REGION_SHIFT == REGION_KERNEL).map(|&(a, d)| (a & 0xffff, d)).collect();
        assert_eq!(kw.len() as u64, l.footprint().kernel_words);
        assert_eq!(kw[&(b.kernel_address(3, 2, 1, 2, 1) as u32)], u32::from(l.weight(2, 1, 2, 1) as u8));
        let flags = w.iter().find(|(a, _)| *a == cfg_address(REGION_REGS, reg::FLAGS)).unwrap().1;
        assert_eq!(flags, FLAG_LEAK_ENABLE);
    }

    #[test]
    fn capacity_is_enforced() {
        let mut l = sample_layer();
        l.f = 64;
        l.biases = vec![0; 64];
        l.weights = vec![0; (64 * l.c * l.k * l.k) as usize];
        l.neurons_initial_value = vec![0; (64 * l.h_out * l.w_out) as usize];
        let e = config_writes(&l, crate::presets::preset("tiny").unwrap()).unwrap_err();
        assert!(e.contains("kernel"), "{e}");
    }

    #[test]
    fn readback_round_trip() {
        let l = sample_layer();
        let mut m = CoreModel::new(&l);
        let mut out = Vec::new();
        for it in readback_items(&l) {
            m.accept(it, &mut out);
        }
        assert_eq!(neuron_image_from_values(&l, &out), m.neuron_memory_image());
    }

    #[test]
    fn item_round_trip_kinds() {
        assert_eq!(encode_item(&CoreItem::LeakTick).kind, IN_KIND_LEAK);
        let e = encode_item(&CoreItem::WriteNeuron { f: 3, x: 1, y: 2, value: -5 });
        assert_eq!((e.kind, e.f, e.x, e.y, e.value), (IN_KIND_WRITE, 3, 1, 2, 0xfffb));
        let o = OutPorts { kind: OUT_KIND_VALUE, f: 1, x: 2, y: 3, value: 0x8000 };
        assert_eq!(decode_output(&o).unwrap(), CoreOutput::NeuronValue { f: 1, x: 2, y: 3, value: -32768 });
    }

    #[test]
    fn register_indices_fit_the_index_field() {
        for r in REGISTERS {
            assert!(r.index < (1 << REG_INDEX_BITS));
        }
    }
}
