//! `verilator --lint-only -Wall` with rtl/verilator.waivers passes on every
//! rtl/*.v: the core presets, the chip tops and the board tops.

use std::path::PathBuf;
use std::process::Command;

use spikehdl_hdl::boards::BOARDS;
use spikehdl_hdl::chip_regmap::CHIP_PRESETS;
use spikehdl_hdl::presets::PRESETS;

#[test]
fn verilator_lint_all_presets() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl");
    let waivers = dir.join("verilator.waivers");
    assert!(
        Command::new("verilator").arg("--version").output().is_ok(),
        "verilator is not installed: install the Debian package `verilator` (apt-get install verilator)"
    );
    let mut failures = Vec::new();
    let tops = PRESETS.iter().map(|p| p.module_name()).chain(CHIP_PRESETS.iter().map(|c| c.module.to_string()))
        .chain(BOARDS.iter().map(|b| b.module.to_string()));
    for top in tops {
        let file = dir.join(format!("{top}.v"));
        let out = Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", &top])
            .arg(&waivers)
            .arg(&file)
            .output()
            .expect("run verilator");
        if !out.status.success() {
            failures.push(format!("{}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(failures.is_empty(), "verilator lint failed:\n{}", failures.join("\n"));
}
