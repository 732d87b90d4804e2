//! HDL core presets: which memory sizes the exported cores have.
//!
//! Capacities come from [`spikehdl_model::presets`] (the one source of truth
//! for capacities); an HDL preset adds only the address widths, which are the
//! const generics of [`LayerCore`](crate::layer_core::LayerCore). The table
//! [`PRESETS`] and the macro [`for_each_preset!`](crate::for_each_preset) list
//! the exported presets once; a unit test checks that both agree and that
//! every address width is exactly log2 of the model's capacity.

use spikehdl_model::presets::{CoreCapacity, FPGA_UP5K, REFERENCE, TINY, ULX3S};

/// One exported core type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorePreset {
    /// Short name, used in file and module names (`layer_core_<name>`).
    pub name: &'static str,
    /// What the preset is for.
    pub description: &'static str,
    /// Capacities, taken from the model's presets.
    pub capacity: CoreCapacity,
    /// Kernel memory address bits (2^ka = kernel words).
    pub kernel_addr_bits: usize,
    /// Neuron memory address bits.
    pub neuron_addr_bits: usize,
    /// Bias memory address bits.
    pub bias_addr_bits: usize,
    /// Neuron memory is single-port (iCE40 UP5K SPRAM): one update every two
    /// clocks instead of one per clock (see [`crate::neuron_ram`]).
    pub neuron_single_port: bool,
}

impl CorePreset {
    /// The Verilog module name of this preset's core.
    pub fn module_name(&self) -> String {
        format!("layer_core_{}", self.name.replace('-', "_"))
    }
    /// The file name under `rtl/`.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module_name())
    }
}

/// Invokes `$m!(NAME_IDENT, "name", KA, NA, BA)` once per
/// exported preset. This is the one list of presets; [`PRESETS`] is built
/// from the same literal rows (checked by a test).
#[macro_export]
macro_rules! for_each_preset {
    ($m:ident) => {
        $m!(TINY, "tiny", 10, 10, 6);
        $m!(REF_A, "ref_a", 14, 16, 10);
        $m!(REF_B, "ref_b", 15, 15, 10);
        $m!(REF_C, "ref_c", 16, 14, 10);
        $m!(REF_D, "ref_d", 14, 14, 10);
        $m!(FPGA_UP5K, "fpga_up5k", 11, 15, 6);
        $m!(ULX_A, "ulx_a", 13, 14, 10);
        $m!(ULX_B, "ulx_b", 14, 13, 10);
        $m!(ULX_C, "ulx_c", 15, 12, 10);
        $m!(ULX_D, "ulx_d", 13, 12, 10);
    };
}

/// Every exported preset.
pub const PRESETS: &[CorePreset] = &[
    CorePreset {
        name: "tiny",
        description: "small memories for fast tests (model preset `tiny`)",
        capacity: TINY[0],
        kernel_addr_bits: 10,
        neuron_addr_bits: 10,
        bias_addr_bits: 6,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ref_a",
        description: "reference chip cores 0-2: 16Ki kernel / 64Ki neuron / 1Ki bias",
        capacity: REFERENCE[0],
        kernel_addr_bits: 14,
        neuron_addr_bits: 16,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ref_b",
        description: "reference chip cores 3-4: 32Ki kernel / 32Ki neuron / 1Ki bias",
        capacity: REFERENCE[3],
        kernel_addr_bits: 15,
        neuron_addr_bits: 15,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ref_c",
        description: "reference chip cores 5-6: 64Ki kernel / 16Ki neuron / 1Ki bias",
        capacity: REFERENCE[5],
        kernel_addr_bits: 16,
        neuron_addr_bits: 14,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ref_d",
        description: "reference chip cores 7-8: 16Ki kernel / 16Ki neuron / 1Ki bias",
        capacity: REFERENCE[7],
        kernel_addr_bits: 14,
        neuron_addr_bits: 14,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "fpga_up5k",
        description: "iCE40 UP5K core (model preset `fpga-up5k`): neuron state in 2 SPRAMs (single port, 0.5 updates/clock), kernels and biases in 5 EBRs",
        capacity: FPGA_UP5K[0],
        kernel_addr_bits: 11,
        neuron_addr_bits: 15,
        bias_addr_bits: 6,
        neuron_single_port: true,
    },
    CorePreset {
        name: "ulx_a",
        description: "ECP5-85F (ULX3S) chip cores 0-2 (model preset `ulx3s`): 8Ki kernel / 16Ki neuron / 1Ki bias",
        capacity: ULX3S[0],
        kernel_addr_bits: 13,
        neuron_addr_bits: 14,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ulx_b",
        description: "ECP5-85F (ULX3S) chip cores 3-4 (model preset `ulx3s`): 16Ki kernel / 8Ki neuron / 1Ki bias",
        capacity: ULX3S[3],
        kernel_addr_bits: 14,
        neuron_addr_bits: 13,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ulx_c",
        description: "ECP5-85F (ULX3S) chip cores 5-6 (model preset `ulx3s`): 32Ki kernel / 4Ki neuron / 1Ki bias",
        capacity: ULX3S[5],
        kernel_addr_bits: 15,
        neuron_addr_bits: 12,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
    CorePreset {
        name: "ulx_d",
        description: "ECP5-85F (ULX3S) chip cores 7-8 (model preset `ulx3s`): 8Ki kernel / 4Ki neuron / 1Ki bias",
        capacity: ULX3S[7],
        kernel_addr_bits: 13,
        neuron_addr_bits: 12,
        bias_addr_bits: 10,
        neuron_single_port: false,
    },
];

/// Looks a preset up by name (`-` and `_` are interchangeable).
pub fn preset(name: &str) -> Option<&'static CorePreset> {
    let n = name.replace('-', "_");
    PRESETS.iter().find(|p| p.name == n)
}

/// The preset whose capacity equals `cap`, if any (first match).
pub fn preset_for_capacity(cap: &CoreCapacity) -> Option<&'static CorePreset> {
    PRESETS.iter().find(|p| p.capacity == *cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_capacities() {
        for p in PRESETS {
            assert_eq!(1u64 << p.kernel_addr_bits, p.capacity.kernel_words, "{}", p.name);
            assert_eq!(1u64 << p.neuron_addr_bits, p.capacity.neuron_words, "{}", p.name);
            assert_eq!(1u64 << p.bias_addr_bits, p.capacity.bias_words, "{}", p.name);
        }
    }

    #[test]
    fn macro_table_matches_preset_table() {
        let mut rows = Vec::new();
        macro_rules! collect {
            ($id:ident, $name:literal, $ka:literal, $na:literal, $ba:literal) => {
                rows.push(($name, $ka, $na, $ba));
            };
        }
        for_each_preset!(collect);
        let table: Vec<_> = PRESETS
            .iter()
            .map(|p| (p.name, p.kernel_addr_bits, p.neuron_addr_bits, p.bias_addr_bits))
            .collect();
        assert_eq!(rows, table);
    }

    #[test]
    fn every_model_core_type_has_a_preset() {
        for cap in REFERENCE.iter().chain(TINY.iter()).chain(FPGA_UP5K.iter()).chain(ULX3S.iter()) {
            assert!(preset_for_capacity(cap).is_some(), "{cap:?}");
        }
    }
}
