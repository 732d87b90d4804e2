//! Writes a 12-layer chain, deeper than one reference chip (9 cores), as a
//! NIR file, and a matching DVS event file next to it (`deep_events.csv`):
//! `cargo run --release -p spikehdl-nir --example write_deep -- out/nir/deep.nir`.
//! `import` places it on two daisy-chained reference chips.

use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out/nir/deep.nir".into()));
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    spikehdl_nir::write(&path, &spikehdl_nir::build::deep_chain(3, 12))?;
    println!("wrote {}", path.display());
    let ev = path.with_file_name("deep_events.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&ev)?);
    writeln!(w, "t,x,y,p")?;
    let mut rng = spikehdl_model::rng::Rng::new(9);
    for i in 0..1500u64 {
        writeln!(w, "{},{},{},{}", i * 10, rng.below(16), rng.below(16), rng.below(2))?;
    }
    w.flush()?;
    println!("wrote {}", ev.display());
    Ok(())
}
