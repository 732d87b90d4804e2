//! `spikehdl eval` end to end on a labelled folder the test writes: a tiny
//! network whose answers are known by construction, samples in every
//! dataset format, thread-count independence, shards + merge, errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use spikehdl_model::{nmnist_bin, npy, prophesee_dat};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikehdl")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("spawn spikehdl")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// DVS (pool 4, crop to x, y < 16 → 4×4 map, merged) → core 0: kernel 4
/// over the whole map, 4 features; feature f has weight 1 on map row f only,
/// threshold 1: every event with y / 4 = f makes neuron f spike once. So a
/// sample's prediction is the row (y / 4) with the most events.
const CONFIG: &str = r#"{
  "chip": { "preset": "chip_tiny" },
  "dvs_layer": {
    "pooling": { "x": 4, "y": 4 }, "origin": { "x": 0, "y": 0 }, "cut": { "x": 3, "y": 3 },
    "merge": true, "destinations": [ { "layer": 0, "enable": true } ]
  },
  "cnn_layers": [ {
    "input_shape": { "features": 1, "x": 4, "y": 4 },
    "output_shape": { "features": 4, "x": 1, "y": 1 },
    "kernel_size": 4, "stride": { "x": 1, "y": 1 }, "padding": { "x": 0, "y": 0 },
    "weights": WEIGHTS,
    "threshold_high": 1, "threshold_low": -8,
    "destinations": [ { "layer": 12, "enable": true, "pooling": 1, "feature_shift": 0 }, { "layer": 0, "enable": false } ]
  } ]
}"#;

fn config() -> String {
    let w: Vec<Vec<Vec<Vec<i32>>>> = (0..4).map(|f| vec![(0..4).map(|ky| vec![i32::from(ky == f); 4]).collect()]).collect();
    CONFIG.replace("WEIGHTS", &serde_json::to_string(&w).unwrap())
}

/// `n` events in map row `row` (y = 4·row + 0..3), x cycling over 0..16, from time t0.
fn events(row: u16, n: usize, t0: u64) -> Vec<(u64, u16, u16, u8)> {
    (0..n).map(|i| (t0 + i as u64, (i * 5 % 16) as u16, 4 * row + (i % 4) as u16, (i % 2) as u8)).collect()
}

fn npy_bytes(ev: &[(u64, u16, u16, u8)]) -> Vec<u8> {
    let mut b = Vec::new();
    npy::write_events(&mut b, ev).unwrap();
    b
}

fn sorted(mut v: Vec<(u64, u16, u16, u8)>) -> Vec<(u64, u16, u16, u8)> {
    v.sort();
    v
}

