//! Writes the small LeNet-like example network as a NIR file (no Python, no download):
//! `cargo run --release -p spikehdl-nir --example write_lenet -- out/lenet.nir`
//! and a matching DVS event file next to it (`lenet_events.csv`: a moving bar).

use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out/lenet.nir".into()));
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    spikehdl_nir::write(&path, &spikehdl_nir::build::lenet(7))?;
    println!("wrote {}", path.display());
    // A vertical bar 6 pixels wide sweeping across the 64 x 64 input, both polarities.
    let ev = path.with_file_name("lenet_events.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&ev)?);
    writeln!(w, "t,x,y,p")?;
    let mut t = 0u64;
    for step in 0..48u64 {
        for y in 8..56u64 {
            for dx in 0..6u64 {
                writeln!(w, "{t},{},{y},{}", 8 + step / 2 + dx, (y + dx) % 2)?;
            }
            t += 10;
        }
    }
    w.flush()?;
    println!("wrote {}", ev.display());
    Ok(())
}
