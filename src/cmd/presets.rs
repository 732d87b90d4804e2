//! `spikehdl presets`: the named chips with their core types and capacities,
//! then every core type (chip preset names are `chip_<x>`, core types never
//! start with `chip`; see `spikehdl_model::presets`).

use anyhow::Result;
use spikehdl_model::presets::{CHIP_PRESETS, CORE_TYPES};

pub fn run() -> Result<u8> {
    println!("chip presets (config \"chip\": {{\"preset\": NAME}}, import --chip, cosim --preset):");
    for p in CHIP_PRESETS {
        println!("{:<16} {} ({} cores)", p.name, p.description, p.n_cores());
        for (i, t) in p.cores.iter().enumerate() {
            let c = t.capacity;
            println!(
                "    core {i}: {:<10} kernel {:>6}  neuron {:>6}  bias {:>5} words",
                t.name, c.kernel_words, c.neuron_words, c.bias_words
            );
        }
    }
    println!("core types (rtl/layer_core_<name>.v; cosim --per-core --preset, synth --preset):");
    for t in CORE_TYPES {
        let c = t.capacity;
        println!("{:<16} kernel {:>6}  neuron {:>6}  bias {:>5} words  {}", t.name, c.kernel_words, c.neuron_words, c.bias_words, t.description);
    }
    Ok(crate::EXIT_OK)
}
