//! HDL core presets: the exported core types.
//!
//! Everything about a core type (name, capacity, neuron memory form) comes
//! from [`spikehdl_model::presets`], the one source of truth; this module
//! adds only hardware names (`layer_core_<name>`, its file). The address
//! widths, the const generics of [`LayerCore`](crate::layer_core::LayerCore),
//! are `ceil(log2(words))` of the model's capacities, computed by const fns
//! ([`spikehdl_model::presets::CoreCapacity::kernel_addr_bits`] …) inside the
//! macro [`for_each_preset!`](crate::for_each_preset), which lists the model's
//! core-type constants once (a test checks it covers [`PRESETS`] in order).

use std::ops::Deref;

use spikehdl_model::presets::{CoreCapacity, CoreType, CORE_TYPES};

/// One exported core type: the model's [`CoreType`] (through `Deref`: `name`,
/// `description`, `capacity`, `neuron_single_port`) with its Verilog names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorePreset {
    pub core: &'static CoreType,
}

impl Deref for CorePreset {
    type Target = CoreType;
    fn deref(&self) -> &CoreType {
        self.core
    }
}

impl CorePreset {
    /// The Verilog module name of this preset's core.
    pub fn module_name(&self) -> String {
        format!("layer_core_{}", self.name)
    }
    /// The file name under `rtl/`.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module_name())
    }
}

/// Invokes `$m!(CORE_TYPE)` once per exported core type, with the name of the
/// model's constant (`spikehdl_model::presets::CORE_TINY` …); users derive the
/// const generics from it. This is the one list of instantiated cores;
/// [`PRESETS`] is the model's list, and a test checks both agree.
#[macro_export]
macro_rules! for_each_preset {
    ($m:ident) => {
        $m!(CORE_TINY);
        $m!(CORE_REF_A);
        $m!(CORE_REF_B);
        $m!(CORE_REF_C);
        $m!(CORE_REF_D);
        $m!(CORE_FPGA_UP5K);
        $m!(CORE_ULX_A);
        $m!(CORE_ULX_B);
        $m!(CORE_ULX_C);
        $m!(CORE_ULX_D);
    };
}

const fn presets<const N: usize>() -> [CorePreset; N] {
    let mut out = [CorePreset { core: &CORE_TYPES[0] }; N];
    let mut i = 0;
    while i < N {
        out[i] = CorePreset { core: &CORE_TYPES[i] };
        i += 1;
    }
    out
}

/// Every exported core type: all of the model's, in its order.
pub const PRESETS: &[CorePreset] = &presets::<{ CORE_TYPES.len() }>();

/// Looks a preset up by its exact core type name.
pub fn preset(name: &str) -> Option<&'static CorePreset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of all core types, for error messages.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset whose capacity equals `cap`, if any (first match).
pub fn preset_for_capacity(cap: &CoreCapacity) -> Option<&'static CorePreset> {
    PRESETS.iter().find(|p| p.capacity == *cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_table_matches_preset_table() {
        let mut rows: Vec<&str> = Vec::new();
        macro_rules! collect {
            ($t:ident) => {
                rows.push(spikehdl_model::presets::$t.name);
            };
        }
        for_each_preset!(collect);
        assert_eq!(rows, preset_names());
    }

    #[test]
    fn every_chip_core_has_a_preset() {
        for c in spikehdl_model::presets::CHIP_PRESETS {
            for t in c.cores {
                assert_eq!(preset(t.name).map(|p| p.core), Some(t), "{}", c.name);
            }
        }
    }

    #[test]
    fn module_names() {
        assert_eq!(preset("fpga_up5k").unwrap().module_name(), "layer_core_fpga_up5k");
        assert!(preset("fpga-up5k").is_none(), "one spelling only");
    }
}
