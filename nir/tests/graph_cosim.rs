//! Every graph the NIR tests import (residual sums, average pooling before
//! a merge, two merging branches, the DVS layer into two layers, the
//! ResNet-style example) runs on the verilated 9-core reference chip against
//! the model: per-core scoreboards and router checks (every event delivered
//! once per destination, pooled, in per-source order), with random host
//! output backpressure and input stalls.

use spikehdl_cosim::chip_check::run_and_check;
use spikehdl_cosim::chip_dut::ChipRunOpts;
use spikehdl_hdl::chip_regmap::chip;
use spikehdl_model::rng::Rng;
use spikehdl_model::HostInput;

use spikehdl_nir::{import_graph, Graph, Options};

mod common;

/// DVS events over (a little more than) the input map, a leak tick now and
/// then (some layers have biases), and reads of random neurons at the end.
fn items(g: &Graph, cfg: &spikehdl_model::ValidConfig, n: usize, seed: u64) -> Vec<HostInput> {
    let shape = g.nodes.values().find(|n| n.kind == "Input").and_then(|n| n.tensor("shape")).expect("input shape");
    let (h, w) = (shape.data[1] as u64, shape.data[2] as u64);
    let mut rng = Rng::new(seed);
    let mut v = Vec::new();
    for i in 0..n {
        if i % 64 == 63 {
            v.push(HostInput::LeakTick);
        }
        v.push(HostInput::Dvs { x: rng.below(w + 2) as u16, y: rng.below(h + 2) as u16, p: rng.below(2) as u8 });
    }
    for (core, l) in cfg.layers.iter().enumerate() {
        let Some(l) = l else { continue };
        for _ in 0..4 {
            let (f, x, y) = (rng.below(u64::from(l.f)) as u16, rng.below(u64::from(l.w_out)) as u16, rng.below(u64::from(l.h_out)) as u16);
            v.push(HostInput::ReadNeuron { layer: core as u8, f, x, y });
        }
    }
    v
}

#[test]
fn imported_graphs_match_on_the_reference_chip_rtl() {
    let graphs: Vec<(&str, Graph)> = vec![
        ("residual block", common::residual(false)),
        ("residual block, average pooling before the merge", common::residual(true)),
        ("two branches merging", common::two_branches()),
        ("DVS layer into two layers", common::dvs_into_two(true)),
        ("order-free residual", common::order_free_residual(10)),
        ("ResNet-style example", spikehdl_nir::build::resnet(11)),
    ];
    let reference = chip("chip_reference").expect("reference chip");
    for (i, (what, g)) in graphs.iter().enumerate() {
        let imp = import_graph(g, &Options::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
        let cfg = spikehdl_model::validate(&imp.config).unwrap();
        let items = items(g, &cfg, if what.starts_with("ResNet") { 400 } else { 1000 }, i as u64 + 1);
        let opts = ChipRunOpts { out_stall: 30, in_stall: 20, seed: i as u64 + 7, ..ChipRunOpts::default() };
        let stats = run_and_check(reference, &cfg, &items, opts, what).unwrap_or_else(|report| panic!("{what}:\n{report}"));
        // The check must have seen the graph at work: every layer spikes.
        let mut model = spikehdl_model::ChipModel::new(&cfg);
        let mut out = Vec::new();
        for it in &items {
            model.accept(it, &mut out).unwrap();
        }
        for l in &imp.layers {
            assert!(model.core_counters(l.core).spikes_out > 0, "{what}: core {} ({}) never spiked", l.core, l.node);
        }
        assert!(out.iter().any(|o| o.kind() == "spike"), "{what}: no readout spike");
        eprintln!("{what}: {} items, {} host outputs, {} cycles: MATCH", stats.inputs, stats.outputs, stats.cycles);
    }
}
