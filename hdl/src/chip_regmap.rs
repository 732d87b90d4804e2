//! The configuration map and port encodings of the multi-core chip top
//! ([`crate::chip`]): the single source of truth for everything above one
//! core, and the exported chips ([`CHIP_PRESETS`], one per chip preset of
//! [`spikehdl_model::presets`], from which the cores are derived). The
//! per-core part reuses [`crate::regmap`] unchanged.
//!
//! # Chip config address space (`cfg_addr`, [`CHIP_CFG_ADDR_BITS`] = 24 bits)
//!
//! `cfg_addr[23:20]` selects a block, `cfg_addr[19:0]` is the address inside it:
//!
//! | block | `cfg_addr` | contents |
//! |---|---|---|
//! | core i (0..N-1) | `0xi_xxxxx` | that core's map, exactly [`crate::regmap`] (`cfg_addr[19:0]`) |
//! | [`BLOCK_ROUTER`] = 12 | `0xC_000ss_r` = `(12 << 20) \| (s << 3) \| r` | router registers of source core `s`, see [`router`] |
//! | [`BLOCK_DVS`] = 13 | `0xD_0000r` | DVS layer registers, see [`dvs`] |
//!
//! Writes are only allowed while the chip's `idle` port is high and no host
//! input is presented (as for a single core). Registers keep their values
//! across `reset`. An address outside this map writes nothing.

use spikehdl_model::events::{HostInput, HostOutput};
use spikehdl_model::validate::{Destination, ValidConfig};
use spikehdl_model::CoreItem;

use crate::presets::{preset, CorePreset};
use crate::regmap;

/// Width of the chip's `cfg_addr`.
pub const CHIP_CFG_ADDR_BITS: usize = 24;
/// `cfg_addr >> BLOCK_SHIFT` is the block.
pub const BLOCK_SHIFT: u32 = 20;
/// Router block (the same id as the host readout layer).
pub const BLOCK_ROUTER: u32 = 12;
/// DVS block (the same id as the DVS monitor layer).
pub const BLOCK_DVS: u32 = 13;

/// Router registers of source core `s`: word offset `(s << 3) | r`.
pub mod router {
    /// Destination 0: `{enable[16], layer[15:12], log2(pooling)[11:10], feature_shift[9:0]}`.
    pub const DEST0: u32 = 0;
    /// Destination 1, same layout.
    pub const DEST1: u32 = 1;
    /// `monitor_enable` in bit 0.
    pub const MONITOR: u32 = 2;
    /// Input features C of core `s` as a destination (11 bits; 0 = drop everything).
    pub const SHAPE_C: u32 = 3;
    /// Input width W_in of core `s` (8 bits).
    pub const SHAPE_W: u32 = 4;
    /// Input height H_in of core `s` (8 bits).
    pub const SHAPE_H: u32 = 5;
    /// Source index shift inside the router block.
    pub const SOURCE_SHIFT: u32 = 3;
}

/// DVS layer registers (word offsets in [`BLOCK_DVS`]).
pub mod dvs {
    /// Destination 0: `{enable[16], layer[15:12]}` (pooling and shift are 0).
    pub const DEST0: u32 = 0;
    /// Destination 1, same layout.
    pub const DEST1: u32 = 1;
    /// `monitor_enable` in bit 0.
    pub const MONITOR: u32 = 2;
    /// `{log2(pool_y)[3:2], log2(pool_x)[1:0]}`.
    pub const POOL: u32 = 3;
    /// `{origin_y[14:8], origin_x[6:0]}`.
    pub const ORIGIN: u32 = 4;
    /// `{cut_y[14:8], cut_x[6:0]}`.
    pub const CUT: u32 = 5;
    /// `{off_channel[5], on_channel[4], merge[3], mirror_diagonal[2], mirror_y[1], mirror_x[0]}`.
    pub const FLAGS: u32 = 6;
}

/// Host input `in_kind` codes.
pub mod in_kind {
    pub const DVS: u8 = 0;
    pub const SPIKE: u8 = 1;
    pub const LEAK: u8 = 2;
    pub const WRITE: u8 = 3;
    pub const READ: u8 = 4;
}

