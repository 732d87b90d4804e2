//! Rust-HDL simulation smoke test of `LayerCore` (tiny preset) against
//! `spikehdl_model::CoreModel` on three hand-made layers: every output item
//! in order, the error counter, and every neuron read back at the end.
//! The rust-hdl simulator is slow, so the layers are small (about 1500
//! cycles in all); the exhaustive equivalence tests run under Verilator.

use spikehdl_hdl::{presets, regmap};
use spikehdl_model::neuron::NeuronParams;
use spikehdl_model::validate::Destination;
use spikehdl_model::{CoreItem, CoreModel, CoreOutput, Layer};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

#[allow(clippy::too_many_arguments)]
fn layer(
    c: u32,
    w_in: u32,
    h_in: u32,
    k: u32,
    stride: (u32, u32),
    pad: (u32, u32),
    f: u32,
    params: NeuronParams,
    leak_enable: bool,
    seed: u64,
) -> Layer {
    let w_out = Layer::output_size(w_in.into(), pad.0.into(), k.into(), stride.0.into()).unwrap() as u32;
    let h_out = Layer::output_size(h_in.into(), pad.1.into(), k.into(), stride.1.into()).unwrap() as u32;
    let mut rng = Lcg(seed);
    let weights = (0..f * c * k * k)
        .map(|_| if rng.next().is_multiple_of(4) { 0 } else { rng.range(-6, 9) as i8 })
        .collect();
    let biases = (0..f).map(|_| rng.range(-3, 4) as i16).collect();
    let neurons_initial_value = (0..f * h_out * w_out).map(|_| rng.range(-4, 4) as i16).collect();
    let d = Destination { chip: None, layer: 0, enable: false, pooling: 1, feature_shift: 0 };
    Layer {
        c,
        w_in,
        h_in,
        k,
        stride_x: stride.0,
        stride_y: stride.1,
        pad_x: pad.0,
        pad_y: pad.1,
        f,
        w_out,
        h_out,
        weights,
        biases,
        neurons_initial_value,
        params,
        leak_enable,
        monitor_enable: false,
        destinations: [d, d],
    }
}

/// Runs the core on `items`; returns (outputs, err_count, stream cycles).
fn run_rtl(layer: &Layer, items: &[CoreItem], backpressure: bool) -> (Vec<CoreOutput>, u32, u64) {
    let r = spikehdl_hdl::rhdl_sim::run_tiny(layer, items, backpressure).unwrap();
    (r.outputs, r.err_count, r.stream_cycles)
}

fn check(layer: &Layer, mut items: Vec<CoreItem>, backpressure: bool) -> u64 {
    // Read every neuron back at the end: the outputs then cover the final state.
    let n_before = items.len();
    items.extend(regmap::readback_items(layer));
    let mut model = CoreModel::new(layer);
    let mut expected = Vec::new();
    for it in &items {
        model.accept(*it, &mut expected);
    }
    let (got, err, cycles) = run_rtl(layer, &items, backpressure);
    eprintln!("{} items, {} outputs ({} spikes), err {err}, {cycles} stream cycles", items.len(), got.len(), got.iter().filter(|o| matches!(o, CoreOutput::Spike { .. })).count());
    assert_eq!(got.len(), expected.len(), "output count");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "output {i} differs");
    }
    assert_eq!(u64::from(err), model.counters().errors, "err_count");
    // The answers to the read-back items are the whole neuron memory.
    let mut tail = Vec::new();
    let mut m2 = CoreModel::new(layer);
    for it in &items[..n_before] {
        m2.accept(*it, &mut tail);
    }
    let readback = &got[tail.len()..];
    assert_eq!(regmap::neuron_image_from_values(layer, readback), model.neuron_memory_image(), "neuron memory");
    cycles
}

fn spike(c: u16, x: u16, y: u16) -> CoreItem {
    CoreItem::Spike { c, x, y }
}

#[test]
fn conv_3x3_pad1_matches_model_under_backpressure() {
    let p = NeuronParams { threshold_high: 5, threshold_low: -10, return_to_zero: false };
    let l = layer(2, 5, 5, 3, (1, 1), (1, 1), 3, p, false, 7);
    let items = vec![
        spike(0, 2, 2),
        spike(1, 0, 0),
        spike(0, 4, 4),
        spike(2, 1, 1), // out of shape: counted, dropped
        CoreItem::LeakTick, // leak disabled: ignored
        spike(1, 4, 0),
        spike(0, 2, 2),
        spike(1, 3, 1),
        spike(0, 0, 4),
        spike(0, 2, 2),
    ];
    check(&l, items, true);
}

