//! Named core types and chip presets: the single source of truth for core
//! counts, memory capacities and neuron memory forms. The CLI, the RTL
//! generator (`hdl/src/presets.rs`, `hdl/src/chip_regmap.rs`, which add only
//! Verilog names and address widths derived from these capacities) and the
//! co-simulation harness all read these tables; nothing else spells a
//! capacity out.
//!
//! **Naming [decision]:** a chip preset is named after its Verilog module,
//! `chip_<x>` (`rtl/chip_<x>.v`); a core type is named after the suffix of its
//! module `layer_core_<x>`. Both are lower-case with underscores, and no core
//! type starts with `chip_`, so a chip and a core type never share a name
//! (checked by a test). Config files, `--preset`, `--chip` and the `presets`
//! subcommand all use these names; the names used before this scheme are
//! rejected with the replacement ([`former_chip_preset`]).

use serde::{Deserialize, Serialize};

use crate::memory::ceil_log2;

/// Memory capacity of one core, in words (kernel: 8-bit, neuron: 16-bit, bias: 16-bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreCapacity {
    pub kernel_words: u64,
    pub neuron_words: u64,
    pub bias_words: u64,
}

const KI: u64 = 1024;

impl CoreCapacity {
    pub const fn new(kernel_words: u64, neuron_words: u64, bias_words: u64) -> Self {
        Self { kernel_words, neuron_words, bias_words }
    }
    /// Kernel memory address bits: ceil(log2(kernel words)). `const` so that
    /// the HDL's const generics (memory address widths) derive from here.
    pub const fn kernel_addr_bits(&self) -> usize {
        ceil_log2(self.kernel_words) as usize
    }
    /// Neuron memory address bits: ceil(log2(neuron words)).
    pub const fn neuron_addr_bits(&self) -> usize {
        ceil_log2(self.neuron_words) as usize
    }
    /// Bias memory address bits: ceil(log2(bias words)).
    pub const fn bias_addr_bits(&self) -> usize {
        ceil_log2(self.bias_words) as usize
    }
}

/// Largest core count a chip may have: layer ids 12 and 13 are reserved for
/// the host readout and the DVS monitor.
pub const MAX_CORES: usize = 12;
/// Layer id of the host readout destination (spec §1).
pub const HOST_LAYER: u8 = 12;
/// Layer id that monitor events of the DVS layer carry (spec §1).
pub const DVS_LAYER: u8 = 13;

/// One kind of core: its memories and their form. Every core type is
/// exported as `rtl/layer_core_<name>.v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreType {
    /// Lower case with underscores, never starting with `chip_`.
    pub name: &'static str,
    /// What the core type is for.
    pub description: &'static str,
    pub capacity: CoreCapacity,
    /// Neuron memory is single-port (iCE40 UP5K SPRAM): one update every two
    /// clocks instead of one per clock.
    pub neuron_single_port: bool,
}

const fn core(name: &'static str, description: &'static str, capacity: CoreCapacity) -> CoreType {
    CoreType { name, description, capacity, neuron_single_port: false }
}

/// Small memories for fast tests: 1 Ki kernel / 1 Ki neuron / 64 bias words.
pub const CORE_TINY: CoreType = core("tiny", "small memories for fast tests", CoreCapacity::new(KI, KI, 64));

// The reference chip's cores (Sinabs `chips/dynapcnn.py`, `get_constraints`, spec §2).
pub const CORE_REF_A: CoreType =
    core("ref_a", "a core type of the reference chip (Sinabs constraints)", CoreCapacity::new(16 * KI, 64 * KI, KI));
pub const CORE_REF_B: CoreType =
    core("ref_b", "a core type of the reference chip (Sinabs constraints)", CoreCapacity::new(32 * KI, 32 * KI, KI));
pub const CORE_REF_C: CoreType =
    core("ref_c", "a core type of the reference chip (Sinabs constraints)", CoreCapacity::new(64 * KI, 16 * KI, KI));
pub const CORE_REF_D: CoreType =
    core("ref_d", "a core type of the reference chip (Sinabs constraints)", CoreCapacity::new(16 * KI, 16 * KI, KI));

/// A core sized for an iCE40 UP5K: neuron state in SPRAM (4 × 16 Ki × 16 bit
/// shared by two cores), kernels in EBR.
pub const CORE_FPGA_UP5K: CoreType = CoreType {
    name: "fpga_up5k",
    description: "iCE40 UP5K core: neuron state in 2 SPRAMs (single port, 0.5 updates/clock), kernels and biases in 5 EBRs",
    capacity: CoreCapacity::new(2 * KI, 32 * KI, 64),
    neuron_single_port: true,
};

