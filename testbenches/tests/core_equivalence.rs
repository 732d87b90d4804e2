//! Equivalence: one layer core under Verilator vs the golden model, over
//! random legal configurations of the `tiny` preset, random item sequences
//! (spikes in and out of shape, leak ticks, neuron writes and reads) and
//! random stalls on both streams. Output sequence, error counter and final
//! neuron states must match exactly.
//!
//! Default: 1000 cases (about 1-2 s in release). `PROPTEST_CASES=N` scales it.

use proptest::prelude::*;
use spikehdl_hdl::presets::preset;
use spikehdl_testbenches::scoreboard::check_core_case;
use spikehdl_testbenches::strategies::{config, core_case};

proptest! {
    #![proptest_config(config(1000, 4000))]

    #[test]
    fn tiny_core_matches_model(case in core_case(preset("tiny").expect("tiny preset").capacity, 12, 48)) {
        let r = check_core_case(preset("tiny").expect("tiny preset"), &case);
        prop_assert!(r.is_ok(), "\n{}", r.err().unwrap_or_default());
    }
}
