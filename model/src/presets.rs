//! Named chip presets: the single source of truth for core counts and memory
//! capacities. The CLI, the RTL generator and the co-simulation harness all
//! read these tables; nothing else spells a capacity out.

use serde::{Deserialize, Serialize};

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
}

/// Largest core count a chip may have: layer ids 12 and 13 are reserved for
/// the host readout and the DVS monitor.
pub const MAX_CORES: usize = 12;
/// Layer id of the host readout destination (spec §1).
pub const HOST_LAYER: u8 = 12;
/// Layer id that monitor events of the DVS layer carry (spec §1).
pub const DVS_LAYER: u8 = 13;

/// The reference chip (Sinabs `chips/dynapcnn.py`, `get_constraints`, spec §2).
pub const REFERENCE: [CoreCapacity; 9] = [
    CoreCapacity::new(16 * KI, 64 * KI, KI),
    CoreCapacity::new(16 * KI, 64 * KI, KI),
    CoreCapacity::new(16 * KI, 64 * KI, KI),
    CoreCapacity::new(32 * KI, 32 * KI, KI),
    CoreCapacity::new(32 * KI, 32 * KI, KI),
    CoreCapacity::new(64 * KI, 16 * KI, KI),
    CoreCapacity::new(64 * KI, 16 * KI, KI),
    CoreCapacity::new(16 * KI, 16 * KI, KI),
    CoreCapacity::new(16 * KI, 16 * KI, KI),
];

/// A named chip: its cores' capacities.
#[derive(Debug, Clone, Copy)]
pub struct ChipPreset {
    pub name: &'static str,
    pub description: &'static str,
    pub cores: &'static [CoreCapacity],
}

/// Small chip for fast tests: 3 cores of 1 Ki kernel / 1 Ki neuron / 64 bias words.
pub const TINY: [CoreCapacity; 3] = [CoreCapacity::new(KI, KI, 64); 3];

/// Two cores sized for an iCE40 UP5K: neuron state in SPRAM (4 × 16 Ki × 16 bit
/// shared by both cores), kernels in EBR.
pub const FPGA_UP5K: [CoreCapacity; 2] = [CoreCapacity::new(2 * KI, 32 * KI, 64); 2];

/// One `FPGA_UP5K` core: what fits an iCE40 UP5K together with the chip
/// fabric and the UART host link (the iCEBreaker board top; two cores
/// need about 122 % of the device, docs/fpga.md).
pub const ICEBREAKER: [CoreCapacity; 1] = [FPGA_UP5K[0]];

/// The reference chip's nine cores with memories scaled to a Lattice ECP5-85F
/// (ULX3S board: 208 EBR of 18 Kbit = 2 Ki × 9 or 1 Ki × 18 bits each):
/// kernel memories halved (8-bit words: 2 Ki per EBR), neuron memories
/// quartered (16-bit words: 1 Ki per EBR), biases kept (1 Ki = 1 EBR).
/// Block RAM: 3 × (4 + 16 + 1) + 2 × (8 + 8 + 1) + 2 × (16 + 4 + 1) + 2 × (4 + 4 + 1)
/// = 157 EBR of 208 (75 %), leaving 51 for the host link.
pub const ULX3S: [CoreCapacity; 9] = [
    CoreCapacity::new(8 * KI, 16 * KI, KI),
    CoreCapacity::new(8 * KI, 16 * KI, KI),
    CoreCapacity::new(8 * KI, 16 * KI, KI),
    CoreCapacity::new(16 * KI, 8 * KI, KI),
    CoreCapacity::new(16 * KI, 8 * KI, KI),
    CoreCapacity::new(32 * KI, 4 * KI, KI),
    CoreCapacity::new(32 * KI, 4 * KI, KI),
    CoreCapacity::new(8 * KI, 4 * KI, KI),
    CoreCapacity::new(8 * KI, 4 * KI, KI),
];

pub const CHIP_PRESETS: &[ChipPreset] = &[
    ChipPreset {
        name: "reference",
        description: "9-core DynapCNN reference chip (Sinabs capacities)",
        cores: &REFERENCE,
    },
    ChipPreset { name: "tiny", description: "3 small cores for fast tests", cores: &TINY },
    ChipPreset {
        name: "fpga-up5k",
        description: "2 cores whose memories fit an iCE40 UP5K",
        cores: &FPGA_UP5K,
    },
    ChipPreset {
        name: "ulx3s",
        description: "9 cores like the reference chip, memories scaled to an ECP5-85F (ULX3S board)",
        cores: &ULX3S,
    },
    ChipPreset {
        name: "icebreaker",
        description: "1 core like fpga-up5k's: the chip of the iCEBreaker board top (iCE40 UP5K with the host link)",
        cores: &ICEBREAKER,
    },
];

/// Looks a chip preset up by name.
pub fn chip_preset(name: &str) -> Option<&'static ChipPreset> {
    CHIP_PRESETS.iter().find(|p| p.name == name)
}

/// The names of all chip presets, for error messages.
pub fn chip_preset_names() -> Vec<&'static str> {
    CHIP_PRESETS.iter().map(|p| p.name).collect()
}