/// The dataset; expected: 8 samples, 5 correct, 1 silent.
fn dataset(root: &Path) -> PathBuf {
    let d = root.join("data");
    for c in ["0", "1", "2", "3"] {
        std::fs::create_dir_all(d.join(c)).unwrap();
    }
    let w = |rel: &str, b: &[u8]| std::fs::write(d.join(rel), b).unwrap();
    // 0/a: 5 in row 0, 2 in row 1 -> 0 (correct)
    w("0/a.npy", &npy_bytes(&sorted([events(0, 5, 0), events(1, 2, 100)].concat())));
    // 0/b (N-MNIST .bin): 4 in row 0 -> 0 (correct)
    let b: Vec<(u64, u8, u8, u8)> = events(0, 4, 0).into_iter().map(|(t, x, y, p)| (t, x as u8, y as u8, p)).collect();
    w("0/b.bin", &nmnist_bin::encode(&b));
    // 1/a (Prophesee .dat): 3 in row 1, 1 in row 3 -> 1 (correct)
    let ev: Vec<(u32, u16, u16, u8)> = [events(1, 3, 0), events(3, 1, 50)].concat().into_iter().map(|(t, x, y, p)| (t as u32, x, y, p)).collect();
    w("1/a.dat", &prophesee_dat::encode(&["% Height 128", "% Width 128"], 12, &ev));
    // 1/b (CSV): 2 in row 1, 3 in row 2 -> 2 (wrong)
    let csv: String = [events(1, 2, 0), events(2, 3, 10)].concat().iter().map(|(t, x, y, p)| format!("{t},{x},{y},{p}\n")).collect();
    w("1/b.csv", format!("t,x,y,p\n{csv}").as_bytes());
    // 2/a: 6 in row 2 -> 2 (correct)
    w("2/a.npy", &npy_bytes(&events(2, 6, 0)));
    // 2/empty: no events -> no readout spike -> none (wrong, silent)
    w("2/empty.csv", b"t,x,y,p\n");
    // 3/tie: 2 in row 0, 2 in row 3 -> tie -> lowest neuron 0 (wrong)
    w("3/tie.npy", &npy_bytes(&sorted([events(0, 2, 0), events(3, 2, 0)].concat())));
    // 3/b (JSON Lines): 3 in row 3 -> 3 (correct)
    let jl: String = events(3, 3, 0).iter().map(|(t, x, y, p)| format!("{{\"t\":{t},\"kind\":\"dvs\",\"x\":{x},\"y\":{y},\"p\":{p}}}\n")).collect();
    w("3/b.jsonl", jl.as_bytes());
    // not an event file: skipped
    w("3/README.txt", b"notes");
    d
}