// The reference chip's cores with memories scaled to a Lattice ECP5-85F
// (ULX3S board: 208 EBR of 18 Kbit = 2 Ki × 9 or 1 Ki × 18 bits each):
// kernel memories halved (8-bit words: 2 Ki per EBR), neuron memories
// quartered (16-bit words: 1 Ki per EBR), biases kept (1 Ki = 1 EBR).
// Block RAM of chip_ulx3s: 3 × (4 + 16 + 1) + 2 × (8 + 8 + 1) + 2 × (16 + 4 + 1)
// + 2 × (4 + 4 + 1) = 157 EBR of 208 (75 %), leaving 51 for the host link.
pub const CORE_ULX_A: CoreType =
    core("ulx_a", "a core type of the ULX3S chip (reference cores, memories scaled to an ECP5-85F)", CoreCapacity::new(8 * KI, 16 * KI, KI));
pub const CORE_ULX_B: CoreType =
    core("ulx_b", "a core type of the ULX3S chip (reference cores, memories scaled to an ECP5-85F)", CoreCapacity::new(16 * KI, 8 * KI, KI));
pub const CORE_ULX_C: CoreType =
    core("ulx_c", "a core type of the ULX3S chip (reference cores, memories scaled to an ECP5-85F)", CoreCapacity::new(32 * KI, 4 * KI, KI));
pub const CORE_ULX_D: CoreType =
    core("ulx_d", "a core type of the ULX3S chip (reference cores, memories scaled to an ECP5-85F)", CoreCapacity::new(8 * KI, 4 * KI, KI));

/// Every core type, in export order.
pub const CORE_TYPES: &[CoreType] = &[
    CORE_TINY,
    CORE_REF_A,
    CORE_REF_B,
    CORE_REF_C,
    CORE_REF_D,
    CORE_FPGA_UP5K,
    CORE_ULX_A,
    CORE_ULX_B,
    CORE_ULX_C,
    CORE_ULX_D,
];

/// Looks a core type up by its exact name.
pub fn core_type(name: &str) -> Option<&'static CoreType> {
    CORE_TYPES.iter().find(|t| t.name == name)
}

/// A named chip: its core types, core 0 first.
#[derive(Debug, Clone, Copy)]
pub struct ChipPreset {
    /// `chip_<x>`, the chip's Verilog module name.
    pub name: &'static str,
    pub description: &'static str,
    pub cores: &'static [CoreType],
}

impl ChipPreset {
    pub const fn n_cores(&self) -> usize {
        self.cores.len()
    }
    /// Capacities of the cores, core 0 first.
    pub fn capacities(&self) -> Vec<CoreCapacity> {
        self.cores.iter().map(|t| t.capacity).collect()
    }
}

/// Small chip for fast tests.
pub const CHIP_TINY: ChipPreset =
    ChipPreset { name: "chip_tiny", description: "3 tiny cores for fast tests", cores: &[CORE_TINY; 3] };

/// Two cores whose memories fit an iCE40 UP5K.
pub const CHIP_FPGA: ChipPreset = ChipPreset {
    name: "chip_fpga",
    description: "2 fpga_up5k cores whose memories fit an iCE40 UP5K",
    cores: &[CORE_FPGA_UP5K; 2],
};

/// The reference chip (Sinabs capacities); the chip of a configuration that names none.
pub const CHIP_REFERENCE: ChipPreset = ChipPreset {
    name: "chip_reference",
    description: "9-core DynapCNN reference chip (Sinabs capacities)",
    cores: &[CORE_REF_A, CORE_REF_A, CORE_REF_A, CORE_REF_B, CORE_REF_B, CORE_REF_C, CORE_REF_C, CORE_REF_D, CORE_REF_D],
};

/// The reference chip's nine cores scaled to an ECP5-85F (see `CORE_ULX_A`).
pub const CHIP_ULX3S: ChipPreset = ChipPreset {
    name: "chip_ulx3s",
    description: "9 cores like the reference chip, memories scaled to an ECP5-85F (ULX3S board)",
    cores: &[CORE_ULX_A, CORE_ULX_A, CORE_ULX_A, CORE_ULX_B, CORE_ULX_B, CORE_ULX_C, CORE_ULX_C, CORE_ULX_D, CORE_ULX_D],
};

/// One `fpga_up5k` core: what fits an iCE40 UP5K together with the chip
/// fabric and the UART host link (the iCEBreaker board top; two cores
/// need about 122 % of the device, docs/fpga.md).
pub const CHIP_ICEBREAKER: ChipPreset = ChipPreset {
    name: "chip_icebreaker",
    description: "1 fpga_up5k core: the chip of the iCEBreaker board top (iCE40 UP5K with the host link)",
    cores: &[CORE_FPGA_UP5K],
};

/// Every chip preset. The order is the export order and the order in which
/// `spikehdl_hdl::chip_regmap::chip_for_config` tries chips for a
/// configuration that names none of them (small test chips first).
pub const CHIP_PRESETS: &[ChipPreset] = &[CHIP_TINY, CHIP_FPGA, CHIP_REFERENCE, CHIP_ULX3S, CHIP_ICEBREAKER];

