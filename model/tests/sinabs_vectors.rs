//! The external oracle: reference vectors computed by SynSense's Sinabs
//! (`tests/data/sinabs/sinabs_reference.json`, see the README beside it).
//! Every one of the 60 "conv" and 20 "dvs" cases must be reproduced by the
//! model.
//!
//! The vectors are part of the repository so that a clone alone runs them;
//! `SPIKEHDL_VECTORS` points the test at another copy (e.g. a newer Sinabs
//! run). A missing file is a failure, not a skip.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;
use spikehdl_model::config::{Xy, XyFlags};
use spikehdl_model::kernel::Level;
use spikehdl_model::{CoreItem, CoreOutput, HostInput, HostOutput};

fn vectors_path() -> String {
    std::env::var("SPIKEHDL_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sinabs/sinabs_reference.json").to_string())
}

fn load() -> Vec<Value> {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the Sinabs reference vectors at {path}: {e}\n\
             (it is committed under model/tests/data/sinabs/; SPIKEHDL_VECTORS overrides the path)"
        )
    });
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
    doc["cases"].as_array().unwrap_or_else(|| panic!("{path}: no \"cases\" array")).clone()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("expected an integer, got {v}"))
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().unwrap_or_else(|| panic!("expected an array, got {v}")).iter().map(int).collect()
}

fn rows(v: &Value) -> Vec<Vec<i64>> {
    v.as_array().unwrap_or_else(|| panic!("expected an array, got {v}")).iter().map(ints).collect()
}

fn cases(kind: &str) -> Vec<Value> {
    load().into_iter().filter(|c| c["kind"] == kind).collect()
}

/// Runs one conv case; returns a description of the first mismatch.
/// Every case at every kernel level this CPU supports (scalar, portable, AVX2, AVX-512).
fn run_conv(case: &Value) -> Result<(), String> {
    Level::supported().into_iter().try_for_each(|l| run_conv_at(case, l).map_err(|e| format!("kernel {l}: {e}")))
}

fn run_dvs(case: &Value) -> Result<(), String> {
    Level::supported().into_iter().try_for_each(|l| run_dvs_at(case, l).map_err(|e| format!("kernel {l}: {e}")))
}

fn run_conv_at(case: &Value, level: Level) -> Result<(), String> {
    let (is, os) = (ints(&case["input_shape"]), ints(&case["output_shape"]));
    let (c, h, w) = (is[0], is[1], is[2]);
    let (f, h_out, w_out) = (os[0], os[1], os[2]);
    let (stride, pad) = (ints(&case["stride"]), ints(&case["padding"]));
    let k = int(&case["kernel_size"]);
    let mut l = layer(c, w, h, f, k, (stride[0], stride[1]), (pad[0], pad[1]));
    if (l.output_shape.x, l.output_shape.y) != (w_out, h_out) {
        return Err(format!("output shape {:?} disagrees with the case's [F, H, W] = {os:?}", l.output_shape));
    }
    let wv = &case["weights"];
    set_weights(&mut l, |fi, ci, ky, kx| int(&wv[fi][ci][ky][kx]));
    l.threshold_high = int(&case["threshold_high"]);
    l.threshold_low = int(&case["threshold_low"]);
    l.return_to_zero = case["return_to_zero"].as_bool().expect("return_to_zero");
    let mut m = core(&l);
    assert!(m.set_kernel_level(level));

    let mut got: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    let events = rows(&case["events"]);
    for (i, ev) in events.iter().enumerate() {
        let (t, ci, x, y) = (ev[0], ev[1], ev[2], ev[3]);
        if t != i as i64 {
            return Err(format!("event {i} has step {t}; expected one event per step"));
        }
        for o in m.accept_vec(CoreItem::Spike { c: ci as u16, x: x as u16, y: y as u16 }) {
            match o {
                CoreOutput::Spike { f, x, y } => got.entry(t).or_default().push((f.into(), x.into(), y.into())),
                other => return Err(format!("unexpected output {other:?}")),
            }
        }
    }
    assert_eq!(m.counters().errors, 0, "case {}: every event lies inside the input map", case["id"]);
    let mut want: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for s in rows(&case["expected_spikes"]) {
        want.entry(s[0]).or_default().push((s[1], s[2], s[3]));
    }
    compare(got, want)
}