fn rows(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn eval_reports_accuracy_confusion_rows_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("net.json");
    std::fs::write(&cfg, config()).unwrap();
    let data = dataset(dir.path());
    let out = dir.path().join("rows.jsonl");
    let plots = dir.path().join("plots");
    let sj = dir.path().join("summary.json");
    let o = run(&["eval", "--config", s(&cfg), "--data", s(&data), "--out", s(&out), "--plots", s(&plots), "--summary-json", s(&sj), "--threads", "1"]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {so}\nstderr: {se}");
    assert!(so.contains("8 samples in 4 classes; readout: core 0 (4 neurons, host readout spikes)"), "{so}");
    assert!(so.contains("accuracy 62.50% (5 of 8 samples correct); 1 samples with no readout spike"), "{so}");
    assert!(se.contains("1 files without an event-file extension were skipped"), "{se}");
    // confusion matrix: rows label 0..3, columns prediction 0..3 + none
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sj).unwrap()).unwrap();
    assert_eq!(summary["classes"], serde_json::json!(["0", "1", "2", "3"]));
    assert_eq!(summary["confusion"], serde_json::json!([[2, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 1], [1, 0, 0, 1, 0]]));
    let r = rows(&out);
    let files: Vec<&str> = r.iter().map(|x| x["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["0/a.npy", "0/b.bin", "1/a.dat", "1/b.csv", "2/a.npy", "2/empty.csv", "3/b.jsonl", "3/tie.npy"]);
    let by = |f: &str| r.iter().find(|x| x["file"] == f).unwrap().clone();
    assert_eq!(by("0/a.npy")["counts"], serde_json::json!([5, 2, 0, 0]));
    assert_eq!(by("0/a.npy")["prediction"], "0");
    assert_eq!(by("1/a.dat")["counts"], serde_json::json!([0, 3, 0, 1]));
    assert_eq!(by("1/b.csv")["prediction"], "2");
    assert_eq!(by("1/b.csv")["correct"], false);
    assert_eq!(by("2/empty.csv")["prediction"], serde_json::Value::Null);
    assert_eq!(by("3/tie.npy")["counts"], serde_json::json!([2, 0, 0, 2]));
    assert_eq!(by("3/tie.npy")["prediction"], "0", "ties go to the lowest neuron");
    // the model's counter: every event reaches one output position, 4 features (taps × F, zero weights included)
    assert_eq!(by("2/a.npy")["synaptic_updates"], 6 * 4);
    for p in ["confusion.png", "confusion.svg"] {
        assert!(std::fs::metadata(plots.join(p)).unwrap().len() > 100, "{p}");
    }
}

#[test]
fn eval_is_independent_of_threads_and_shards_merge_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("net.json");
    std::fs::write(&cfg, config()).unwrap();
    let data = dataset(dir.path());
    let plots = dir.path().join("plots");
    let eval = |extra: &[&str], out: &Path| {
        let mut a = vec!["eval", "--config", s(&cfg), "--data", s(&data), "--plots", s(&plots), "--out", s(out)];
        a.extend_from_slice(extra);
        let o = run(&a);
        let (so, se) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{extra:?}\nstdout: {so}\nstderr: {se}");
        so
    };
    let one = dir.path().join("t1.jsonl");
    let three = dir.path().join("t3.jsonl");
    eval(&["--threads", "1"], &one);
    eval(&["--threads", "3"], &three);
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&three).unwrap());
    let mut shards = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("shard{i}.jsonl"));
        let so = eval(&["--shard", &format!("{i}/3")], &p);
        assert!(so.contains(&format!("(shard {i}/3 of 8 samples)")), "{so}");
        shards.push(p);
    }
    assert_eq!(rows(&shards[0]).len() + rows(&shards[1]).len() + rows(&shards[2]).len(), 8);
    let merged = dir.path().join("merged.jsonl");
    let o = run(&["eval", "merge", s(&shards[2]), s(&shards[0]), s(&shards[1]), "--out", s(&merged), "--plots", s(&plots)]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {so}\nstderr: {se}");
    assert!(so.contains("accuracy 62.50% (5 of 8 samples correct)"), "{so}");
    assert_eq!(std::fs::read(&merged).unwrap(), std::fs::read(&one).unwrap());
    // overlapping shards are refused
    let o = run(&["eval", "merge", s(&shards[0]), s(&shards[0]), "--plots", s(&plots)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("shards must not overlap"), "{}", text(&o).1);
}

#[test]
fn eval_errors_name_the_sample_the_class_or_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("net.json");
    std::fs::write(&cfg, config()).unwrap();
    let data = dataset(dir.path());
    let plots = dir.path().join("plots");
    let base = ["eval", "--config", s(&cfg), "--data", s(&data), "--plots", s(&plots)];
    // a corrupt (truncated) sample: exit 2 naming the file and the record
    let mut bad = nmnist_bin::encode(&[(1, 1, 1, 0)]);
    bad.extend_from_slice(&[9, 9]);
    std::fs::write(data.join("1/corrupt.bin"), &bad).unwrap();
    let o = run(&base);
    let (_, se) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{se}");
    assert!(se.contains("1 of 9 samples could not be run"), "{se}");
    assert!(se.contains("corrupt.bin: record 2: truncated: 2 of 5 bytes"), "{se}");
    std::fs::remove_file(data.join("1/corrupt.bin")).unwrap();
    // a class without a readout neuron
    std::fs::create_dir_all(data.join("7")).unwrap();
    std::fs::write(data.join("7/x.npy"), npy_bytes(&events(0, 1, 0))).unwrap();
    let o = run(&base);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("class folder \"7\" has no readout neuron: the readout has 4 neurons (labels 0..=3)"), "{}", text(&o).1);
    std::fs::remove_dir_all(data.join("7")).unwrap();
    // bad arguments
    for (args, want) in [
        (vec!["--shard", "3/3"], "0..=2"),
        (vec!["--threads", "0"], "--threads"),
        (vec!["--readout-core", "2"], "core 2 has no layer"),
        (vec!["--downsample", "0"], "--downsample"),
        (vec!["--crop", "5"], "is not X,Y"),
    ] {
        let mut a = base.to_vec();
        a.extend_from_slice(&args);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(text(&o).1.contains(want), "{args:?}: {}", text(&o).1);
    }
    let o = run(&["eval", "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--config"), "{}", text(&o).1);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&["eval", "--config", s(&cfg), "--data", s(&empty), "--plots", s(&plots)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no class folders"), "{}", text(&o).1);
}
