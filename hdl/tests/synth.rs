//! Yosys synthesizes the tiny preset with no latch and no undriven wire.

use std::path::PathBuf;
use std::process::Command;

use spikehdl_hdl::presets::preset;

#[test]
fn yosys_synth_tiny_has_no_latches_or_undriven_wires() {
    let p = preset("tiny").unwrap();
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl").join(p.file_name());
    assert!(
        Command::new("yosys").arg("-V").output().is_ok(),
        "yosys is not installed: install the Debian package `yosys` (apt-get install yosys)"
    );
    // `check -assert` fails on undriven wires, multiple drivers and logic
    // loops; the select fails if any latch cell was inferred.
    let script = format!(
        "read_verilog {}; synth -top {}; check -assert; select -assert-none t:$dlatch t:$_DLATCH_*; stat",
        file.display(),
        p.module_name()
    );
    let out = Command::new("yosys").args(["-p", &script]).output().expect("run yosys");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "yosys failed:\n{}\n{}", String::from_utf8_lossy(&out.stderr), tail(&log));
    // Belt and braces: no latch cell in the statistics either.
    let latch_cells: Vec<&str> = log
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("$dlatch") || l.starts_with("$_DLATCH"))
        .collect();
    assert!(latch_cells.is_empty(), "latch inferred: {latch_cells:?}");
    assert!(log.contains("Number of cells"), "no statistics:\n{}", tail(&log));
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
