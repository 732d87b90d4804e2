//! Writes the small ResNet-style example network (a residual block: two
//! edges into one convolution) as a NIR file:
//! `cargo run --release -p spikehdl-nir --example write_resnet -- out/nir/resnet.nir`
//! and a matching DVS event file next to it (`resnet_events.csv`: a moving bar).

use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out/nir/resnet.nir".into()));
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    spikehdl_nir::write(&path, &spikehdl_nir::build::resnet(11))?;
    println!("wrote {}", path.display());
    // A vertical bar 4 pixels wide sweeping across the 32 x 32 input, both polarities.
    let ev = path.with_file_name("resnet_events.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&ev)?);
    writeln!(w, "t,x,y,p")?;
    let mut t = 0u64;
    for step in 0..24u64 {
        for y in 4..28u64 {
            for dx in 0..4u64 {
                writeln!(w, "{t},{},{y},{}", 2 + step + dx, (y + dx) % 2)?;
            }
            t += 10;
        }
    }
    w.flush()?;
    println!("wrote {}", ev.display());
    Ok(())
}
