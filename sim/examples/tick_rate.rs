//! Cycles per second of one verilated model, clocked with its inputs held
//! (the common case of a co-simulation loop: eval, read, tick), once per
//! [`Settle`] mode. The cost of a Verilator cycle does not depend on what the
//! design is doing, so an idle chip measures the per-cycle cost of a busy one.
//!
//! `cargo run --release -p spikehdl-sim --example tick_rate -- chip_reference 200000`

use spikehdl_sim::{Model, Settle};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "chip_reference".into());
    let cycles: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200_000);
    for settle in [Settle::Always, Settle::OnInputChange] {
        let mut m = Model::new(&name, None)?;
        m.set_settle(settle);
        if let Ok(reset) = m.input("reset") {
            m.set(reset, 1);
            m.tick(4);
            m.set(reset, 0);
        }
        let t = Instant::now();
        for _ in 0..cycles {
            m.eval();
            m.tick(1);
        }
        let s = t.elapsed().as_secs_f64();
        println!("{name} {settle:?}: {cycles} cycles in {s:.2} s = {:.3} M cycles/s (patched: {})", cycles as f64 / s / 1e6, m.info().incremental);
    }
    Ok(())
}
