//! `spikehdl export-rtl [--out DIR]`: writes the Verilog of every core preset.

use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Output directory (the committed copy lives in rtl/).
    #[arg(long, default_value = "rtl")]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<u8> {
    let paths = spikehdl_hdl::export::export_all(&a.out)?;
    for p in &paths {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!("wrote {} ({} bytes)", p.display(), size);
    }
    Ok(crate::EXIT_OK)
}
