//! The CLI end to end: exit codes, error messages, outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikehdl"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).current_dir(root()).output().expect("spawn spikehdl")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write temp file");
    p
}

#[test]
fn check_bundled_example_prints_memory_table() {
    let o = run(&["check", "examples/dvs_3layer.json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    assert!(out.contains("valid (9 cores, 3 layers)"), "{out}");
    // core 2's kernel memory is exactly full: 16 · 2^(6+4) = 16 Ki words
    assert!(out.contains("16384/16384 100%"), "{out}");
    assert!(out.contains("host (pool 1, shift 0)"), "{out}");
}

#[test]
fn check_reports_all_errors_with_paths_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/dvs_3layer.json")).unwrap()).unwrap();
    cfg["cnn_layers"][1]["destinations"][0]["pooling"] = 3.into();
    cfg["cnn_layers"][0]["kernel_size"] = 17.into();
    cfg["cnn_layers"][2]["threshold_high"] = 40000.into();
    let p = write(dir.path(), "bad.json", &cfg.to_string());
    let o = run(&["check", p.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cnn_layers[1].destinations[0].pooling: value 3 is not one of [1, 2, 4]"), "{err}");
    assert!(err.contains("cnn_layers[0].kernel_size: value 17 is out of range 1..=16"), "{err}");
    assert!(err.contains("cnn_layers[2].threshold_high: value 40000 is out of range 1..=32767"), "{err}");
}

#[test]
fn check_malformed_json_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "broken.json", "{\n  \"cnn_layers\": [\n    {\"kernel_size\": }\n  ]\n}\n");
    let o = run(&["check", p.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn missing_config_file_is_an_error() {
    let o = run(&["check", "does/not/exist.json"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("does/not/exist.json"), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(run(&["simulate", "--config"]).status.code(), Some(2));
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    let o = run(&[
        "simulate",
        "--config",
        "examples/dvs_3layer.json",
        "--events",
        "examples/dvs_3layer_events.csv",
        "--leak-period-us",
        "0",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("--leak-period-us") && err.contains("'0'") && err.contains("1.."), "{err}");
}

#[test]
fn simulate_writes_what_the_model_computes() {
    let dir = tempfile::tempdir().unwrap();
    // The output folder does not exist yet: simulate creates it.
    let out = dir.path().join("new").join("out.jsonl");
    let o = run(&[
        "simulate",
        "--config",
        "examples/dvs_3layer.json",
        "--events",
        "examples/dvs_3layer_events.csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{err}");
    assert!(stdout.contains("synaptic updates"), "{stdout}");

    // The same run in-process must give the same events.
    let cfg = spikehdl_model::parse_and_validate(&std::fs::read_to_string(root().join("examples/dvs_3layer.json")).unwrap()).unwrap();
    let items = spikehdl_model::io::read_inputs(&root().join("examples/dvs_3layer_events.csv"), cfg.n_cores()).unwrap();
    let expected = spikehdl_model::ChipModel::new(&cfg).run(&items).unwrap();
    assert!(!expected.is_empty(), "the bundled example must produce output events");
    let got: Vec<spikehdl_model::Timed<spikehdl_model::HostOutput>> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, expected);
    // Every layer of the example is active: spikes reach the readout.
    assert!(expected.iter().any(|o| matches!(o.item, spikehdl_model::HostOutput::Spike { layer: 2, .. })));
}

#[test]
fn simulate_bad_event_line_names_line_field_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let ev = write(dir.path(), "ev.csv", "t,x,y,p\n0,1,2,1\n5,200,3,0\n");
    let o = run(&["simulate", "--config", "examples/dvs_3layer.json", "--events", ev.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("x = 200") && err.contains("0..=127"), "{err}");

    let ev = write(dir.path(), "ev.jsonl", "{\"t\":0,\"kind\":\"spike\",\"layer\":9,\"c\":0,\"x\":0,\"y\":0}\n");
    let o = run(&["simulate", "--config", "examples/dvs_3layer.json", "--events", ev.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("line 1") && err.contains("layer = 9") && err.contains("0..=8"), "{err}");

    let ev = write(dir.path(), "ev.txt", "0,1,2,1\n");
    let o = run(&["simulate", "--config", "examples/dvs_3layer.json", "--events", ev.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("unknown event file format"), "{err}");
}

#[test]
fn simulate_csv_output_and_leak_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = run(&[
        "simulate",
        "--config",
        "examples/dvs_3layer.json",
        "--events",
        "examples/dvs_3layer_events.csv",
        "--leak-period-us",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let body = std::fs::read_to_string(&out).unwrap();
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("t,kind,layer,f,x,y,value"));
    assert!(lines.count() > 0);
    let (stdout, _) = text(&o);
    // 4000 events spanning ~89 ms with a 1 ms leak period: 89 ticks, so 4089 items.
    assert!(stdout.contains("input items: 4089"), "{stdout}");
}

#[test]
fn presets_lists_reference_chip() {
    let o = run(&["presets"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("chip_reference") && out.contains("core 8: ref_d"), "{out}");
    // Core types are listed too, and never under a chip preset's name.
    assert!(out.lines().any(|l| l.starts_with("fpga_up5k ")), "{out}");
}

#[test]
fn check_json_type_error_names_the_field_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/dvs_3layer.json")).unwrap()).unwrap();
    cfg["cnn_layers"][2]["kernel_size"] = "3".into();
    let p = write(dir.path(), "typed.json", &cfg.to_string());
    let o = run(&["check", p.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cnn_layers[2].kernel_size: invalid type: string \"3\", expected i64 at line 1 column"), "{err}");
}

#[test]
fn simulate_threads_and_kernels_write_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // The benchmark network (a chain with one readout core) runs as a
    // layered pipeline of whole cores (and layered on one thread); the
    // bundled 3-layer example (monitor on core 0, readout on core 2) runs on
    // one thread, item by item.
    let ev = dir.path().join("bench.csv");
    let mut f = std::fs::File::create(&ev).unwrap();
    spikehdl_model::bench_net::write_events_csv(&mut f, 30_000, 7).unwrap();
    drop(f);
    let cases = [
        ("examples/bench_net.json", ev.to_str().unwrap(), "2 pipeline stages, layered: cores [0, 3] [5, 6]"),
        ("examples/dvs_3layer.json", "examples/dvs_3layer_events.csv", "one thread (cores 0, 2 all send events to the host)"),
    ];
    for (config, events, two_threads) in cases {
        let mut files = Vec::new();
        for (name, extra) in [("one", vec!["--threads", "1", "--kernel", "scalar"]), ("two", vec!["--threads", "2"]), ("three", vec!["--threads", "3", "--kernel", "portable"])] {
            let out = dir.path().join(format!("{name}.jsonl"));
            let mut args = vec!["simulate", "--config", config, "--events", events, "--leak-period-us", "1000", "--out", out.to_str().unwrap()];
            args.extend(extra);
            let o = run(&args);
            let (stdout, err) = text(&o);
            assert_eq!(o.status.code(), Some(0), "{stdout}\n{err}");
            if name == "one" {
                assert!(stdout.contains("kernel scalar, one thread"), "{stdout}");
            } else if name == "two" {
                assert!(stdout.contains(two_threads), "{stdout}");
            }
            assert!(stdout.contains("peak memory (RSS)"), "{stdout}");
            files.push(std::fs::read_to_string(&out).unwrap());
        }
        assert!(!files[0].is_empty(), "{config}");
        assert!(files[1] == files[0] && files[2] == files[0], "{config}: outputs differ between thread counts or kernels");
    }
    let o = run(&["simulate", "--config", "examples/dvs_3layer.json", "--events", "examples/dvs_3layer_events.csv", "--kernel", "avx9000"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("unknown kernel") && err.contains("avx9000"), "{err}");
}

#[test]
fn cosim_preset_names_are_checked_before_any_simulation() {
    let cosim = |preset: &str| {
        run(&["cosim", "--config", "examples/dvs_3layer.json", "--events", "examples/dvs_3layer_events.csv", "--preset", preset])
    };
    // A former chip preset name: the error names the chip preset (and the core type) to use.
    let o = cosim("fpga-up5k");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("\"fpga-up5k\"") && err.contains("use the chip preset \"chip_fpga\"") && err.contains("\"fpga_up5k\""), "{err}");
    // A chip too small for the configuration: the error says why, from Footprint::misfits.
    let o = cosim("chip_tiny");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("chip chip_tiny does not fit") && err.contains("9 cores but the chip has 3"), "{err}");
    assert!(err.contains("core 0: neuron words needed 8192 > 1024 available"), "{err}");
}

/// Concatenation (Inception-style): NIR has no node for it, so it lives in
/// the configuration only. Two branches of different widths (2 and 3
/// features) land side by side in one core's 5 input features through their
/// destinations' feature shifts (0 and 2); `check` shows both sources with
/// their shifts, and a shift that would overflow the input is refused
/// naming the field, the value and the limit.
#[test]
fn check_shows_a_concatenation_by_feature_shift() {
    let layer = |c: i64, f: i64, dests: serde_json::Value| {
        serde_json::json!({
            "input_shape": {"features": c, "x": 4, "y": 4},
            "output_shape": {"features": f, "x": 4, "y": 4},
            "kernel_size": 1, "stride": {"x": 1, "y": 1}, "padding": {"x": 0, "y": 0},
            "weights": vec![vec![vec![vec![1]]; c as usize]; f as usize],
            "threshold_high": 1, "threshold_low": -1,
            "destinations": dests,
        })
    };
    let to = |layer: i64, shift: i64| serde_json::json!({"layer": layer, "enable": true, "pooling": 1, "feature_shift": shift});
    let off = serde_json::json!({"layer": 0, "enable": false});
    let mut cfg = serde_json::json!({
        "chip": {"preset": "chip_tiny"},
        "dvs_layer": {"pooling": {"x": 4, "y": 4}, "cut": {"x": 3, "y": 3}, "merge": true,
                      "destinations": [{"layer": 0, "enable": true}, {"layer": 1, "enable": true}]},
        "cnn_layers": [
            layer(1, 2, serde_json::json!([to(2, 0), off])),
            layer(1, 3, serde_json::json!([to(2, 2), off])),
            layer(5, 1, serde_json::json!([to(12, 0), off])),
        ],
    });
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "concat.json", &cfg.to_string());
    let o = run(&["check", p.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let row = out.lines().find(|l| l.trim_start().starts_with("2 ")).unwrap_or_default();
    assert!(row.contains("core 0 (pool 1, shift 0), core 1 (pool 1, shift 2)"), "{out}");
    assert!(out.lines().find(|l| l.trim_start().starts_with("0 ")).unwrap_or_default().contains("dvs"), "{out}");

    cfg["cnn_layers"][1]["destinations"][0]["feature_shift"] = 3.into();
    let p = write(dir.path(), "overflow.json", &cfg.to_string());
    let o = run(&["check", p.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cnn_layers[1].destinations[0].feature_shift") && err.contains("feature_shift 3 + 3 features = 6 exceeds core 2's 5 input features"), "{err}");
}
