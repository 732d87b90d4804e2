//! `spikehdl synth` end to end (Yosys only; place and route is covered by
//! the ignored tests of hdl/tests/fpga_synth.rs).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn synth_ice40_yosys_only_prints_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_spikehdl"))
        .args(["synth", "--target", "ice40-hx8k", "--preset", "tiny", "--no-pnr", "--json-out"])
        .arg(&json)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .current_dir(root())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("block RAM (SB_RAM40_4K)"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["resources"]["bram"], 7);
    assert_eq!(v["target"], "Ice40Hx8k");
}

#[test]
fn synth_errors_exit_2() {
    let run = |args: &[&str], path: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_spikehdl"));
        c.args(args).current_dir(root());
        if let Some(p) = path {
            c.env("PATH", p);
        }
        let o = c.output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = run(&["synth", "--target", "xc7"], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("ice40-up5k"), "{err}");
    let (code, err) = run(&["synth", "--target", "generic", "--preset", "nope"], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown design"), "{err}");
    // No tools on PATH: the message names the Debian package.
    let empty = tempfile::tempdir().unwrap();
    let (code, err) = run(&["synth", "--target", "generic", "--preset", "tiny"], Some(empty.path().to_str().unwrap()));
    assert_eq!(code, Some(2));
    assert!(err.contains("Debian package `yosys`"), "{err}");
}