/// Host output `out_kind` codes.
pub mod out_kind {
    pub const SPIKE: u8 = 0;
    pub const MONITOR: u8 = 1;
    pub const VALUE: u8 = 2;
}

/// The 47-bit event word used inside the chip (core input FIFOs, router
/// requests, host output FIFO) and on the `obs<i>_item` ports:
/// `{kind[46:45], layer[44:41], a[40:30], x[29:23], y[22:16], value[15:0]}`.
/// On a core input, `kind` is a [`regmap`] `IN_KIND_*` code, `layer` the
/// target core and `a` is c (spike) or f (write/read); on the host output,
/// `kind` is an [`out_kind`] code and `layer` the source layer.
pub mod word {
    pub const BITS: usize = 47;
    pub const KIND: u32 = 45;
    pub const LAYER: u32 = 41;
    pub const A: u32 = 30;
    pub const X: u32 = 23;
    pub const Y: u32 = 16;
    pub const VALUE: u32 = 0;
}

/// Port widths of the chip top (used in the port types of `crate::chip`
/// and `crate::host_link`, so the two cannot disagree).
pub mod width {
    pub const IN_KIND: usize = 3;
    pub const LAYER: usize = 4;
    pub const A: usize = 11;
    pub const XY: usize = 7;
    pub const VALUE: usize = 16;
    pub const OUT_KIND: usize = 2;
    pub const COUNT: usize = 32;
    pub const CFG_ADDR: usize = super::CHIP_CFG_ADDR_BITS;
    pub const CFG_DATA: usize = 32;
}

/// Depth of every chip FIFO (core inputs, host output).
pub const FIFO_DEPTH: usize = 4;

/// One exported chip: a model chip preset (through `Deref`: `name`,
/// `description`, `cores`) with its Verilog module, which has the preset's
/// name (`chip_<x>`, the naming rule of [`spikehdl_model::presets`]).
#[derive(Debug, Clone, Copy)]
pub struct ChipPreset {
    /// Verilog module / file stem; equal to `model.name`.
    pub module: &'static str,
    pub model: &'static spikehdl_model::presets::ChipPreset,
}

impl std::ops::Deref for ChipPreset {
    type Target = spikehdl_model::presets::ChipPreset;
    fn deref(&self) -> &Self::Target {
        self.model
    }
}

impl ChipPreset {
    pub fn n_cores(&self) -> usize {
        self.model.n_cores()
    }
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module)
    }
    /// The core presets, core 0 first.
    pub fn core_presets(&self) -> Vec<&'static CorePreset> {
        self.model.cores.iter().map(|t| preset(t.name).expect("every model core type is exported")).collect()
    }
    /// Why `cfg` does not run on this chip (too few cores, a layer larger
    /// than its core: [`ValidConfig::misfits_on`]); empty when it fits.
    pub fn misfits(&self, cfg: &ValidConfig) -> Vec<String> {
        cfg.misfits_on(&self.capacities())
    }
    /// True when the chip has at least as many cores as `cfg` and every
    /// configured layer fits its core.
    pub fn fits(&self, cfg: &ValidConfig) -> bool {
        self.misfits(cfg).is_empty()
    }
}