/// Compares per-step multisets.
fn compare<T: Ord + std::fmt::Debug>(mut got: BTreeMap<i64, Vec<T>>, mut want: BTreeMap<i64, Vec<T>>) -> Result<(), String> {
    got.values_mut().for_each(|v| v.sort());
    want.values_mut().for_each(|v| v.sort());
    if got == want {
        return Ok(());
    }
    let steps: std::collections::BTreeSet<i64> = got.keys().chain(want.keys()).copied().collect();
    for t in steps {
        let (g, w) = (got.get(&t), want.get(&t));
        if g != w {
            return Err(format!("step {t}: model {g:?}, Sinabs {w:?}"));
        }
    }
    unreachable!()
}

/// Runs one DVS case through a chip whose core 0 takes the DVS layer's output map.
fn run_dvs_at(case: &Value, level: Level) -> Result<(), String> {
    let os = ints(&case["out_shape"]);
    let (c, h, w) = (os[0], os[1], os[2]);
    let xy = |key: &str| {
        let v = ints(&case[key]);
        Xy { x: v[0], y: v[1] }
    };
    let flag = |key: &str| case[key].as_bool().unwrap_or_else(|| panic!("{key}"));
    let mut d = dvs_layer();
    d.pooling = Some(xy("pooling"));
    d.origin = Some(xy("origin"));
    d.cut = Some(xy("cut"));
    d.mirror = XyFlags { x: flag("mirror_x"), y: flag("mirror_y") };
    d.mirror_diagonal = flag("mirror_diagonal");
    d.merge = flag("merge");
    d.monitor_enable = true;
    d.destinations = vec![dvs_dest(0)];
    // Core 0: input [C][H][W] = the DVS output map; stride 8 keeps its output within 64×64.
    let mut cfg = config(vec![Some(layer(c, w, h, 1, 1, (8, 8), (0, 0)))]);
    cfg.dvs_layer = Some(d);
    let mut chip = chip_model(&cfg);
    assert!(chip.set_kernel_level(level));

    let mut got: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for (i, ev) in rows(&case["events"]).iter().enumerate() {
        let (t, x, y, p) = (ev[0], ev[1], ev[2], ev[3]);
        if t != i as i64 {
            return Err(format!("event {i} has step {t}; expected one event per step"));
        }
        let mut out = Vec::new();
        chip.accept(&HostInput::Dvs { x: x as u16, y: y as u16, p: p as u8 }, &mut out).map_err(|e| e.to_string())?;
        for o in out {
            if let HostOutput::Monitor { layer: 13, f, x, y } = o {
                got.entry(t).or_default().push((f.into(), x.into(), y.into()));
            }
        }
    }
    let mut want: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for e in rows(&case["expected"]) {
        assert!(e[4] >= 1, "case {}: count {} in {e:?}", case["id"], e[4]);
        for _ in 0..e[4] {
            want.entry(e[0]).or_default().push((e[1], e[2], e[3]));
        }
    }
    // Every event that left the DVS layer reached core 0 inside its map.
    let delivered = chip.router_counters().delivered[0];
    let n_out: usize = got.values().map(Vec::len).sum();
    assert_eq!(delivered as usize, n_out, "case {}", case["id"]);
    assert_eq!(chip.core_counters(0).errors, 0, "case {}", case["id"]);
    compare(got, want)
}

fn check_all(kind: &str, n: usize, run: fn(&Value) -> Result<(), String>) {
    let cs = cases(kind);
    assert_eq!(cs.len(), n, "the reference file should hold {n} {kind:?} cases");
    let failures: Vec<String> =
        cs.iter().filter_map(|c| run(c).err().map(|e| format!("{kind} case {}: {e}", c["id"]))).collect();
    assert!(failures.is_empty(), "{} of {n} {kind:?} cases fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn sinabs_conv_cases() {
    check_all("conv", 60, run_conv);
}

#[test]
fn sinabs_dvs_cases() {
    check_all("dvs", 20, run_dvs);
}

#[test]
fn sinabs_cases_are_not_trivial() {
    // Guard against a harness that compares empty sets: most cases expect output.
    let all = load();
    let with_output = all
        .iter()
        .filter(|c| {
            let key = if c["kind"] == "conv" { "expected_spikes" } else { "expected" };
            c[key].as_array().is_some_and(|a| !a.is_empty())
        })
        .count();
    assert_eq!(all.len(), 80);
    assert!(with_output >= 50, "only {with_output} cases expect any output");
}
