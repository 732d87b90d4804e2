//! Scoreboard: feed the model exactly the items the RTL accepted, compare
//! outputs in order, then the final neuron states; on a difference, build a
//! minimal readable transcript (the config, the input items, the first
//! differing output with its index and the item that caused it).

use std::fmt::Write as _;

use spikehdl_model::{CoreItem, CoreModel, CoreOutput, Layer};

use crate::core_dut::{CoreDut, RunResult, Stalls};

/// One equivalence case for a single core.
#[derive(Debug, Clone)]
pub struct CoreCase {
    pub layer: Layer,
    pub items: Vec<CoreItem>,
    pub stalls: Stalls,
}

/// Figures from a passing case.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseStats {
    pub cycles: u64,
    pub outputs: usize,
    pub synaptic_updates: u64,
}

/// Describes a layer compactly (weights listed up to a limit).
pub fn describe_layer(l: &Layer) -> String {
    let mut s = format!(
        "layer: C={} W_in={} H_in={} k={} stride=(x {}, y {}) pad=(x {}, y {}) F={} W_out={} H_out={}\n       threshold_high={} threshold_low={} return_to_zero={} leak_enable={}\n",
        l.c, l.w_in, l.h_in, l.k, l.stride_x, l.stride_y, l.pad_x, l.pad_y, l.f, l.w_out, l.h_out,
        l.params.threshold_high, l.params.threshold_low, l.params.return_to_zero, l.leak_enable
    );
    let list = |v: &mut dyn Iterator<Item = String>, n: usize| -> String {
        let items: Vec<String> = v.take(n + 1).collect();
        let more = if items.len() > n { " …" } else { "" };
        format!("[{}{more}]", items[..items.len().min(n)].join(", "))
    };
    let _ = writeln!(s, "weights [f][c][ky][kx] flattened ({}): {}", l.weights.len(), list(&mut l.weights.iter().map(|w| w.to_string()), 128));
    let _ = writeln!(s, "biases: {}", list(&mut l.biases.iter().map(|w| w.to_string()), 32));
    if l.neurons_initial_value.iter().any(|&v| v != 0) {
        let _ = writeln!(s, "neurons_initial_value [f][y][x]: {}", list(&mut l.neurons_initial_value.iter().map(|w| w.to_string()), 64));
    }
    s
}

fn transcript(preset: &str, case: &CoreCase, accepted: &[CoreItem], what: &str) -> String {
    let mut s = format!("RTL/model mismatch on core preset {preset}: {what}\n");
    s.push_str(&describe_layer(&case.layer));
    let _ = writeln!(s, "stalls: input {}%, output {}%, seed {:#x}", case.stalls.input, case.stalls.output, case.stalls.seed);
    let _ = writeln!(s, "items accepted by the RTL ({} of {}):", accepted.len(), case.items.len());
    for (i, it) in accepted.iter().enumerate().take(80) {
        let _ = writeln!(s, "  [{i}] {it:?}");
    }
    if accepted.len() > 80 {
        let _ = writeln!(s, "  … {} more", accepted.len() - 80);
    }
    s
}

/// Runs one case on a fresh DUT and checks it; `Err` holds the transcript.
pub fn check_core_case(preset: &'static spikehdl_hdl::presets::CorePreset, case: &CoreCase) -> Result<CaseStats, String> {
    // Power-up values from the case's seed: a register without reset logic
    // shows as a mismatch, and the transcript's seed reproduces it.
    let mut dut = CoreDut::with_power_up(preset, None, spikehdl_sim::PowerUp::random(case.stalls.seed)).map_err(|e| e.to_string())?;
    check_on(&mut dut, case)
}

/// Checks one case on an existing DUT (reset and reconfigured first).
pub fn check_on(dut: &mut CoreDut, case: &CoreCase) -> Result<CaseStats, String> {
    dut.reset();
    dut.configure(&case.layer)?;
    // Generous bound: every item may cost a full leak scan plus output stalls.
    let n_neurons = u64::from(case.layer.f * case.layer.w_out * case.layer.h_out);
    let per_item = 4 * (n_neurons + u64::from(case.layer.k * case.layer.k * case.layer.f)) + 64;
    let bound = 1000 + per_item * case.items.len() as u64 * (100 / (100 - u64::from(case.stalls.output.min(95)))) ;
    let r: RunResult = dut.run(&case.items, case.stalls, bound);
    let preset = dut.preset.name;
    if !r.protocol_violations.is_empty() || !r.bad_outputs.is_empty() {
        let mut s = transcript(preset, case, &r.accepted, "stream contract broken");
        for v in r.protocol_violations.iter().take(5) {
            let _ = writeln!(s, "  cycle {}: {}", v.cycle, v.what);
        }
        for b in r.bad_outputs.iter().take(5) {
            let _ = writeln!(s, "  undecodable output: {b}");
        }
        return Err(s);
    }
    // Scoreboard: the model sees exactly what the RTL accepted.
    let mut model = CoreModel::new(&case.layer);
    let mut expected: Vec<CoreOutput> = Vec::new();
    let mut cause: Vec<usize> = Vec::new();
    for (i, it) in r.accepted.iter().enumerate() {
        let before = expected.len();
        model.accept(*it, &mut expected);
        cause.extend(std::iter::repeat_n(i, expected.len() - before));
    }
    let first_diff = expected.iter().zip(&r.outputs).position(|(a, b)| a != b).or_else(|| {
        (expected.len() != r.outputs.len()).then(|| expected.len().min(r.outputs.len()))
    });
    if let Some(i) = first_diff {
        let mut s = transcript(preset, case, &r.accepted, &format!("output sequences differ at index {i}"));
        let _ = writeln!(s, "outputs: model {} , RTL {}", expected.len(), r.outputs.len());
        for j in i.saturating_sub(3)..i {
            let _ = writeln!(s, "  [{j}] both: {:?}", expected[j]);
        }
        match (expected.get(i), r.outputs.get(i)) {
            (Some(e), g) => {
                let _ = writeln!(s, "  [{i}] model: {e:?}  (caused by accepted item [{}])", cause[i]);
                let _ = writeln!(s, "  [{i}] RTL:   {}", g.map_or("nothing (stream ended)".to_string(), |g| format!("{g:?}")));
            }
            (None, Some(g)) => {
                let _ = writeln!(s, "  [{i}] model: nothing (stream ended)\n  [{i}] RTL:   {g:?}");
            }
            (None, None) => {}
        }
        return Err(s);
    }
    if r.err_count != model.counters().errors {
        let what = format!("error counter: model {}, RTL {}", model.counters().errors, r.err_count);
        return Err(transcript(preset, case, &r.accepted, &what));
    }
    let states = match dut.read_states(&case.layer) {
        Ok(s) => s,
        Err(rr) => {
            let what = format!("reading back the neuron states failed: {} answers, violations {:?}", rr.outputs.len(), rr.protocol_violations);
            return Err(transcript(preset, case, &r.accepted, &what));
        }
    };
    let want = model.states();
    if let Some(i) = want.iter().zip(&states).position(|(a, b)| a != b) {
        let l = &case.layer;
        let (hw, w) = ((l.h_out * l.w_out) as usize, l.w_out as usize);
        let (f, y, x) = (i / hw, (i % hw) / w, i % w);
        let what = format!("final neuron state (f {f}, x {x}, y {y}): model {}, RTL {}", want[i], states[i]);
        return Err(transcript(preset, case, &r.accepted, &what));
    }
    Ok(CaseStats { cycles: r.cycles, outputs: r.outputs.len(), synaptic_updates: model.counters().synaptic_updates })
}
