//! `spikehdl fpga sim --pty` + `spikehdl fpga run --port` on the board
//! examples give the same output files as `simulate`, byte for byte; and
//! the commands' errors name what is wrong (exit 2).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spikehdl"));
    c.current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    c
}

/// Kills the simulator when the test ends, passing or not.
struct Killer(Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pty_round_trip(board: &str, stem: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = bin()
        .args(["fpga", "sim", "--board", board, "--pty"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn fpga sim");
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).expect("first line of fpga sim");
    let _k = Killer(sim);
    let dev = line.trim().to_string();
    assert!(dev.starts_with("/dev/"), "first line is the device path: {line:?}");
    // one format: `fpga run` and `simulate` share the writer (spikehdl_model::io::write_outputs)
    for ext in ["jsonl"] {
        let board_out = dir.path().join(format!("board.{ext}"));
        let model_out = dir.path().join(format!("model.{ext}"));
        let cfg = format!("examples/{stem}.json");
        let ev = format!("examples/{stem}.jsonl");
        let o = bin()
            .args(["fpga", "run", "--port", &dev, "--config", &cfg, "--events", &ev, "--out"])
            .arg(&board_out)
            .output()
            .unwrap();
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "fpga run on {board}: {out}\n{err}");
        assert!(out.contains("link bad frames: 0"), "{out}");
        let o = bin().args(["simulate", "--config", &cfg, "--events", &ev, "--out"]).arg(&model_out).output().unwrap();
        assert_eq!(o.status.code(), Some(0));
        let (a, b) = (std::fs::read_to_string(&model_out).unwrap(), std::fs::read_to_string(&board_out).unwrap());
        assert!(a.lines().count() > 10, "the example produces outputs");
        assert!(a == b, "{board} {ext}: fpga run and simulate differ\nmodel:\n{}\nboard:\n{}", head(&a), head(&b));
    }
}

fn head(s: &str) -> String {
    s.lines().take(20).collect::<Vec<_>>().join("\n")
}

#[test]
fn pty_round_trip_icebreaker() {
    pty_round_trip("icebreaker", "icebreaker");
}

/// About a minute on a 2-core machine: the 9-core chip simulates slowly and
/// its configuration is ~1600 frames at 500 clocks per byte.
#[test]
fn pty_round_trip_ulx3s() {
    pty_round_trip("ulx3s-85f", "ulx3s");
}

#[test]
fn fpga_errors_name_the_problem() {
    let o = bin().args(["fpga", "sim", "--board", "nexys", "--pty"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("boards: icebreaker, ulx3s-85f"));
    let o = bin().args(["fpga", "sim", "--board", "icebreaker", "--pty", "--baud", "2500000"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("% off"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args(["fpga", "run", "--port", "/dev/does-not-exist", "--config", "examples/icebreaker.json", "--events"])
        .args(["examples/icebreaker.jsonl", "--out", "/tmp/never-written.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open serial port /dev/does-not-exist"));
}
