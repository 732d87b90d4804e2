//! The benchmark network and its event generator (bundled as
//! `examples/bench_net.json`; the events are generated, never committed).
//!
//! Network: DVS 128×128×2 → DVS pooling 2 → conv 2→16 k3 p1 on core 0 →
//! pool 2 → conv 16→32 k3 p1 on core 3 → pool 2 → conv 32→64 k3 p1 on core 5
//! → pool 2 → conv 64→10 k8 on core 6 → host. Weights uniform in [−20, 20],
//! thresholds 100 / 200 / 300 / 400, threshold_low = −threshold, subtract
//! reset, no leak.
//!
//! Events: `n` DVS events spread evenly over one second; 90 % from a bar
//! sweeping x four times (x = phase·128 + N(0, 2), wrapped), 10 % uniform
//! noise; y and p uniform. Deterministic for a seed (xorshift64*).

use crate::config::{ChipConfig, ChipSpec, CnnLayerConfig, DestinationConfig, DvsDestinationConfig, DvsLayerConfig, Shape, Xy};
use crate::events::{HostInput, Timed};

/// Seed of the bundled configuration's weights.
pub const WEIGHT_SEED: u64 = 2024;
/// Seed of the default event stream.
pub const EVENT_SEED: u64 = 7;
/// Events of the default run.
pub const EVENTS: usize = 300_000;
/// Duration of the recording, µs.
pub const DURATION_US: u64 = 1_000_000;

pub use crate::rng::Rng;

fn dest(layer: i64, enable: bool, pooling: i64) -> DestinationConfig {
    DestinationConfig { chip: None, layer, enable, pooling, feature_shift: 0 }
}

#[allow(clippy::too_many_arguments)] // one line per layer of the network reads best
fn conv(c: i64, size_in: i64, f: i64, k: i64, pad: i64, th: i64, rng: &mut Rng, to: DestinationConfig) -> CnnLayerConfig {
    let size_out = size_in + 2 * pad - k + 1;
    let ku = k as usize;
    let weights = (0..f)
        .map(|_| (0..c).map(|_| (0..ku).map(|_| (0..ku).map(|_| rng.below(41) as i64 - 20).collect()).collect()).collect())
        .collect();
    CnnLayerConfig {
        input_shape: Shape { features: c, x: size_in, y: size_in },
        output_shape: Shape { features: f, x: size_out, y: size_out },
        kernel_size: k,
        stride: Xy { x: 1, y: 1 },
        padding: Xy { x: pad, y: pad },
        weights,
        biases: None,
        neurons_initial_value: None,
        threshold_high: th,
        threshold_low: -th,
        return_to_zero: false,
        leak_enable: false,
        monitor_enable: false,
        destinations: vec![to, dest(0, false, 1)],
    }
}

/// The benchmark network's configuration (what `examples/bench_net.json` holds).
pub fn config() -> ChipConfig {
    let mut rng = Rng::new(WEIGHT_SEED);
    let l0 = conv(2, 64, 16, 3, 1, 100, &mut rng, dest(3, true, 2));
    let l3 = conv(16, 32, 32, 3, 1, 200, &mut rng, dest(5, true, 2));
    let l5 = conv(32, 16, 64, 3, 1, 300, &mut rng, dest(6, true, 2));
    let l6 = conv(64, 8, 10, 8, 0, 400, &mut rng, dest(12, true, 1));
    ChipConfig {
        chip: ChipSpec { preset: Some(crate::presets::CHIP_REFERENCE.name.into()), cores: None },
        allow_cycles: false,
        dvs_layer: Some(DvsLayerConfig {
            pooling: Some(Xy { x: 2, y: 2 }),
            origin: None,
            cut: None,
            mirror: Default::default(),
            mirror_diagonal: false,
            merge: false,
            on_channel: true,
            off_channel: true,
            monitor_enable: false,
            destinations: vec![DvsDestinationConfig { layer: 0, enable: true }, DvsDestinationConfig { layer: 0, enable: false }],
        }),
        cnn_layers: vec![Some(l0), None, None, Some(l3), None, Some(l5), Some(l6)],
    }
}

