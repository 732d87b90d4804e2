//! FPGA synthesis flow: Yosys (and, for iCE40, nextpnr-ice40 + icepack +
//! icetime) on an exported design of `rtl/`, with a resource table and the
//! Fmax nextpnr reports.
//!
//! **Flow** (every tool runs in a work directory, never in the source tree):
//! 1. Yosys on the design alone (`synth_ice40 [-spram]` or, for the
//!    `generic` target, `synth` up to memory inference then `abc -lut 4`,
//!    memories left as `$mem` cells): its `stat -json` gives the
//!    [`Resources`] of the design.
//! 2. iCE40 only: the design has more ports than the device has pins (the
//!    core has ~210), so it is placed and routed inside a generated
//!    [`harness`]: one input shift register drives every input port and one
//!    load/shift register captures every output (4 pins: `clk`, `sin`,
//!    `load`, `sout`). Every path of the design is then register to
//!    register, as it would be inside a chip; the harness adds one FF per
//!    port bit and about one LUT per output bit (reported separately by
//!    nextpnr's utilisation).
//! 3. nextpnr-ice40 (`--freq` target, `--timing-allow-fail`, fixed seed)
//!    writes its JSON report: Fmax and the critical path; icepack packs the
//!    bitstream and icetime gives an independent timing estimate.
//!
//! Parsing ([`parse_yosys_stat`], [`parse_nextpnr_report`],
//! [`parse_icetime`]) is separate from running, so it is unit-tested on
//! captured outputs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

/// A synthesis target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Target {
    /// Yosys' technology-independent `synth`, logic mapped to 4-input LUTs,
    /// memories kept as `$mem` cells.
    Generic,
    /// Lattice iCE40 UltraPlus 5K (SG48): 5280 LCs, 30 EBR (4 Kbit), 4 SPRAM (256 Kbit), 8 DSP.
    Ice40Up5k,
    /// Lattice iCE40 HX8K (CT256): 7680 LCs, 32 EBR (4 Kbit).
    Ice40Hx8k,
}

/// Resource capacity of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceCapacity {
    pub logic_cells: u64,
    pub bram: u64,
    pub spram: u64,
    pub dsp: u64,
}