const fn capacities<const N: usize>(chip: &ChipPreset) -> [CoreCapacity; N] {
    assert!(chip.cores.len() == N);
    let mut out = [CoreCapacity::new(0, 0, 0); N];
    let mut i = 0;
    while i < N {
        out[i] = chip.cores[i].capacity;
        i += 1;
    }
    out
}

/// Capacities of [`CHIP_REFERENCE`] (derived), for code that builds a
/// reference-chip configuration by hand.
pub const REFERENCE: [CoreCapacity; 9] = capacities(&CHIP_REFERENCE);

/// Looks a chip preset up by its exact name.
pub fn chip_preset(name: &str) -> Option<&'static ChipPreset> {
    CHIP_PRESETS.iter().find(|p| p.name == name)
}

/// The names of all chip presets, for error messages.
pub fn chip_preset_names() -> Vec<&'static str> {
    CHIP_PRESETS.iter().map(|p| p.name).collect()
}

/// The current name of a chip preset that `name` used to denote (the names
/// before the `chip_<x>` scheme, and `chip-<x>` spelled with a dash), so an
/// old configuration gets an error naming the replacement.
pub fn former_chip_preset(name: &str) -> Option<&'static str> {
    let current = match name {
        "reference" => CHIP_REFERENCE.name,
        "tiny" => CHIP_TINY.name,
        "fpga-up5k" | "fpga" => CHIP_FPGA.name,
        "ulx3s" => CHIP_ULX3S.name,
        "icebreaker" => CHIP_ICEBREAKER.name,
        _ => return chip_preset(&name.replace('-', "_")).map(|p| p.name),
    };
    Some(current)
}

/// The error text for an unknown chip preset `name`: the replacement when it
/// is a former name, else every known name.
pub fn unknown_chip_preset(name: &str) -> String {
    match former_chip_preset(name) {
        Some(new) => format!("unknown chip preset {name:?}: chip presets are now named after their Verilog module; use {new:?}"),
        None => format!("unknown chip preset {name:?}; known chip presets: {}", chip_preset_names().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chip_and_core_type_names_never_collide() {
        for c in CHIP_PRESETS {
            assert!(c.name.starts_with("chip_"), "{}", c.name);
            assert!(core_type(c.name).is_none(), "chip preset {} is also a core type", c.name);
        }
        for t in CORE_TYPES {
            assert!(!t.name.starts_with("chip"), "{}", t.name);
            assert!(t.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{}", t.name);
            assert!(chip_preset(t.name).is_none(), "core type {} is also a chip preset", t.name);
        }
        let mut names: Vec<_> = CHIP_PRESETS.iter().map(|c| c.name).chain(CORE_TYPES.iter().map(|t| t.name)).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate preset names");
    }

    #[test]
    fn every_chip_core_is_a_listed_core_type() {
        for c in CHIP_PRESETS {
            assert!((1..=MAX_CORES).contains(&c.n_cores()), "{}", c.name);
            for t in c.cores {
                assert_eq!(core_type(t.name), Some(t), "{}", c.name);
            }
        }
        assert_eq!(REFERENCE.to_vec(), CHIP_REFERENCE.capacities());
    }

    #[test]
    fn address_bits_are_exact_log2_of_power_of_two_capacities() {
        for t in CORE_TYPES {
            let c = t.capacity;
            assert_eq!(1u64 << c.kernel_addr_bits(), c.kernel_words, "{}", t.name);
            assert_eq!(1u64 << c.neuron_addr_bits(), c.neuron_words, "{}", t.name);
            assert_eq!(1u64 << c.bias_addr_bits(), c.bias_words, "{}", t.name);
        }
        assert_eq!(CoreCapacity::new(1025, 1, 2).kernel_addr_bits(), 11);
    }

    #[test]
    fn former_names_point_to_current_ones() {
        for (old, new) in [
            ("reference", "chip_reference"),
            ("tiny", "chip_tiny"),
            ("fpga-up5k", "chip_fpga"),
            ("ulx3s", "chip_ulx3s"),
            ("icebreaker", "chip_icebreaker"),
            ("chip-tiny", "chip_tiny"),
        ] {
            assert_eq!(former_chip_preset(old), Some(new));
            assert!(chip_preset(new).is_some());
            assert!(chip_preset(old).is_none(), "{old} is still accepted");
            assert!(unknown_chip_preset(old).contains(&format!("use \"{new}\"")), "{}", unknown_chip_preset(old));
        }
        assert_eq!(former_chip_preset("huge"), None);
        assert!(unknown_chip_preset("huge").contains("chip_tiny, chip_fpga, chip_reference, chip_ulx3s, chip_icebreaker"));
    }
}
