//! Yosys synthesizes the small chip top (rtl/chip_tiny.v: 3 cores, router,
//! DVS layer, FIFOs) with no latch, no undriven wire, no multiple driver and
//! no logic loop (about a minute).

use std::path::PathBuf;
use std::process::Command;

use spikehdl_hdl::chip_regmap::chip;

#[test]
fn yosys_synth_chip_tiny_is_clean() {
    let c = chip("chip_tiny").expect("tiny chip");
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl").join(c.file_name());
    assert!(
        Command::new("yosys").arg("-V").output().is_ok(),
        "yosys is not installed: install the Debian package `yosys` (apt-get install yosys)"
    );
    let script = format!(
        "read_verilog {}; synth -top {}; check -assert; select -assert-none t:$dlatch t:$_DLATCH_*; stat",
        file.display(),
        c.module
    );
    let out = Command::new("yosys").args(["-q", "-p", &script]).output().expect("run yosys");
    assert!(
        out.status.success(),
        "yosys failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout).lines().rev().take(60).collect::<Vec<_>>().join("\n")
    );
}