/// The event stream: `n` events over [`DURATION_US`], see the module docs.
pub fn events(n: usize, seed: u64) -> impl Iterator<Item = Timed<HostInput>> {
    let mut rng = Rng::new(seed);
    (0..n).map(move |i| {
        let t = (i as u128 * DURATION_US as u128 / n.max(1) as u128) as u64;
        let x = if rng.unit() < 0.9 {
            let phase = (t as f64 / DURATION_US as f64 * 4.0).fract();
            let x = (phase * 128.0 + 2.0 * rng.normal()).round() as i64;
            x.rem_euclid(128) as u16
        } else {
            rng.below(128) as u16
        };
        let y = rng.below(128) as u16;
        let p = rng.below(2) as u8;
        Timed { t, item: HostInput::Dvs { x, y, p } }
    })
}

/// Writes the event stream as CSV `t,x,y,p` (with a header).
pub fn write_events_csv(w: &mut impl std::io::Write, n: usize, seed: u64) -> std::io::Result<()> {
    writeln!(w, "t,x,y,p")?;
    for e in events(n, seed) {
        if let HostInput::Dvs { x, y, p } = e.item {
            writeln!(w, "{},{x},{y},{p}", e.t)?;
        }
    }
    Ok(())
}

/// [`config`] as the JSON of `examples/bench_net.json`: indented, with each
/// innermost array of numbers (a kernel row) on one line.
pub fn config_json() -> String {
    let v = serde_json::to_value(config()).expect("config serializes");
    let mut s = String::new();
    pretty(&v, 0, &mut s);
    s.push('\n');
    s
}

fn pretty(v: &serde_json::Value, indent: usize, s: &mut String) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            s.push_str(&serde_json::to_string(v).expect("scalars serialize").replace(',', ", "));
        }
        Value::Array(a) => {
            s.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                s.push_str(&pad(indent + 1));
                pretty(x, indent + 1, s);
                s.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            s.push_str(&pad(indent));
            s.push(']');
        }
        Value::Object(o) => {
            s.push_str("{\n");
            for (i, (k, x)) in o.iter().enumerate() {
                s.push_str(&format!("{}{}: ", pad(indent + 1), serde_json::to_string(k).expect("key")));
                pretty(x, indent + 1, s);
                s.push_str(if i + 1 < o.len() { ",\n" } else { "\n" });
            }
            s.push_str(&pad(indent));
            s.push('}');
        }
        _ => s.push_str(&serde_json::to_string(v).expect("scalar serializes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_example_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bench_net.json");
        let text = std::fs::read_to_string(path).expect("examples/bench_net.json");
        assert!(
            text == config_json(),
            "examples/bench_net.json is stale: regenerate with \
             `cargo run --release -p spikehdl-model --example bench_net -- config > examples/bench_net.json`"
        );
    }

    #[test]
    fn config_is_valid_and_events_are_in_range_and_time_order() {
        let v = crate::validate(&config()).expect("benchmark network validates");
        assert_eq!(v.layers.iter().filter(|l| l.is_some()).count(), 4);
        let ev: Vec<_> = events(20_000, EVENT_SEED).collect();
        assert!(ev.windows(2).all(|w| w[0].t <= w[1].t));
        assert!(ev.last().unwrap().t < DURATION_US);
        // The bar: at a fixed time most events sit within a few pixels of phase·128.
        let near = ev
            .iter()
            .filter(|e| {
                let HostInput::Dvs { x, .. } = e.item else { return false };
                let centre = (e.t as f64 / DURATION_US as f64 * 4.0).fract() * 128.0;
                let d = (x as f64 - centre).rem_euclid(128.0);
                d.min(128.0 - d) <= 6.5
            })
            .count();
        assert!(near as f64 > 0.88 * ev.len() as f64, "{near} of {} near the bar", ev.len());
    }
}
