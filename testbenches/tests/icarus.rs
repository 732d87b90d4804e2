//! The tiny core under Icarus Verilog with the benchmark's stimulus shape:
//! outputs equal the model's (checked inside `icarus_core_bench`) and the
//! stream takes exactly as many cycles as under Verilator with the same
//! driver protocol, so the two simulators' cycles/s compare like for like.

use std::path::PathBuf;

use spikehdl_hdl::presets::preset;
use spikehdl_model::CoreItem;
use spikehdl_testbenches::core_dut::{CoreDut, Stalls};
use spikehdl_testbenches::icarus::icarus_core_bench;
use spikehdl_testbenches::strategies::{build_layer, Geometry};
use spikehdl_testbenches::Rng;

#[test]
fn icarus_matches_model_and_verilator_cycle_count() {
    let p = preset("tiny").unwrap();
    let g = Geometry { k: 3, stride: (1, 1), pad: (1, 1), w_in: 16, h_in: 16, w_out: 16, h_out: 16, c: 2, f: 4 };
    let mut rng = Rng::new(11);
    let w: Vec<i64> = (0..2 * 4 * 9).map(|_| (rng.below(60)) as i64 - 20).collect();
    let layer = build_layer(p.capacity, &g, 100, -100, &w, &[3, -2, 0, 1], &vec![0; 1024], false, true);
    let mut items: Vec<CoreItem> = (0..150)
        .map(|_| CoreItem::Spike { c: (rng.below(2)) as u16, x: (rng.below(16)) as u16, y: (rng.below(16)) as u16 })
        .collect();
    items.insert(50, CoreItem::LeakTick);
    items.push(CoreItem::WriteNeuron { f: 1, x: 2, y: 3, value: -7 });
    items.push(CoreItem::ReadNeuron { f: 1, x: 2, y: 3 });
    items.push(CoreItem::Spike { c: 5, x: 0, y: 0 }); // out of shape: err_count
    let rtl = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("icarus_tiny");
    let fig = icarus_core_bench(p, &rtl, &layer, &items, &work).unwrap_or_else(|e| panic!("{e}"));
    assert!(!fig.outputs.is_empty());

    let mut dut = CoreDut::new(p, None).unwrap();
    dut.configure(&layer).unwrap();
    let r = dut.run(&items, Stalls::default(), u64::MAX);
    assert_eq!(r.outputs, fig.outputs);
    assert_eq!(r.cycles, fig.stream_cycles, "same protocol, same cycle count");
    eprintln!(
        "icarus: {} stream / {} total cycles in {:.3} s -> {:.0} cycles/s ({})",
        fig.stream_cycles, fig.total_cycles, fig.run_seconds, fig.cycles_per_second, fig.version
    );
}
