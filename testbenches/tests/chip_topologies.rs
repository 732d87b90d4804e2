//! Whole-chip proptest on the tiny chip (3 cores): random topologies (chains,
//! fan-out 2, fan-in merges, concatenation via feature_shift, DVS into one
//! or two cores, host readout, pooling 1/2/4 with sizes not divisible by it,
//! monitors on and off), random host item streams ending with a read of
//! every neuron, random host output backpressure. Checks: per-core
//! scoreboards, router checks (delivery once, in per-source order, drops)
//! and, for single-source topologies, the host outputs against the chip model.
//!
//! Default 256 cases (a few seconds) (`PROPTEST_CASES=N` scales it).

use proptest::prelude::*;
use spikehdl_hdl::chip_regmap::chip;
use spikehdl_model::presets::CHIP_TINY;
use spikehdl_testbenches::chip_check::run_and_check;
use spikehdl_testbenches::chip_strategies::chip_case;
use spikehdl_testbenches::strategies::config;

proptest! {
    #![proptest_config(config(256, 2000))]

    #[test]
    fn tiny_chip_matches_model(case in chip_case(CHIP_TINY.capacities(), 120)) {
        let r = run_and_check(chip("chip_tiny").expect("tiny chip"), &case.cfg, &case.items, case.opts, &case.topology);
        if std::env::var_os("CHIP_STATS").is_some() {
            if let Ok(s) = &r {
                eprintln!("{} items, core items {:?}, {} outputs, {} cycles, e2e {} | {}", case.items.len(), s.core_items, s.outputs, s.cycles, s.end_to_end, &case.topology[..case.topology.len().min(60)]);
            }
        }
        prop_assert!(r.is_ok(), "\n{}", r.err().unwrap_or_default());
    }
}
