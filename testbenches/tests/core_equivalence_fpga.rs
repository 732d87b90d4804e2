//! Equivalence of the `fpga_up5k` core — single-port neuron memory (iCE40
//! SPRAM form, see hdl/src/neuron_ram.rs) — with the golden model, over the
//! same random configurations, item sequences and stalls as
//! core_equivalence.rs; and its documented throughput: one update every two
//! clocks.
//!
//! Default: 200 cases (a few seconds). `PROPTEST_CASES=N` scales it.

use proptest::prelude::*;
use spikehdl_hdl::presets::preset;
use spikehdl_model::{CoreItem, CoreModel};
use spikehdl_testbenches::core_dut::{CoreDut, Stalls};
use spikehdl_testbenches::scoreboard::check_core_case;
use spikehdl_testbenches::strategies::{build_layer, config, core_case, Geometry};

proptest! {
    #![proptest_config(config(200, 4000))]

    #[test]
    fn fpga_up5k_single_port_core_matches_model(case in core_case(preset("fpga_up5k").expect("fpga_up5k preset").capacity, 12, 48)) {
        let r = check_core_case(preset("fpga_up5k").expect("fpga_up5k preset"), &case);
        prop_assert!(r.is_ok(), "\n{}", r.err().unwrap_or_default());
    }
}

#[test]
fn single_port_core_does_one_update_every_two_clocks() {
    let p = preset("fpga_up5k").unwrap();
    assert!(p.neuron_single_port);
    let g = Geometry { k: 3, stride: (1, 1), pad: (1, 1), w_in: 16, h_in: 16, w_out: 16, h_out: 16, c: 2, f: 8 };
    let w: Vec<i64> = (0..2 * 8 * 9).map(|i| (i % 7) as i64 - 3).collect();
    let layer = build_layer(p.capacity, &g, 50, -50, &w, &[0; 8], &vec![0; 2048], false, false);
    let items: Vec<CoreItem> = (0..400).map(|i| CoreItem::Spike { c: (i % 2) as u16, x: (i * 7 % 16) as u16, y: (i * 5 % 16) as u16 }).collect();
    let mut model = CoreModel::new(&layer);
    let want: Vec<_> = items.iter().flat_map(|i| model.accept_vec(*i)).collect();
    let mut dut = CoreDut::with_power_up(p, None, spikehdl_sim::PowerUp::Random(7)).unwrap();
    dut.configure(&layer).unwrap();
    let r = dut.run(&items, Stalls::default(), u64::MAX);
    assert_eq!(r.outputs, want);
    let per_cycle = model.counters().synaptic_updates as f64 / r.cycles as f64;
    assert!((0.45..=0.5).contains(&per_cycle), "{per_cycle} updates/cycle");
}
