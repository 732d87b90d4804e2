//! The committed `rtl/*.v` equal what the generator renders now, byte for byte.

use std::path::PathBuf;

use spikehdl_hdl::chip_regmap::CHIP_PRESETS;
use spikehdl_hdl::boards::BOARDS;
use spikehdl_hdl::export::{render, render_board, render_chip};
use spikehdl_hdl::presets::PRESETS;

#[test]
fn committed_rtl_is_fresh() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl");
    let mut stale = Vec::new();
    for p in PRESETS {
        let text = render(p).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(p.file_name());
        assert!(text.len() < 2 << 20, "{} is {} bytes (limit 2 MiB)", path.display(), text.len());
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == text => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    for c in CHIP_PRESETS {
        let text = render_chip(c).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(c.file_name());
        assert!(text.len() < 2 << 20, "{} is {} bytes (limit 2 MiB)", path.display(), text.len());
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == text => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    for b in BOARDS {
        let text = render_board(b, b.default_baud).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(b.file_name());
        assert!(text.len() < 2 << 20, "{} is {} bytes (limit 2 MiB)", path.display(), text.len());
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == text => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(stale.is_empty(), "rtl/ is stale: run `cargo run -- export-rtl`\n{}", stale.join("\n"));
}
