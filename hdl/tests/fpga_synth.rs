//! The FPGA flow on real tools: memories map to iCE40 block RAM (not to
//! thousands of flip-flops), and place and route reports an Fmax.
//!
//! Default suite: Yosys only (`synth_ice40`, about 5 s per run). Place and
//! route of a core takes 10-60 s per target; those tests are `#[ignore]`d:
//! `cargo test --release -p spikehdl-hdl --test fpga_synth -- --ignored`.

use std::path::PathBuf;

use spikehdl_hdl::fpga::{run, FlowOptions, SynthReport, Target};
use spikehdl_hdl::presets::preset;

fn flow(target: Target, name: &str, pnr: bool) -> SynthReport {
    let p = preset(name).unwrap();
    let opts = FlowOptions {
        target,
        rtl_file: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl").join(p.file_name()),
        top: p.module_name(),
        work_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("synth-{name}-{target}")),
        place_and_route: pnr,
        freq_mhz: target.default_freq_mhz(),
        seed: 1,
    };
    run(&opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Memory bits of a preset's core: kernel 8-bit, neuron and bias 16-bit words.
fn memory_bits(name: &str) -> u64 {
    let c = preset(name).unwrap().capacity;
    8 * c.kernel_words + 16 * (c.neuron_words + c.bias_words)
}

#[test]
fn tiny_memories_map_to_ice40_block_ram() {
    let r = flow(Target::Ice40Hx8k, "tiny", false);
    let bits = memory_bits("tiny");
    // 1 Ki x 8 kernel (2 EBR), 1 Ki x 16 neuron (4 EBR), 64 x 16 bias (1 EBR).
    assert_eq!(r.resources.bram, 7, "{:?}", r.resources.cell_types);
    assert!(r.resources.bram * 4096 >= bits);
    // Without inference the 25 Kbit of memory would be ~25k FFs; the logic has a few hundred.
    assert!(r.resources.ffs < 1000, "memories spilled into flip-flops: {:?}", r.resources.cell_types);
    assert_eq!(r.resources.memories, 0);
}

#[test]
fn fpga_up5k_neuron_memory_maps_to_spram() {
    let r = flow(Target::Ice40Up5k, "fpga_up5k", false);
    // 32 Ki x 16 neuron state in 2 of the 4 SPRAMs; 2 Ki x 8 kernels (4 EBR) + 64 x 16 biases (1 EBR).
    assert_eq!(r.resources.spram, 2, "{:?}", r.resources.cell_types);
    assert_eq!(r.resources.bram, 5, "{:?}", r.resources.cell_types);
    assert!(r.resources.ffs < 1000, "memories spilled into flip-flops: {:?}", r.resources.cell_types);
    let cap = Target::Ice40Up5k.capacity().unwrap();
    assert!(r.resources.luts < cap.logic_cells / 2, "two cores must fit: {:?}", r.resources);
}

#[test]
fn generic_target_keeps_memories_as_memory_cells() {
    let r = flow(Target::Generic, "tiny", false);
    assert_eq!(r.resources.memories, 3, "{:?}", r.resources.cell_types);
    assert!(r.resources.ffs < 1000, "{:?}", r.resources.cell_types);
    assert!(r.resources.luts > 100);
}

#[test]
#[ignore = "place and route: ~20 s"]
fn tiny_place_and_route_up5k() {
    let r = flow(Target::Ice40Up5k, "tiny", true);
    let p = r.pnr.as_ref().expect("nextpnr report");
    assert!(p.fmax_mhz > 5.0, "{p:?}");
    assert_eq!(p.utilisation.get("ICESTORM_RAM").map(|u| u.0), Some(7));
    assert!(r.icetime_mhz.is_some());
}
