//! Evidence that the whole-chip checks bite: `scripts/chip_mutants.sh`
//! builds deliberately broken copies of rtl/chip_tiny.v (router bugs) and
//! runs this ignored test against each; it reports after how many generated
//! cases the first mismatch appears. On the real RTL it must find none.
//!
//! `cargo test --release -p spikehdl-testbenches --test chip_mutants -- --ignored --nocapture`

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use spikehdl_hdl::chip_regmap::chip;
use spikehdl_model::presets::CHIP_TINY;
use spikehdl_testbenches::chip_check::run_and_check;
use spikehdl_testbenches::chip_strategies::chip_case;
use spikehdl_testbenches::strategies::cases;

#[test]
#[ignore = "run by scripts/chip_mutants.sh"]
fn chip_cases_until_first_mismatch() {
    let strategy = chip_case(CHIP_TINY.capacities(), 120);
    let n = cases(500);
    // Deterministic, so that the counts in the docs are reproducible.
    let mut runner = TestRunner::new_with_rng(Config { cases: n, ..Config::default() }, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let t0 = std::time::Instant::now();
    for i in 1..=n {
        let case = strategy.new_tree(&mut runner).expect("generate").current();
        if let Err(t) = run_and_check(chip("chip_tiny").expect("tiny"), &case.cfg, &case.items, case.opts, &case.topology) {
            let first = t.lines().next().unwrap_or("");
            println!("MUTANT-RESULT caught after {i} cases ({:.1} s): {first}", t0.elapsed().as_secs_f64());
            return;
        }
    }
    println!("MUTANT-RESULT not caught in {n} cases ({:.1} s)", t0.elapsed().as_secs_f64());
}
