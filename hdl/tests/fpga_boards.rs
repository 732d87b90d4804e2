//! Board builds (`spikehdl fpga build`): the files of the board table are
//! consistent (no tool runs), the iCEBreaker bitstream is built end to end
//! on the real tools (about 2 minutes) and meets timing, and so does the
//! ULX3S one (`#[ignore]`d: the WebAssembly ECP5 tools take most of an hour
//! for the 9-core chip, see docs/fpga.md):
//! `cargo test --release -p spikehdl-hdl --test fpga_boards -- --ignored --nocapture`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use spikehdl_hdl::fpga::manifest_ports;
use spikehdl_hdl::fpga_board::{build, stand_in, BoardSource, BuildOptions, Device, BOARDS, BOARD_PINS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Port names of `module` in a hand-written ANSI-style Verilog file
/// (`input wire NAME,` / `output wire [1:0] NAME`), bit-blasted (`led[0]`).
fn ansi_ports(v: &str, module: &str) -> BTreeSet<String> {
    let start = v.find(&format!("module {module}(")).unwrap_or_else(|| panic!("module {module} not found"));
    let header = &v[start..start + v[start..].find(");").unwrap()];
    let mut out = BTreeSet::new();
    for line in header.lines().skip(1) {
        let l = line.trim().trim_end_matches(',');
        let Some(rest) = l.strip_prefix("input wire ").or_else(|| l.strip_prefix("output wire ")) else { continue };
        if let Some(r) = rest.strip_prefix('[') {
            let (range, name) = r.split_once(']').unwrap();
            let msb: u32 = range.split(':').next().unwrap().parse().unwrap();
            for i in 0..=msb {
                out.insert(format!("{}[{i}]", name.trim()));
            }
        } else {
            out.insert(rest.trim().to_string());
        }
    }
    out
}

/// Pins named by a constraint file: pcf `set_io [-nowarn] NAME PIN`, lpf `LOCATE COMP "NAME" SITE "X";`.
fn constrained(cons: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in cons.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if let Some(r) = l.strip_prefix("set_io") {
            let name = r.split_whitespace().find(|w| !w.starts_with('-')).unwrap();
            out.insert(name.to_string());
        } else if let Some(r) = l.strip_prefix("LOCATE COMP \"") {
            out.insert(r.split('"').next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn constraint_files_name_exactly_the_wrapper_pins() {
    for b in BOARDS {
        let wrapper = ansi_ports(&text(b.wrapper_file), b.wrapper_top);
        let pins = constrained(&text(b.constraints_file));
        assert!(!pins.is_empty(), "{}", b.constraints_file);
        assert_eq!(pins, wrapper, "{}: {} vs {}", b.name, b.constraints_file, b.wrapper_file);
    }
}

#[test]
fn wrapper_instantiates_the_board_top_with_its_pins() {
    for b in BOARDS {
        let v = text(b.wrapper_file);
        let inst = v.find(&format!("{} board(", b.board_module)).unwrap_or_else(|| panic!("{}: no {} instance", b.wrapper_file, b.board_module));
        let body = &v[inst..inst + v[inst..].find(");").unwrap()];
        let conns: BTreeSet<&str> = body.split('.').skip(1).map(|c| c.split('(').next().unwrap()).collect();
        let want: BTreeSet<&str> = [BOARD_PINS.clk, BOARD_PINS.sin, BOARD_PINS.sout, BOARD_PINS.led.unwrap()].into();
        assert_eq!(conns, want, "{}", b.wrapper_file);
        // The board top (or its stand-in) has exactly these ports.
        let names: BTreeSet<String> = match b.board_source {
            BoardSource::StandIn { top } => {
                let sv = stand_in(b.board_module, top, &manifest_ports(&root().join(format!("rtl/{top}.v")), top).unwrap()).unwrap();
                let start = sv.find(&format!("module {}(", b.board_module)).unwrap();
                let header = &sv[start + b.board_module.len() + 8..];
                let header = &header[..header.find(");").unwrap()];
                header.split(',').map(|d| d.split_whitespace().last().unwrap().to_string()).collect()
            }
            BoardSource::Rtl => {
                manifest_ports(&root().join(format!("rtl/{}.v", b.board_module)), b.board_module).unwrap().into_iter().map(|p| p.name).collect()
            }
        };
        assert_eq!(names, want.iter().map(|s| s.to_string()).collect(), "{}", b.name);
    }
}

fn param(v: &str, name: &str) -> u64 {
    let i = v.find(&format!(".{name}(")).unwrap_or_else(|| panic!("parameter {name} not found"));
    let val = &v[i + name.len() + 2..];
    let val = &val[..val.find(')').unwrap()];
    match val.split_once("'b") {
        Some((_, bin)) => u64::from_str_radix(bin, 2).unwrap(),
        None => val.trim().parse().unwrap(),
    }
}

#[test]
fn pll_parameters_give_the_fabric_clock_of_the_table() {
    for b in BOARDS {
        let v = text(b.wrapper_file);
        match b.device {
            Device::Ice40Up5kSg48 if !v.contains("SB_PLL40") => {
                // No PLL: the board top runs on the oscillator pin itself.
                assert_eq!(b.osc_hz, b.fabric_hz(), "{}: no PLL in {}", b.name, b.wrapper_file);
                assert!(v.contains(".clock(CLK)"), "{}", b.wrapper_file);
            }
            Device::Ice40Up5kSg48 => {
                assert!(v.contains("SB_PLL40_PAD") && v.contains(".FEEDBACK_PATH(\"SIMPLE\")"));
                let (divr, divf, divq) = (param(&v, "DIVR"), param(&v, "DIVF"), param(&v, "DIVQ"));
                // iCE40 sysCLOCK PLL, simple feedback: PFD = in/(DIVR+1) in 10..133 MHz,
                // VCO = PFD·(DIVF+1) in 533..1066 MHz, out = VCO / 2^DIVQ.
                let pfd = b.osc_hz / (divr + 1);
                let vco = pfd * (divf + 1);
                assert!((10_000_000..=133_000_000).contains(&pfd), "{} PFD {pfd}", b.name);
                assert!((533_000_000..=1_066_000_000).contains(&vco), "{} VCO {vco}", b.name);
                assert_eq!(vco >> divq, b.fabric_hz(), "{}", b.name);
            }
            Device::Ecp5_85kCabga381 => {
                assert!(v.contains("EHXPLLL") && v.contains(".FEEDBK_PATH(\"CLKOP\")"));
                let (ci, fb, op) = (param(&v, "CLKI_DIV"), param(&v, "CLKFB_DIV"), param(&v, "CLKOP_DIV"));
                // ECP5 EHXPLLL, CLKOP feedback: out = in·CLKFB_DIV/CLKI_DIV, VCO = out·CLKOP_DIV in 400..800 MHz.
                assert_eq!(b.osc_hz * fb / ci, b.fabric_hz(), "{}", b.name);
                let vco = b.fabric_hz() * op;
                assert!((400_000_000..=800_000_000).contains(&vco), "{} VCO {vco}", b.name);
                assert!(v.contains(&format!("FREQUENCY_PIN_CLKOP=\"{}\"", b.fabric_hz() / 1_000_000)), "{}", b.name);
            }
        }
    }
}

fn full_build(name: &str) {
    let b = spikehdl_hdl::fpga_board::board(name).unwrap();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fpga-board-{name}"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let r = build(&BuildOptions { board: b, seed: 1, out_dir, root: root() }).unwrap_or_else(|e| panic!("{e}"));
    println!("{r}");
    assert!(std::fs::metadata(&r.bitstream).unwrap().len() > 100_000, "{}", r.bitstream);
    assert!(r.resources.luts > 0 && r.resources.bram > 0);
    assert!(r.resources.luts <= r.capacity.logic_cells && r.resources.bram <= r.capacity.bram);
    assert!(r.timing_met, "{name}: Fmax {:.2} MHz < {:.2} MHz", r.pnr.fmax_mhz, r.fabric_mhz);
}

#[test]
fn icebreaker_full_build_meets_timing() {
    full_build("icebreaker");
}

#[test]
#[ignore = "synthesis, place and route of the 9-core ULX3S design with the WebAssembly ECP5 tools: most of an hour"]
fn ulx3s_full_build_meets_timing() {
    full_build("ulx3s-85f");
}