/// Invokes `$m!(Type, "module", CHIP_CONST, N, N+1, N+2, drop_N, [(i, core field, obs valid, obs item, err, drop)...])`
/// once per exported chip, `CHIP_CONST` naming the model's chip preset
/// constant (`spikehdl_model::presets::CHIP_TINY` …): each core's address
/// widths and neuron memory form derive from its core type there. The
/// literals (module name, core count) are what a macro needs for field
/// names; a test pins them to the model.
#[macro_export]
macro_rules! for_each_chip {
    ($m:ident) => {
        $m!(ChipTiny, "chip_tiny", CHIP_TINY, 3, 4, 5, drop3,
            [(0, core0, obs0_valid, obs0_item, err0, drop0),
             (1, core1, obs1_valid, obs1_item, err1, drop1),
             (2, core2, obs2_valid, obs2_item, err2, drop2)]);
        $m!(ChipFpga, "chip_fpga", CHIP_FPGA, 2, 3, 4, drop2,
            [(0, core0, obs0_valid, obs0_item, err0, drop0),
             (1, core1, obs1_valid, obs1_item, err1, drop1)]);
        $m!(ChipReference, "chip_reference", CHIP_REFERENCE, 9, 10, 11, drop9,
            [(0, core0, obs0_valid, obs0_item, err0, drop0),
             (1, core1, obs1_valid, obs1_item, err1, drop1),
             (2, core2, obs2_valid, obs2_item, err2, drop2),
             (3, core3, obs3_valid, obs3_item, err3, drop3),
             (4, core4, obs4_valid, obs4_item, err4, drop4),
             (5, core5, obs5_valid, obs5_item, err5, drop5),
             (6, core6, obs6_valid, obs6_item, err6, drop6),
             (7, core7, obs7_valid, obs7_item, err7, drop7),
             (8, core8, obs8_valid, obs8_item, err8, drop8)]);
        $m!(ChipUlx3s, "chip_ulx3s", CHIP_ULX3S, 9, 10, 11, drop9,
            [(0, core0, obs0_valid, obs0_item, err0, drop0),
             (1, core1, obs1_valid, obs1_item, err1, drop1),
             (2, core2, obs2_valid, obs2_item, err2, drop2),
             (3, core3, obs3_valid, obs3_item, err3, drop3),
             (4, core4, obs4_valid, obs4_item, err4, drop4),
             (5, core5, obs5_valid, obs5_item, err5, drop5),
             (6, core6, obs6_valid, obs6_item, err6, drop6),
             (7, core7, obs7_valid, obs7_item, err7, drop7),
             (8, core8, obs8_valid, obs8_item, err8, drop8)]);
        $m!(ChipIcebreaker, "chip_icebreaker", CHIP_ICEBREAKER, 1, 2, 3, drop1,
            [(0, core0, obs0_valid, obs0_item, err0, drop0)]);
    };
}

const fn chips<const N: usize>() -> [ChipPreset; N] {
    use spikehdl_model::presets::CHIP_PRESETS as MODEL;
    let mut out = [ChipPreset { module: MODEL[0].name, model: &MODEL[0] }; N];
    let mut i = 0;
    while i < N {
        out[i] = ChipPreset { module: MODEL[i].name, model: &MODEL[i] };
        i += 1;
    }
    out
}

/// Every exported chip: all of the model's chip presets, in its order.
pub const CHIP_PRESETS: &[ChipPreset] = &chips::<{ spikehdl_model::presets::CHIP_PRESETS.len() }>();

/// Looks a chip up by its exact preset (= module) name.
pub fn chip(name: &str) -> Option<&'static ChipPreset> {
    CHIP_PRESETS.iter().find(|c| c.module == name)
}

/// The smallest exported chip `cfg` fits on (reference configs: the reference chip).
pub fn chip_for_config(cfg: &ValidConfig) -> Option<&'static ChipPreset> {
    if let Some(c) = CHIP_PRESETS.iter().find(|c| c.capacities() == cfg.capacities) {
        return Some(c);
    }
    CHIP_PRESETS.iter().find(|c| c.fits(cfg))
}

/// Full chip `cfg_addr` of a word in a block.
pub fn chip_address(block: u32, offset: u32) -> u32 {
    (block << BLOCK_SHIFT) | offset
}

fn log2_pool(p: u32) -> Result<u32, String> {
    match p {
        1 => Ok(0),
        2 => Ok(1),
        4 => Ok(2),
        _ => Err(format!("pooling {p} is not one of 1, 2, 4")),
    }
}

/// Router destination word.
pub fn dest_word(d: &Destination) -> Result<u32, String> {
    if !d.enable {
        return Ok(0);
    }
    // Field widths of the destination word; the limits are the model's (spec §2, §5).
    if i64::from(d.feature_shift) > spikehdl_model::validate::limits::MAX_FEATURE_SHIFT || d.layer > 15 {
        return Err(format!("destination {d:?} out of range"));
    }
    Ok(1 << 16 | u32::from(d.layer) << 12 | log2_pool(d.pooling)? << 10 | d.feature_shift)
}

