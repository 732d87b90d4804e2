//! Whole-chip figures: a fast latency check, and the full benchmark (ignored;
//! `cargo test --release -p spikehdl-testbenches --test chip_bench -- --ignored --nocapture`).

use spikehdl_testbenches::chip_bench::{chain9_latency, chip_bench};

#[test]
fn nine_core_chain_latency_is_bounded() {
    let c = chain9_latency().expect("chain of 9 cores");
    // 9 core hops of (FIFO + core pipeline + router stage) plus the host FIFO.
    assert!(c > 9 && c < 200, "latency {c} cycles");
}

#[test]
#[ignore = "benchmark: prints figures"]
fn print_chip_bench_figures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let f = chip_bench(&root.join("examples"), 2000, 4000).expect("bench");
    println!("{f}");
}