impl Target {
    /// Every target, in CLI order.
    pub const ALL: [Target; 3] = [Target::Generic, Target::Ice40Up5k, Target::Ice40Hx8k];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
        }
    }

    /// Parses a CLI name (`_` and `-` interchangeable, case-insensitive).
    pub fn parse(s: &str) -> Option<Target> {
        let n = s.to_ascii_lowercase().replace('_', "-");
        Target::ALL.into_iter().find(|t| t.name() == n)
    }

    /// Whether the target is placed and routed (iCE40).
    pub fn is_ice40(self) -> bool {
        !matches!(self, Target::Generic)
    }

    /// Device, package (nextpnr arguments) and icetime device name.
    fn device(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Target::Generic => None,
            Target::Ice40Up5k => Some(("--up5k", "sg48", "up5k")),
            Target::Ice40Hx8k => Some(("--hx8k", "ct256", "hx8k")),
        }
    }

    /// The device's capacity (None for generic).
    pub fn capacity(self) -> Option<DeviceCapacity> {
        match self {
            Target::Generic => None,
            Target::Ice40Up5k => Some(DeviceCapacity { logic_cells: 5280, bram: 30, spram: 4, dsp: 8 }),
            Target::Ice40Hx8k => Some(DeviceCapacity { logic_cells: 7680, bram: 32, spram: 0, dsp: 0 }),
        }
    }

    /// Default nextpnr frequency target in MHz.
    pub fn default_freq_mhz(self) -> f64 {
        match self {
            Target::Generic | Target::Ice40Up5k => 30.0,
            Target::Ice40Hx8k => 50.0,
        }
    }

    /// The Yosys script that synthesizes `files` with top `top` and writes
    /// `stat -json` to `stat_json` (and the netlist to `netlist_json` if given).
    pub fn yosys_script(self, files: &[PathBuf], top: &str, stat_json: &Path, netlist_json: Option<&Path>) -> String {
        let mut s = String::new();
        for f in files {
            s.push_str(&format!("read_verilog -sv {}\n", f.display()));
        }
        match self {
            Target::Generic => {
                // `synth` through `coarse` infers memories (memory -nomap); the
                // fine-grained part is done here without memory_map, so
                // memories stay $mem cells instead of thousands of FFs.
                s.push_str(&format!("synth -top {top} -flatten -run begin:fine\n"));
                s.push_str("opt -fast -full\ntechmap\nopt -fast\nabc -lut 4\nopt -fast\nhierarchy -check\ncheck\n");
            }
            Target::Ice40Up5k => s.push_str(&format!("synth_ice40 -top {top} -spram\n")),
            Target::Ice40Hx8k => s.push_str(&format!("synth_ice40 -top {top}\n")),
        }
        s.push_str(&format!("tee -q -o {} stat -json\n", stat_json.display()));
        if let Some(n) = netlist_json {
            s.push_str(&format!("write_json {}\n", n.display()));
        }
        s
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Resources of a synthesized design (from Yosys `stat -json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// LUTs (SB_LUT4 / $lut).
    pub luts: u64,
    /// Flip-flops (every SB_DFF* / $_DFF*, $_SDFF*, $dff… cell, one per bit).
    pub ffs: u64,
    /// Carry cells (SB_CARRY).
    pub carries: u64,
    /// Block RAMs (SB_RAM40_4K).
    pub bram: u64,
    /// Single-port RAMs (SB_SPRAM256KA).
    pub spram: u64,
    /// DSPs (SB_MAC16).
    pub dsp: u64,
    /// Memories left unmapped (`$mem`/`$mem_v2` cells, generic target).
    pub memories: u64,
    /// Bits of those memories.
    pub memory_bits: u64,
    /// Every cell.
    pub cells: u64,
    /// Cell count by type.
    pub cell_types: BTreeMap<String, u64>,
}

/// Whether a Yosys cell type is a flip-flop.
fn is_ff(t: &str) -> bool {
    let t = t.trim_start_matches('$').trim_start_matches('_');
    let upper = t.to_ascii_uppercase();
    upper.starts_with("SB_DFF")
        || upper.starts_with("DFF")
        || upper.starts_with("SDFF")
        || upper.starts_with("ADFF")
        || upper.starts_with("ALDFF")
        || upper.starts_with("DFFSR")
        || upper == "TRELLIS_FF"
}

/// An error of the flow.
#[derive(Debug)]
pub enum FlowError {
    /// A tool is not installed.
    MissingTool { tool: &'static str, package: &'static str },
    /// A tool of the project venv (PyPI package) is not installed.
    MissingVenvTool { tool: String, package: &'static str, venv: PathBuf },
    /// A tool ran and failed.
    ToolFailed { tool: &'static str, log: PathBuf, tail: String },
    /// A file could not be read or written.
    Io { path: PathBuf, error: std::io::Error },
    /// A tool's output could not be understood.
    Parse(String),
    /// The design file or its top module was not found.
    Design(String),
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::MissingTool { tool, package } => write!(
                f,
                "`{tool}` was not found on PATH: install the Debian package `{package}` (sudo apt-get install {package}, or run ./scripts/setup.sh)"
            ),
            FlowError::MissingVenvTool { tool, package, venv } => write!(
                f,
                "`{tool}` was not found in {}/bin nor on PATH: run ./scripts/setup.sh, which installs the PyPI package `{package}` into the project venv .venv-fpga/",
                venv.display()
            ),
            FlowError::ToolFailed { tool, log, tail } => {
                write!(f, "{tool} failed (full log: {}):\n{tail}", log.display())
            }
            FlowError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            FlowError::Parse(m) => write!(f, "cannot parse tool output: {m}"),
            FlowError::Design(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FlowError {}

/// Parses the output of Yosys `stat -json` for module `top` (the
/// `design` totals if the module is not listed, e.g. after flattening).
pub fn parse_yosys_stat(text: &str, top: &str) -> Result<Resources, FlowError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FlowError::Parse(format!("yosys stat -json: {e}")))?;
    let module = v
        .get("modules")
        .and_then(|m| m.get(format!("\\{top}")).or_else(|| m.get(top)))
        .or_else(|| v.get("design"))
        .ok_or_else(|| FlowError::Parse(format!("yosys stat -json: no module {top} and no design totals")))?;
    let by_type = module
        .get("num_cells_by_type")
        .and_then(Value::as_object)
        .ok_or_else(|| FlowError::Parse("yosys stat -json: no num_cells_by_type".into()))?;
    let mut r = Resources {
        cells: module.get("num_cells").and_then(Value::as_u64).unwrap_or(0),
        memory_bits: module.get("num_memory_bits").and_then(Value::as_u64).unwrap_or(0),
        memories: module.get("num_memories").and_then(Value::as_u64).unwrap_or(0),
        ..Resources::default()
    };
    for (t, n) in by_type {
        let n = n.as_u64().ok_or_else(|| FlowError::Parse(format!("yosys stat -json: count of {t} is not a number")))?;
        r.cell_types.insert(t.clone(), n);
        match t.as_str() {
            "SB_LUT4" | "$lut" | "LUT4" => r.luts += n,
            "SB_CARRY" | "CCU2C" => r.carries += n,
            "SB_RAM40_4K" | "SB_RAM40_4KNR" | "SB_RAM40_4KNW" | "SB_RAM40_4KNRNW" | "DP16KD" | "PDPW16KD" => r.bram += n,
            "SB_SPRAM256KA" => r.spram += n,
            "SB_MAC16" | "MULT18X18D" => r.dsp += n,
            "$mem" | "$mem_v2" => r.memories += n,
            _ if is_ff(t) => r.ffs += n,
            _ => {}
        }
    }
    Ok(r)
}

/// One step of a critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathStep {
    /// `clk-to-q`, `routing`, `logic`, `setup`.
    pub kind: String,
    /// Delay of the step, ns.
    pub delay_ns: f64,
    /// Net (routing steps).
    pub net: String,
    /// Cell the step arrives at.
    pub to_cell: String,
}

/// The critical path of one clock domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    pub from: String,
    pub to: String,
    /// Total delay, ns.
    pub delay_ns: f64,
    pub steps: Vec<PathStep>,
}

impl CriticalPath {
    /// The distinct design nets along the path (harness and nextpnr-internal
    /// names dropped), in order: what the path goes through.
    pub fn signals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.steps {
            if s.net.is_empty() || s.net.starts_with('$') {
                continue;
            }
            // `dut.v16_SB_LUT4_O_10_I1[2]` -> `v16`
            let n = s.net.strip_prefix("dut.").unwrap_or(&s.net);
            let n = n.split("_SB_").next().unwrap_or(n);
            let n = n.split('[').next().unwrap_or(n).to_string();
            if out.last() != Some(&n) {
                out.push(n);
            }
        }
        out
    }
}

/// What nextpnr reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PnrReport {
    /// Fmax nextpnr achieved on the design clock, MHz.
    pub fmax_mhz: f64,
    /// The frequency target, MHz.
    pub target_mhz: f64,
    /// Device utilisation: resource -> (used, available); only resources in use.
    pub utilisation: BTreeMap<String, (u64, u64)>,
    /// The clock-to-clock critical path.
    pub critical_path: Option<CriticalPath>,
}

/// Parses nextpnr's `--report` JSON. The design clock is the one with the
/// lowest achieved frequency (the harness has exactly one).
pub fn parse_nextpnr_report(text: &str) -> Result<PnrReport, FlowError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FlowError::Parse(format!("nextpnr report: {e}")))?;
    let fmax = v
        .get("fmax")
        .and_then(Value::as_object)
        .ok_or_else(|| FlowError::Parse("nextpnr report: no fmax".into()))?;
    let mut best: Option<(f64, f64)> = None;
    for (_clk, f) in fmax {
        let a = f.get("achieved").and_then(Value::as_f64);
        let c = f.get("constraint").and_then(Value::as_f64);
        if let (Some(a), Some(c)) = (a, c) {
            if best.is_none_or(|(b, _)| a < b) {
                best = Some((a, c));
            }
        }
    }
    let (fmax_mhz, target_mhz) = best.ok_or_else(|| FlowError::Parse("nextpnr report: no clock in fmax".into()))?;
    let mut utilisation = BTreeMap::new();
    if let Some(u) = v.get("utilization").and_then(Value::as_object) {
        for (k, e) in u {
            let used = e.get("used").and_then(Value::as_u64).unwrap_or(0);
            let avail = e.get("available").and_then(Value::as_u64).unwrap_or(0);
            if used > 0 {
                utilisation.insert(k.clone(), (used, avail));
            }
        }
    }
    let mut critical_path = None;
    if let Some(paths) = v.get("critical_paths").and_then(Value::as_array) {
        for p in paths {
            let from = p.get("from").and_then(Value::as_str).unwrap_or("").to_string();
            let to = p.get("to").and_then(Value::as_str).unwrap_or("").to_string();
            if !(from.starts_with("posedge") && to.starts_with("posedge")) {
                continue;
            }
            let mut steps = Vec::new();
            for s in p.get("path").and_then(Value::as_array).into_iter().flatten() {
                steps.push(PathStep {
                    kind: s.get("type").and_then(Value::as_str).unwrap_or("").to_string(),
                    delay_ns: s.get("delay").and_then(Value::as_f64).unwrap_or(0.0),
                    net: s.get("net").and_then(Value::as_str).unwrap_or("").to_string(),
                    to_cell: s.pointer("/to/cell").and_then(Value::as_str).unwrap_or("").to_string(),
                });
            }
            let delay_ns = steps.iter().map(|s| s.delay_ns).sum();
            critical_path = Some(CriticalPath { from, to, delay_ns, steps });
            break;
        }
    }
    Ok(PnrReport { fmax_mhz, target_mhz, utilisation, critical_path })
}

/// Parses icetime's `Total path delay: 48.27 ns (20.72 MHz)`; returns MHz.
pub fn parse_icetime(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("Total path delay"))?;
    let open = line.rfind('(')?;
    let mhz = line[open + 1..].trim_end_matches(|c: char| c == ')' || c.is_whitespace());
    mhz.strip_suffix("MHz")?.trim().parse().ok()
}

/// A port of the top module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub width: u32,
    pub output: bool,
}

/// Ports of `module`, in declaration order, from its port manifest
/// `<module>.ports.json` next to `verilog` (written by `export-rtl` from the
/// generator's own port list, `crate::ports`): the flow never parses Verilog
/// text for ports.
pub fn manifest_ports(verilog: &Path, module: &str) -> Result<Vec<Port>, FlowError> {
    let path = verilog.with_file_name(crate::ports::Manifest::file_name(module));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        FlowError::Design(format!("cannot read the port manifest {} ({e}); export it with `spikehdl export-rtl`", path.display()))
    })?;
    ports_of_manifest(&text, module).map_err(|e| FlowError::Design(format!("{}: {e}", path.display())))
}

/// The ports of a manifest's JSON text; errors name the field.
pub fn ports_of_manifest(text: &str, module: &str) -> Result<Vec<Port>, String> {
    let m: crate::ports::Manifest = serde_json::from_str(text).map_err(|e| format!("not a port manifest: {e}"))?;
    if m.module != module {
        return Err(format!("module is {:?}, expected {module:?}", m.module));
    }
    if m.ports.is_empty() {
        return Err(format!("ports: empty (module {module})"));
    }
    m.ports
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p.dir {
            crate::ports::Dir::In => Ok(Port { name: p.name, width: p.width, output: false }),
            crate::ports::Dir::Out => Ok(Port { name: p.name, width: p.width, output: true }),
            crate::ports::Dir::InOut => Err(format!("ports[{i}] ({}): dir inout; a top's ports are in or out", p.name)),
        })
        .collect()
}

/// Name of the generated harness module.
pub const HARNESS_TOP: &str = "spikehdl_synth_harness";

/// Pin names of a generated harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HarnessPins<'a> {
    /// Module name of the harness.
    pub top: &'a str,
    /// Clock pin (drives the design's `clock`/`clk` port).
    pub clk: &'a str,
    /// Serial input of the input shift register.
    pub sin: &'a str,
    /// Parallel-load pin of the output register; `None`: one more input
    /// shift-register bit drives the load (no pin).
    pub load: Option<&'a str>,
    /// Serial output.
    pub sout: &'a str,
    /// An extra output pin showing the last output bit (a board LED).
    pub led: Option<&'a str>,
}

/// The pins of [`harness`]: `clk`, `sin`, `load`, `sout`.
pub const SYNTH_HARNESS_PINS: HarnessPins<'static> =
    HarnessPins { top: HARNESS_TOP, clk: "clk", sin: "sin", load: Some("load"), sout: "sout", led: None };

/// A 4-pin harness around `module` for place and route: the clock port
/// (`clock` or `clk`) is driven by pin `clk`; every other input bit comes from
/// a shift register fed by `sin`; every output bit is captured into a
/// register that `load` parallel-loads and otherwise shifts out on `sout`.
pub fn harness(module: &str, ports: &[Port]) -> Result<String, FlowError> {
    harness_with(module, ports, &SYNTH_HARNESS_PINS)
}

/// [`harness`] with other pin names (e.g. a board's `clock`, `uart_rx`,
/// `uart_tx`, `led`, for a stand-in board top).
pub fn harness_with(module: &str, ports: &[Port], pins: &HarnessPins) -> Result<String, FlowError> {
    let is_clock = |p: &Port| !p.output && p.width == 1 && (p.name == "clock" || p.name == "clk");
    if !ports.iter().any(is_clock) {
        return Err(FlowError::Design(format!("module {module} has no `clock` input")));
    }
    let n_in: u32 = ports.iter().filter(|p| !p.output && !is_clock(p)).map(|p| p.width).sum();
    let n_out: u32 = ports.iter().filter(|p| p.output).map(|p| p.width).sum();
    if n_in == 0 || n_out == 0 {
        return Err(FlowError::Design(format!("module {module} needs at least one input and one output")));
    }
    // Without a load pin, the input shift register has one more bit: the load.
    let n_isr = if pins.load.is_some() { n_in } else { n_in + 1 };
    let HarnessPins { top, clk, sin, sout, .. } = *pins;
    let mut v = String::new();
    v.push_str("// generated by spikehdl: pin-limited harness for place and route\n");
    let mut pin_decl = format!("input wire {clk}, input wire {sin}, ");
    if let Some(l) = pins.load {
        pin_decl.push_str(&format!("input wire {l}, "));
    }
    pin_decl.push_str(&format!("output wire {sout}"));
    if let Some(l) = pins.led {
        pin_decl.push_str(&format!(", output wire {l}"));
    }
    v.push_str(&format!("module {top}({pin_decl});\n"));
    v.push_str(&format!("    reg [{}:0] isr;\n    reg [{}:0] osr;\n    wire [{}:0] o;\n", n_isr.max(2) - 1, n_out - 1, n_out - 1));
    if n_isr >= 2 {
        v.push_str(&format!("    always @(posedge {clk}) isr <= {{isr[{}:0], {sin}}};\n", n_isr - 2));
    } else {
        v.push_str(&format!("    always @(posedge {clk}) isr <= {{isr[0], {sin}}};\n"));
    }
    let load = match pins.load {
        Some(l) => l.to_string(),
        None => format!("isr[{n_in}]"),
    };
    if n_out >= 2 {
        v.push_str(&format!("    always @(posedge {clk}) osr <= {load} ? o : {{1'b0, osr[{}:1]}};\n", n_out - 1));
    } else {
        v.push_str(&format!("    always @(posedge {clk}) osr <= o;\n"));
    }
    v.push_str(&format!("    assign {sout} = osr[0];\n"));
    if let Some(l) = pins.led {
        v.push_str(&format!("    assign {l} = osr[{}];\n", n_out - 1));
    }
    v.push_str(&format!("    {module} dut(\n"));
    let (mut bi, mut bo) = (0u32, 0u32);
    let mut conns = Vec::new();
    for p in ports {
        if is_clock(p) {
            conns.push(format!("        .{}({clk})", p.name));
        } else if p.output {
            conns.push(format!("        .{}(o[{}:{}])", p.name, bo + p.width - 1, bo));
            bo += p.width;
        } else {
            conns.push(format!("        .{}(isr[{}:{}])", p.name, bi + p.width - 1, bi));
            bi += p.width;
        }
    }
    v.push_str(&conns.join(",\n"));
    v.push_str("\n    );\nendmodule\n");
    Ok(v)
}

/// What to synthesize.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    pub target: Target,
    /// The Verilog file of the design (`rtl/<top>.v`).
    pub rtl_file: PathBuf,
    /// Its top module.
    pub top: String,
    /// Directory for every intermediate file and log.
    pub work_dir: PathBuf,
    /// Run nextpnr (iCE40 targets); false stops after Yosys.
    pub place_and_route: bool,
    /// nextpnr frequency target, MHz.
    pub freq_mhz: f64,
    /// nextpnr seed.
    pub seed: u64,
}

/// The result of a flow run.
#[derive(Debug, Clone, Serialize)]
pub struct SynthReport {
    pub target: Target,
    pub design: String,
    pub rtl_file: String,
    /// Resources of the design alone (Yosys).
    pub resources: Resources,
    pub device: Option<DeviceCapacity>,
    /// nextpnr results (iCE40 with place and route), of the design in its harness.
    pub pnr: Option<PnrReport>,
    /// icetime's estimate of the routed design, MHz.
    pub icetime_mhz: Option<f64>,
    /// Whether nextpnr met the frequency target.
    pub timing_met: Option<bool>,
    /// Tool versions.
    pub tools: BTreeMap<String, String>,
    /// Seconds spent in each step.
    pub seconds: BTreeMap<String, f64>,
    pub work_dir: String,
}

/// Checks that `tool` runs; the error names its Debian package.
pub fn require_tool(tool: &'static str, package: &'static str, version_arg: &str) -> Result<String, FlowError> {
    match Command::new(tool).arg(version_arg).output() {
        Ok(o) => {
            let s = String::from_utf8_lossy(if o.stdout.is_empty() { &o.stderr } else { &o.stdout }).to_string();
            Ok(s.lines().next().unwrap_or("").trim().to_string())
        }
        Err(_) => Err(FlowError::MissingTool { tool, package }),
    }
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), FlowError> {
    std::fs::write(path, text).map_err(|error| FlowError::Io { path: path.into(), error })
}

pub(crate) fn read(path: &Path) -> Result<String, FlowError> {
    std::fs::read_to_string(path).map_err(|error| FlowError::Io { path: path.into(), error })
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `cmd` in `dir`, logging stdout+stderr to `log`; fails with the log's tail.
pub(crate) fn run_tool(tool: &'static str, cmd: &mut Command, dir: &Path, log: &Path) -> Result<String, FlowError> {
    let out = cmd.current_dir(dir).output().map_err(|error| FlowError::Io { path: PathBuf::from(tool), error })?;
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    write(log, &text)?;
    if !out.status.success() {
        return Err(FlowError::ToolFailed { tool, log: log.into(), tail: tail(&text, 25) });
    }
    Ok(text)
}

/// Runs the flow.
pub fn run(o: &FlowOptions) -> Result<SynthReport, FlowError> {
    let mut tools = BTreeMap::new();
    tools.insert("yosys".into(), require_tool("yosys", "yosys", "-V")?);
    if o.target.is_ice40() && o.place_and_route {
        tools.insert("nextpnr-ice40".into(), require_tool("nextpnr-ice40", "nextpnr-ice40", "--version")?);
        require_tool("icepack", "fpga-icestorm", "-h")?;
        require_tool("icetime", "fpga-icestorm", "-h")?;
    }
    let rtl = std::fs::canonicalize(&o.rtl_file).map_err(|error| FlowError::Io { path: o.rtl_file.clone(), error })?;
    let ports = manifest_ports(&rtl, &o.top)?;
    std::fs::create_dir_all(&o.work_dir).map_err(|error| FlowError::Io { path: o.work_dir.clone(), error })?;
    let dir = std::fs::canonicalize(&o.work_dir).map_err(|error| FlowError::Io { path: o.work_dir.clone(), error })?;
    let mut seconds = BTreeMap::new();

    // 1. The design alone.
    let t0 = Instant::now();
    let stat = dir.join("design_stat.json");
    let script = o.target.yosys_script(std::slice::from_ref(&rtl), &o.top, &stat, None);
    write(&dir.join("design.ys"), &script)?;
    run_tool("yosys", Command::new("yosys").args(["-q", "-s", "design.ys"]), &dir, &dir.join("design_yosys.log"))?;
    let resources = parse_yosys_stat(&read(&stat)?, &o.top)?;
    seconds.insert("yosys".into(), t0.elapsed().as_secs_f64());

    let mut report = SynthReport {
        target: o.target,
        design: o.top.clone(),
        rtl_file: o.rtl_file.display().to_string(),
        resources,
        device: o.target.capacity(),
        pnr: None,
        icetime_mhz: None,
        timing_met: None,
        tools,
        seconds,
        work_dir: dir.display().to_string(),
    };
    let Some((dev, package, icetime_dev)) = o.target.device() else { return Ok(report) };
    if !o.place_and_route {
        return Ok(report);
    }

    // 2. The design in its harness.
    let t1 = Instant::now();
    let hfile = dir.join("harness.v");
    write(&hfile, &harness(&o.top, &ports)?)?;
    let hstat = dir.join("harness_stat.json");
    let netlist = dir.join("harness.json");
    let script = o.target.yosys_script(&[rtl.clone(), hfile], HARNESS_TOP, &hstat, Some(&netlist));
    write(&dir.join("harness.ys"), &script)?;
    run_tool("yosys", Command::new("yosys").args(["-q", "-s", "harness.ys"]), &dir, &dir.join("harness_yosys.log"))?;
    report.seconds.insert("yosys_harness".into(), t1.elapsed().as_secs_f64());

    // 3. Place and route, pack, time.
    let t2 = Instant::now();
    let rep = dir.join("nextpnr_report.json");
    run_tool(
        "nextpnr-ice40",
        Command::new("nextpnr-ice40")
            .args([dev, "--package", package, "--json", "harness.json", "--asc", "harness.asc", "--report", "nextpnr_report.json"])
            .args(["--freq", &format!("{}", o.freq_mhz), "--seed", &o.seed.to_string(), "--timing-allow-fail", "-q"]),
        &dir,
        &dir.join("nextpnr.log"),
    )?;
    let pnr = parse_nextpnr_report(&read(&rep)?)?;
    report.timing_met = Some(pnr.fmax_mhz >= pnr.target_mhz);
    report.pnr = Some(pnr);
    report.seconds.insert("nextpnr".into(), t2.elapsed().as_secs_f64());
    let t3 = Instant::now();
    run_tool("icepack", Command::new("icepack").args(["harness.asc", "harness.bin"]), &dir, &dir.join("icepack.log"))?;
    let it = run_tool(
        "icetime",
        Command::new("icetime").args(["-d", icetime_dev, "-i", "-t", "harness.asc"]),
        &dir,
        &dir.join("icetime.log"),
    )?;
    report.icetime_mhz = parse_icetime(&it);
    report.seconds.insert("icepack_icetime".into(), t3.elapsed().as_secs_f64());
    Ok(report)
}

/// The report as a human-readable table.
pub fn format_report(r: &SynthReport) -> String {
    let mut s = String::new();
    let res = &r.resources;
    s.push_str(&format!("design {} ({}) on {}\n", r.design, r.rtl_file, r.target));
    let cap = r.device;
    let row = |name: &str, used: u64, avail: Option<u64>| match avail {
        Some(a) if a > 0 => format!("  {name:<28} {used:>8} / {a:<6} {:>5.1}%\n", 100.0 * used as f64 / a as f64),
        _ => format!("  {name:<28} {used:>8}\n"),
    };
    s.push_str("  resource (Yosys, design alone)    used\n");
    s.push_str(&row("LUTs (LUT4)", res.luts, cap.map(|c| c.logic_cells)));
    s.push_str(&row("flip-flops", res.ffs, cap.map(|c| c.logic_cells)));
    if r.target.is_ice40() {
        s.push_str(&row("carry cells (SB_CARRY)", res.carries, None));
        s.push_str(&row("block RAM (SB_RAM40_4K)", res.bram, cap.map(|c| c.bram)));
        s.push_str(&row("SPRAM (SB_SPRAM256KA)", res.spram, cap.map(|c| c.spram)));
        s.push_str(&row("DSP (SB_MAC16)", res.dsp, cap.map(|c| c.dsp)));
    }
    if res.memories > 0 {
        s.push_str(&row("memories kept as $mem cells", res.memories, None));
    }
    s.push_str(&row("total cells", res.cells, None));
    if let Some(p) = &r.pnr {
        s.push_str("  place and route (nextpnr, design in a 4-pin harness)\n");
        for (k, (u, a)) in &p.utilisation {
            s.push_str(&row(k, *u, Some(*a)));
        }
        s.push_str(&format!(
            "  Fmax {:.2} MHz (target {:.2} MHz: {})",
            p.fmax_mhz,
            p.target_mhz,
            if p.fmax_mhz >= p.target_mhz { "met" } else { "NOT met" }
        ));
        if let Some(m) = r.icetime_mhz {
            s.push_str(&format!("; icetime {m:.2} MHz"));
        }
        s.push('\n');
        if let Some(cp) = &p.critical_path {
            s.push_str(&format!("  critical path {:.2} ns through: {}\n", cp.delay_ns, cp.signals().join(" -> ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = r#"{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "invocation": "stat -json ",
   "modules": {
      "\\layer_core_tiny": {
         "num_wires":         1007,
         "num_memories":      0,
         "num_memory_bits":   0,
         "num_processes":     0,
         "num_cells":         2270,
         "num_cells_by_type": {
            "SB_CARRY": 348,
            "SB_DFF": 281,
            "SB_DFFE": 231,
            "SB_DFFESR": 42,
            "SB_DFFSR": 8,
            "SB_LUT4": 1353,
            "SB_RAM40_4K": 7
         }
      }
   },
      "design": {
         "num_cells":         2270,
         "num_cells_by_type": { "SB_LUT4": 1353 }
      }
}"#;

    #[test]
    fn yosys_stat_ice40() {
        let r = parse_yosys_stat(STAT, "layer_core_tiny").unwrap();
        assert_eq!(r.luts, 1353);
        assert_eq!(r.ffs, 281 + 231 + 42 + 8);
        assert_eq!(r.carries, 348);
        assert_eq!(r.bram, 7);
        assert_eq!(r.spram, 0);
        assert_eq!(r.cells, 2270);
        assert_eq!(r.cell_types["SB_DFFE"], 231);
    }

    #[test]
    fn yosys_stat_ecp5() {
        // Yosys 0.70 (yowasp) after synth_ecp5.
        let text = r#"{"modules": {"\\top": {"num_cells": 20, "num_cells_by_type":
            {"LUT4": 9, "TRELLIS_FF": 5, "CCU2C": 2, "DP16KD": 3, "MULT18X18D": 1}}}}"#;
        let r = parse_yosys_stat(text, "top").unwrap();
        assert_eq!((r.luts, r.ffs, r.carries, r.bram, r.dsp), (9, 5, 2, 3, 1));
    }

    #[test]
    fn yosys_stat_generic_and_design_fallback() {
        let text = r#"{"modules": {"\\other": {}}, "design": {"num_cells": 10, "num_memories": 2, "num_memory_bits": 4096,
            "num_cells_by_type": {"$lut": 5, "$_DFF_P_": 2, "$_SDFFE_PP0P_": 1, "$mem_v2": 2}}}"#;
        let r = parse_yosys_stat(text, "top").unwrap();
        assert_eq!((r.luts, r.ffs, r.memories, r.memory_bits, r.cells), (5, 3, 4, 4096, 10));
        assert!(parse_yosys_stat("not json", "top").is_err());
        assert!(parse_yosys_stat("{}", "top").is_err());
    }

    const REPORT: &str = r#"{
 "critical_paths": [
  {"from": "<async>", "to": "posedge clk", "path": [{"type": "source", "delay": 0.0, "from": {"cell": "a"}, "to": {"cell": "b"}}]},
  {"from": "posedge clk$SB_IO_IN_$glb_clk", "to": "posedge clk$SB_IO_IN_$glb_clk", "path": [
    {"type": "clk-to-q", "delay": 1.39, "from": {"cell": "x"}, "to": {"cell": "core.fw_addr.q_SB_DFF_Q_5_DFFLC"}},
    {"type": "routing", "delay": 2.30, "net": "dut.fw_addr.q[4]", "from": {"cell": "x"}, "to": {"cell": "c1"}},
    {"type": "logic", "delay": 0.87, "from": {"cell": "c1"}, "to": {"cell": "c1"}},
    {"type": "routing", "delay": 1.76, "net": "dut.v16_SB_LUT4_O_10_I1[2]", "from": {"cell": "c1"}, "to": {"cell": "c2"}},
    {"type": "routing", "delay": 1.00, "net": "dut.v16[1]", "from": {"cell": "c2"}, "to": {"cell": "c3"}},
    {"type": "routing", "delay": 1.00, "net": "$nextpnr_ICESTORM_LC_13$I3", "from": {"cell": "c3"}, "to": {"cell": "c4"}},
    {"type": "setup", "delay": 1.23, "from": {"cell": "c4"}, "to": {"cell": "c5"}}
  ]}
 ],
 "fmax": {"clk$SB_IO_IN_$glb_clk": {"achieved": 16.345478057861328, "constraint": 30}},
 "utilization": {"ICESTORM_DSP": {"available": 8, "used": 0}, "ICESTORM_LC": {"available": 5280, "used": 1919},
                 "ICESTORM_RAM": {"available": 30, "used": 7}}
}"#;

    #[test]
    fn nextpnr_report() {
        let r = parse_nextpnr_report(REPORT).unwrap();
        assert!((r.fmax_mhz - 16.3455).abs() < 1e-3);
        assert_eq!(r.target_mhz, 30.0);
        assert_eq!(r.utilisation.get("ICESTORM_LC"), Some(&(1919, 5280)));
        assert_eq!(r.utilisation.get("ICESTORM_RAM"), Some(&(7, 30)));
        assert!(!r.utilisation.contains_key("ICESTORM_DSP"));
        let cp = r.critical_path.unwrap();
        assert_eq!(cp.steps.len(), 7);
        assert!((cp.delay_ns - 9.55).abs() < 1e-6);
        assert_eq!(cp.signals(), vec!["fw_addr.q", "v16"]);
        assert!(parse_nextpnr_report("{}").is_err());
    }

    #[test]
    fn icetime_total_path_delay() {
        let t = "// Reading input .asc file..\nTotal number of logic levels: 25\nTotal path delay: 48.27 ns (20.72 MHz)\n";
        assert_eq!(parse_icetime(t), Some(20.72));
        assert_eq!(parse_icetime("nothing"), None);
    }

    #[test]
    fn ports_and_harness() {
        let v = r#"{"module": "m", "ports": [{"name": "clock", "dir": "in", "width": 1}, {"name": "a", "dir": "in", "width": 4},
            {"name": "b", "dir": "in", "width": 1}, {"name": "y", "dir": "out", "width": 8}]}"#;
        let ports = ports_of_manifest(v, "m").unwrap();
        assert_eq!(ports.len(), 4);
        assert_eq!(ports[1], Port { name: "a".into(), width: 4, output: false });
        assert!(ports[3].output);
        let h = harness("m", &ports).unwrap();
        assert!(h.contains(".clock(clk)"), "{h}");
        assert!(h.contains(".a(isr[3:0])"), "{h}");
        assert!(h.contains(".b(isr[4:4])"), "{h}");
        assert!(h.contains(".y(o[7:0])"), "{h}");
        assert!(h.contains("reg [4:0] isr;"), "{h}");
        assert!(ports_of_manifest(v, "nope").unwrap_err().contains("expected \"nope\""));
        let e = ports_of_manifest(&v.replace("\"out\"", "\"inout\""), "m").unwrap_err();
        assert!(e.contains("ports[3] (y)"), "{e}");
        assert!(harness("m", &ports[1..]).is_err());
    }

    #[test]
    fn targets() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.name()), Some(t));
        }
        assert_eq!(Target::parse("ICE40_UP5K"), Some(Target::Ice40Up5k));
        assert_eq!(Target::parse("xc7"), None);
        let s = Target::Ice40Up5k.yosys_script(&[PathBuf::from("a.v")], "top", Path::new("s.json"), None);
        assert!(s.contains("synth_ice40 -top top -spram"));
        let g = Target::Generic.yosys_script(&[PathBuf::from("a.v")], "top", Path::new("s.json"), None);
        assert!(g.contains("-run begin:fine") && !g.contains("memory_map"));
    }

    #[test]
    fn missing_tool_names_package() {
        let e = require_tool("spikehdl-no-such-tool", "some-package", "-V").unwrap_err();
        assert!(e.to_string().contains("Debian package `some-package`"), "{e}");
    }
}
