//! Every exported core preset, on edge-size layers: maximum kernel with
//! stride 8 and padding 7 on a non-square map, depth 1 (C = F = 1), odd
//! sizes that are no powers of two, a layer that fills the kernel memory and
//! one that fills the neuron memory. Each runs a deterministic mixed stream
//! (spikes in and out of shape, leak ticks, neuron writes and reads) with
//! stalls on both streams, compared exactly with the model.

use spikehdl_hdl::presets::{CorePreset, PRESETS};
use spikehdl_model::{CoreItem, Layer};
use spikehdl_testbenches::core_dut::Stalls;
use spikehdl_testbenches::scoreboard::{check_core_case, CoreCase};
use spikehdl_testbenches::strategies::{build_layer, Geometry};
use spikehdl_testbenches::Rng;

fn out(input: u32, pad: u32, k: u32, s: u32) -> u32 {
    (input + 2 * pad - k) / s + 1
}

fn geometry(k: u32, stride: (u32, u32), pad: (u32, u32), w_in: u32, h_in: u32, c: u32, f: u32) -> Geometry {
    Geometry { k, stride, pad, w_in, h_in, w_out: out(w_in, pad.0, k, stride.0), h_out: out(h_in, pad.1, k, stride.1), c, f }
}

fn layer(p: &CorePreset, g: Geometry, seed: u64) -> Layer {
    let mut rng = Rng::new(seed);
    let pick = |rng: &mut Rng, v: &[i64]| v[(rng.below(v.len() as u64)) as usize];
    let n_w = (g.f * g.c * g.k * g.k) as usize;
    let w: Vec<i64> = (0..n_w).map(|_| pick(&mut rng, &[0, 127, -128, 5, -7, 40, -40, 1])).collect();
    let b: Vec<i64> = (0..g.f).map(|_| pick(&mut rng, &[0, 3, -3, 32767, -32768, 100])).collect();
    let n_n = (g.f * g.w_out * g.h_out) as usize;
    let init: Vec<i64> = (0..n_n).map(|_| pick(&mut rng, &[0, 0, 99, -99, 32767, -32768])).collect();
    build_layer(p.capacity, &g, 100, -32768, &w, &b, &init, seed % 2 == 0, true)
}

fn stream(l: &Layer, n: usize, seed: u64) -> Vec<CoreItem> {
    let mut rng = Rng::new(seed);
    let r = |rng: &mut Rng, n: u32| (rng.below(u64::from(n))) as u16;
    (0..n)
        .map(|_| match rng.below(20) {
            0 => CoreItem::LeakTick,
            1 => CoreItem::WriteNeuron { f: r(&mut rng, l.f), x: r(&mut rng, l.w_out), y: r(&mut rng, l.h_out), value: 32000 },
            2 => CoreItem::ReadNeuron { f: r(&mut rng, l.f), x: r(&mut rng, l.w_out), y: r(&mut rng, l.h_out) },
            3 => CoreItem::Spike { c: l.c as u16, x: 0, y: 0 }, // out of shape
            _ => CoreItem::Spike { c: r(&mut rng, l.c), x: r(&mut rng, l.w_in), y: r(&mut rng, l.h_in) },
        })
        .collect()
}

/// Edge-size layers that fit `p`.
fn edge_layers(p: &CorePreset) -> Vec<(&'static str, Layer)> {
    let cap = p.capacity;
    let mut v = vec![
        ("k16 stride 8 pad 7 37x21, C=F=1", layer(p, geometry(16, (8, 8), (7, 7), 37, 21, 1, 1), 1)),
        ("k1 stride 1, depth 1, 1x1", layer(p, geometry(1, (1, 1), (0, 0), 1, 1, 1, 1), 2)),
        ("k5 stride (2,1) pad (2,3), C=3 F=5, 13x7", layer(p, geometry(5, (2, 1), (2, 3), 13, 7, 3, 5), 3)),
        ("k2 stride (4,8) pad (7,0), 29x16", layer(p, geometry(2, (4, 8), (7, 0), 29, 16, 2, 3), 4)),
    ];
    // Fill the kernel memory: k = 16 (kb = 8), F = 1 (fb = 0): C = kernel_words / 256.
    let c_full = (cap.kernel_words / 256).min(1024) as u32;
    v.push(("kernel memory full: k16, F=1, C=kernel_words/256", layer(p, geometry(16, (8, 8), (0, 0), 16, 16, c_full, 1), 5)));
    // Fill the neuron memory: 32x32 output map (xb = yb = 5), F = neuron_words / 1024.
    let f_full = (cap.neuron_words / 1024).min(cap.bias_words).min(1024) as u32;
    v.push(("neuron memory full: 32x32, F=neuron_words/1024", layer(p, geometry(3, (1, 1), (1, 1), 32, 32, 1, f_full.max(1)), 6)));
    v
}

#[test]
fn every_preset_on_edge_sizes() {
    for p in PRESETS {
        for (name, l) in edge_layers(p) {
            let case = CoreCase { items: stream(&l, 120, 77), layer: l, stalls: Stalls { input: 20, output: 30, seed: 9 } };
            if let Err(t) = check_core_case(p, &case) {
                panic!("preset {} / {name}:\n{t}", p.name);
            }
        }
    }
}

#[test]
fn vcd_trace_is_written_when_asked() {
    let p = spikehdl_hdl::presets::preset("tiny").unwrap();
    let dir = std::env::temp_dir().join(format!("spikehdl-vcd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("core.vcd");
    let l = layer(p, geometry(3, (1, 1), (1, 1), 4, 4, 1, 2), 8);
    {
        let mut dut = spikehdl_testbenches::core_dut::CoreDut::new(p, Some(&path)).unwrap();
        dut.configure(&l).unwrap();
        let r = dut.run(&stream(&l, 10, 1), Stalls::default(), 100_000);
        assert!(r.protocol_violations.is_empty());
    } // drop closes the file
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("$enddefinitions"), "VCD header");
    assert!(text.contains(" in_valid ") && text.contains(" out_valid "), "ports traced");
    assert!(text.matches("\n#").count() > 100, "many time steps");
    std::fs::remove_dir_all(&dir).ok();
}