/// Every configuration write that loads `cfg` into `chip`: each configured
/// core's [`regmap::config_writes`] (prefixed with its block), then the
/// router registers of every core (unconfigured cores: all zero, so routing
/// to them drops), then the DVS registers.
pub fn chip_config_writes(cfg: &ValidConfig, chip: &ChipPreset) -> Result<Vec<(u32, u32)>, String> {
    let cores = chip.core_presets();
    if cfg.n_cores() > cores.len() {
        return Err(format!("configuration has {} cores but chip {} has {}", cfg.n_cores(), chip.module, cores.len()));
    }
    let mut w = Vec::new();
    for (i, l) in cfg.layers.iter().enumerate() {
        if let Some(l) = l {
            let cw = regmap::config_writes(l, cores[i]).map_err(|e| format!("core {i}: {e}"))?;
            w.extend(cw.into_iter().map(|(a, d)| ((i as u32) << BLOCK_SHIFT | a, d)));
        }
    }
    for s in 0..cores.len() {
        let base = (s as u32) << router::SOURCE_SHIFT;
        let r = |reg: u32| chip_address(BLOCK_ROUTER, base | reg);
        match cfg.layers.get(s).and_then(|l| l.as_ref()) {
            Some(l) => {
                w.push((r(router::DEST0), dest_word(&l.destinations[0]).map_err(|e| format!("core {s}: {e}"))?));
                w.push((r(router::DEST1), dest_word(&l.destinations[1]).map_err(|e| format!("core {s}: {e}"))?));
                w.push((r(router::MONITOR), u32::from(l.monitor_enable)));
                w.push((r(router::SHAPE_C), l.c));
                w.push((r(router::SHAPE_W), l.w_in));
                w.push((r(router::SHAPE_H), l.h_in));
            }
            None => {
                for reg in [router::DEST0, router::DEST1, router::MONITOR, router::SHAPE_C, router::SHAPE_W, router::SHAPE_H] {
                    w.push((r(reg), 0));
                }
            }
        }
    }
    let d = |reg: u32| chip_address(BLOCK_DVS, reg);
    match &cfg.dvs {
        None => {
            for reg in [dvs::DEST0, dvs::DEST1, dvs::MONITOR, dvs::POOL, dvs::ORIGIN, dvs::CUT, dvs::FLAGS] {
                w.push((d(reg), 0));
            }
        }
        Some(v) => {
            for (k, dest) in v.destinations.iter().enumerate() {
                let word = dest.map_or(0, |l| 1 << 16 | u32::from(l) << 12);
                w.push((d(dvs::DEST0 + k as u32), word));
            }
            w.push((d(dvs::MONITOR), u32::from(v.monitor_enable)));
            w.push((d(dvs::POOL), log2_pool(v.pool_y)? << 2 | log2_pool(v.pool_x)?));
            for (name, x) in [("origin_x", v.origin_x), ("origin_y", v.origin_y), ("cut_x", v.cut_x), ("cut_y", v.cut_y)] {
                let max = spikehdl_model::validate::limits::DVS_SIZE - 1;
                if i64::from(x) > max {
                    return Err(format!("dvs {name} = {x} exceeds {max}"));
                }
            }
            w.push((d(dvs::ORIGIN), v.origin_y << 8 | v.origin_x));
            w.push((d(dvs::CUT), v.cut_y << 8 | v.cut_x));
            let flags = u32::from(v.mirror_x)
                | u32::from(v.mirror_y) << 1
                | u32::from(v.mirror_diagonal) << 2
                | u32::from(v.merge) << 3
                | u32::from(v.on_channel) << 4
                | u32::from(v.off_channel) << 5;
            w.push((d(dvs::FLAGS), flags));
        }
    }
    Ok(w)
}

/// Values of the host input ports for one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostInPorts {
    pub kind: u8,
    pub layer: u8,
    /// c (spike) or f (write/read).
    pub a: u16,
    pub x: u16,
    pub y: u16,
    pub p: u8,
    /// int16 as two's complement.
    pub value: u16,
}

