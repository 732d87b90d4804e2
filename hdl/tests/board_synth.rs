//! Yosys elaborates the board tops (rtl/board_*.v: power-on reset, UARTs,
//! host link, chip) with no latch, no undriven wire, no multiple driver and
//! no logic loop. `proc` is where latches would appear; a full generic
//! `synth` of the chips is covered by chip_synth.rs.

use std::path::PathBuf;
use std::process::Command;

use spikehdl_hdl::boards::BOARDS;

#[test]
fn yosys_board_tops_have_no_latch() {
    assert!(
        Command::new("yosys").arg("-V").output().is_ok(),
        "yosys is not installed: install the Debian package `yosys` (apt-get install yosys)"
    );
    for b in BOARDS {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl").join(b.file_name());
        let script = format!(
            "read_verilog {}; hierarchy -check -top {}; proc; opt_clean; check -assert; select -assert-none t:$dlatch t:$_DLATCH_*",
            file.display(),
            b.module
        );
        let out = Command::new("yosys").args(["-q", "-p", &script]).output().expect("run yosys");
        assert!(
            out.status.success(),
            "yosys failed on {}:\n{}\n{}",
            b.module,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout).lines().rev().take(60).collect::<Vec<_>>().join("\n")
        );
    }
}