#[test]
fn strided_leak_rtz_matches_model() {
    let p = NeuronParams { threshold_high: 4, threshold_low: -3, return_to_zero: true };
    let l = layer(1, 6, 6, 3, (2, 4), (1, 3), 2, p, true, 11);
    assert_eq!((l.w_out, l.h_out), (3, 3));
    let mut items = Vec::new();
    for y in 0..6 {
        for x in 0..6 {
            if (x + 2 * y) % 3 == 0 {
                items.push(spike(0, x, y));
            }
        }
        if y % 2 == 1 {
            items.push(CoreItem::LeakTick);
        }
    }
    items.push(CoreItem::WriteNeuron { f: 1, x: 2, y: 0, value: 3 });
    items.push(CoreItem::LeakTick);
    items.push(CoreItem::ReadNeuron { f: 5, x: 0, y: 0 }); // out of shape
    check(&l, items, true);
}

#[test]
fn back_to_back_same_neuron_forwarding_and_throughput() {
    let p = NeuronParams { threshold_high: 3, threshold_low: -32768, return_to_zero: false };
    let mut l = layer(1, 3, 3, 1, (1, 1), (0, 0), 1, p, false, 3);
    l.weights = vec![2];
    let mut items = vec![spike(0, 1, 1); 6];
    items.push(CoreItem::WriteNeuron { f: 0, x: 1, y: 1, value: 32767 });
    items.push(CoreItem::ReadNeuron { f: 0, x: 1, y: 1 });
    items.push(spike(0, 1, 1)); // saturates, spikes, subtracts
    items.push(CoreItem::ReadNeuron { f: 0, x: 1, y: 1 });
    items.push(CoreItem::WriteNeuron { f: 0, x: 1, y: 1, value: -32768 });
    items.push(CoreItem::LeakTick);
    items.push(spike(0, 1, 1));
    let n_items = items.len() as u64 + 9; // + the 9 read-backs
    let cycles = check(&l, items, false);
    // One operation per cycle, back to back: each item here is one operation
    // (leak is off, so the tick takes one input cycle); allow pipeline fill
    // and drain (D, I, M1, M2, output queue).
    assert!(cycles <= n_items + 6, "{cycles} cycles for {n_items} single-operation items");
}

/// A few random layers that fit the tiny preset, with full-range values
/// (saturation, floors), every stride, paddings larger than the kernel, and
/// random items including out-of-shape ones.
#[test]
fn random_small_layers_match_model() {
    let tiny = presets::preset("tiny").unwrap();
    let mut rng = Lcg(0x5eed);
    let mut done = 0;
    while done < 40 {
        let k = rng.range(1, 5) as u32;
        let stride = (1u32 << rng.range(0, 3), 1u32 << rng.range(0, 3));
        let pad = (rng.range(0, 7) as u32, rng.range(0, 7) as u32);
        let (w_in, h_in) = (rng.range(1, 10) as u32, rng.range(1, 10) as u32);
        let (c, f) = (rng.range(1, 3) as u32, rng.range(1, 4) as u32);
        if w_in + 2 * pad.0 < k || h_in + 2 * pad.1 < k {
            continue;
        }
        let thh = rng.range(1, 300) as i16;
        let p = NeuronParams {
            threshold_high: thh,
            threshold_low: rng.range(-32768, i64::from(thh) - 1) as i16,
            return_to_zero: rng.next().is_multiple_of(2),
        };
        let mut l = layer(c, w_in, h_in, k, stride, pad, f, p, rng.next().is_multiple_of(2), rng.next());
        if regmap::config_writes(&l, tiny).is_err() {
            continue;
        }
        for w in l.weights.iter_mut() {
            if !rng.next().is_multiple_of(3) {
                *w = rng.range(-128, 127) as i8;
            }
        }
        for b in l.biases.iter_mut() {
            *b = rng.range(-32768, 32767) as i16;
        }
        for v in l.neurons_initial_value.iter_mut() {
            *v = rng.range(-32768, 32767).max(i64::from(p.threshold_low)) as i16;
        }
        let mut items = Vec::new();
        for _ in 0..60 {
            let r = rng.next() % 16;
            let (cx, cy) = ((w_in + 1) as i64, (h_in + 1) as i64);
            items.push(match r {
                0 => CoreItem::LeakTick,
                1 => CoreItem::WriteNeuron {
                    f: rng.range(0, i64::from(f)) as u16,
                    x: rng.range(0, i64::from(l.w_out)) as u16,
                    y: rng.range(0, i64::from(l.h_out)) as u16,
                    value: rng.range(-32768, 32767) as i16,
                },
                2 => CoreItem::ReadNeuron {
                    f: rng.range(0, i64::from(f)) as u16,
                    x: rng.range(0, i64::from(l.w_out)) as u16,
                    y: rng.range(0, i64::from(l.h_out)) as u16,
                },
                _ => spike(rng.range(0, i64::from(c)) as u16, rng.range(0, cx - 1) as u16, rng.range(0, cy - 1) as u16),
            });
        }
        check(&l, items, done % 2 == 0);
        done += 1;
    }
}
