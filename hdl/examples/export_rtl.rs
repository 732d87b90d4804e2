//! Regenerates `rtl/*.v` (the same as `spikehdl export-rtl`):
//! `cargo run -p spikehdl-hdl --example export_rtl`.
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtl");
    match spikehdl_hdl::export::export_all(&dir) {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
