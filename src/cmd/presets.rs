//! `spikehdl presets`: the named chips and their core capacities.

use anyhow::Result;
use spikehdl_model::presets::CHIP_PRESETS;

pub fn run() -> Result<u8> {
    for p in CHIP_PRESETS {
        println!("{:<10} {} ({} cores)", p.name, p.description, p.cores.len());
        for (i, c) in p.cores.iter().enumerate() {
            println!("    core {i}: kernel {:>6}  neuron {:>6}  bias {:>5} words", c.kernel_words, c.neuron_words, c.bias_words);
        }
    }
    Ok(crate::EXIT_OK)
}