/// Encodes a host input item (statically valid, spec §8) as port values.
pub fn encode_host_item(item: &HostInput) -> HostInPorts {
    match *item {
        HostInput::Dvs { x, y, p } => HostInPorts { kind: in_kind::DVS, x, y, p, ..Default::default() },
        HostInput::Spike { layer, c, x, y } => HostInPorts { kind: in_kind::SPIKE, layer, a: c, x, y, ..Default::default() },
        HostInput::LeakTick => HostInPorts { kind: in_kind::LEAK, ..Default::default() },
        HostInput::WriteNeuron { layer, f, x, y, value } => {
            HostInPorts { kind: in_kind::WRITE, layer, a: f, x, y, value: value as u16, ..Default::default() }
        }
        HostInput::ReadNeuron { layer, f, x, y } => HostInPorts { kind: in_kind::READ, layer, a: f, x, y, ..Default::default() },
    }
}

/// Decodes the host output ports.
pub fn decode_host_output(kind: u8, layer: u8, f: u16, x: u16, y: u16, value: u16) -> Result<HostOutput, String> {
    match kind {
        out_kind::SPIKE => Ok(HostOutput::Spike { layer, f, x, y }),
        out_kind::MONITOR => Ok(HostOutput::Monitor { layer, f, x, y }),
        out_kind::VALUE => Ok(HostOutput::NeuronValue { layer, f, x, y, value: value as i16 }),
        k => Err(format!("unknown out_kind {k}")),
    }
}

/// Decodes an `obs<i>_item` word (a core input item) into (target core, item).
pub fn decode_core_word(w: u64) -> Result<(u8, CoreItem), String> {
    let kind = ((w >> word::KIND) & 3) as u8;
    let layer = ((w >> word::LAYER) & 0xf) as u8;
    let a = ((w >> word::A) & 0x7ff) as u16;
    let x = ((w >> word::X) & 0x7f) as u16;
    let y = ((w >> word::Y) & 0x7f) as u16;
    let value = (w & 0xffff) as u16 as i16;
    let item = match kind {
        regmap::IN_KIND_SPIKE => CoreItem::Spike { c: a, x, y },
        regmap::IN_KIND_LEAK => CoreItem::LeakTick,
        regmap::IN_KIND_WRITE => CoreItem::WriteNeuron { f: a, x, y, value },
        regmap::IN_KIND_READ => CoreItem::ReadNeuron { f: a, x, y },
        _ => unreachable!("two-bit kind"),
    };
    Ok((layer, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_table_matches_chip_presets() {
        let mut rows: Vec<&str> = Vec::new();
        macro_rules! collect {
            ($t:ident, $m:literal, $c:ident, $n:literal, $n1:literal, $s:literal, $dd:ident, [$(($i:literal, $core:ident, $ov:ident, $oi:ident, $e:ident, $d:ident)),*]) => {
                let model = &spikehdl_model::presets::$c;
                assert_eq!(model.name, $m);
                assert_eq!(model.n_cores(), $n, "{}", $m);
                assert_eq!($n1, $n + 1);
                assert_eq!($s, $n + 2);
                let idx: Vec<usize> = vec![$($i),*];
                assert_eq!(idx, (0..$n).collect::<Vec<_>>(), "{}", $m);
                rows.push($m);
            };
        }
        for_each_chip!(collect);
        let modules: Vec<&str> = CHIP_PRESETS.iter().map(|c| c.module).collect();
        assert_eq!(rows, modules);
        for c in CHIP_PRESETS {
            assert_eq!(c.module, c.name);
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(chip("chip_tiny").unwrap().module, "chip_tiny");
        assert_eq!(chip("chip_fpga").unwrap().core_presets()[1].name, "fpga_up5k");
        // One spelling: former names and core type names are not chips.
        for n in ["tiny", "fpga", "fpga-up5k", "reference", "chip-tiny"] {
            assert!(chip(n).is_none(), "{n}");
        }
    }
}
