//! The committed `rtl/*.v` equal what the generator renders now, byte for byte.

use std::path::PathBuf;

use spikehdl_hdl::chip_regmap::CHIP_PRESETS;
use spikehdl_hdl::boards::BOARDS;
use spikehdl_hdl::export::{render, render_board, render_chip, Rendered};
use spikehdl_hdl::ports::Manifest;
use spikehdl_hdl::presets::PRESETS;

#[test]
fn committed_rtl_is_fresh() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl");
    let mut stale = Vec::new();
    for p in PRESETS {
        compare(&dir, &p.file_name(), &render(p).unwrap_or_else(|e| panic!("{e}")), &mut stale);
    }
    for c in CHIP_PRESETS {
        compare(&dir, &c.file_name(), &render_chip(c).unwrap_or_else(|e| panic!("{e}")), &mut stale);
    }
    for b in BOARDS {
        compare(&dir, &b.file_name(), &render_board(b, b.default_baud).unwrap_or_else(|e| panic!("{e}")), &mut stale);
    }
    assert!(stale.is_empty(), "rtl/ is stale: run `cargo run -- export-rtl`\n{}", stale.join("\n"));
}

/// Compares the committed Verilog and port manifest of one top with a fresh render.
fn compare(dir: &std::path::Path, verilog_name: &str, r: &Rendered, stale: &mut Vec<String>) {
    for (name, text) in [(verilog_name.to_string(), &r.verilog), (Manifest::file_name(&r.manifest.module), &r.manifest.to_json())] {
        let path = dir.join(name);
        assert!(text.len() < 2 << 20, "{} is {} bytes (limit 2 MiB)", path.display(), text.len());
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == *text => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
}

#[test]
fn manifests_list_flat_ports_with_widths() {
    let r = render_chip(spikehdl_hdl::chip_regmap::chip("chip_tiny").expect("tiny chip")).unwrap_or_else(|e| panic!("{e}"));
    let m = &r.manifest;
    assert_eq!(m.module, "chip_tiny");
    let port = |n: &str| m.ports.iter().find(|p| p.name == n).unwrap_or_else(|| panic!("no port {n} in {:?}", m.ports));
    assert_eq!((port("clock").width, port("clock").dir), (1, spikehdl_hdl::ports::Dir::In));
    assert_eq!((port("out_ready").width, port("out_ready").dir), (1, spikehdl_hdl::ports::Dir::In));
    assert_eq!((port("out_valid").width, port("out_valid").dir), (1, spikehdl_hdl::ports::Dir::Out));
    assert_eq!(port("cfg_addr").width as usize, spikehdl_hdl::chip_regmap::CHIP_CFG_ADDR_BITS);
    assert_eq!(port("obs0_item").width, 47);
    // Every port the Verilog declares is in the manifest, in the same order.
    let header = r.verilog.lines().find(|l| l.starts_with("module chip_tiny(")).expect("module line");
    let names: Vec<&str> = header.trim_start_matches("module chip_tiny(").trim_end_matches(");").split(',').collect();
    assert_eq!(names, m.ports.iter().map(|p| p.name.as_str()).collect::<Vec<_>>());
}
