//! Evidence that the equivalence proptest bites: `scripts/mutants.sh` builds
//! deliberately broken copies of the exported core and runs this (ignored)
//! test against each, which reports after how many generated cases the first
//! mismatch appears. On the real RTL it must find none.
//!
//! `cargo test --release -p spikehdl-testbenches --test mutants -- --ignored --nocapture`

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use spikehdl_hdl::presets::preset;
use spikehdl_testbenches::scoreboard::check_core_case;
use spikehdl_testbenches::strategies::{cases, core_case};

#[test]
#[ignore = "run by scripts/mutants.sh"]
fn cases_until_first_mismatch() {
    let p = preset("tiny").expect("tiny");
    let strategy = core_case(p.capacity, 12, 48);
    let n = cases(2000);
    // Deterministic, so that the counts in the docs are reproducible.
    let mut runner = TestRunner::new_with_rng(Config { cases: n, ..Config::default() }, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    for i in 1..=n {
        let case = strategy.new_tree(&mut runner).expect("generate").current();
        if let Err(t) = check_core_case(p, &case) {
            let first = t.lines().next().unwrap_or("");
            println!("MUTANT-RESULT caught after {i} cases: {first}");
            return;
        }
    }
    println!("MUTANT-RESULT not caught in {n} cases");
}
