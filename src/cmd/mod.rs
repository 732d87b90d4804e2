//! One module per subcommand.

pub mod bench;
pub mod bench_net;
pub mod check;
#[cfg(feature = "cosim")]
pub mod cosim;
pub mod eval;
pub mod export_rtl;
pub mod formal;
pub mod fpga;
#[cfg(feature = "nir")]
pub mod import;
pub mod plot;
pub mod presets;
pub mod simulate;
pub mod synth;

use std::path::Path;

/// Optional parts of the CLI (Cargo features of the `spikehdl` package) and
/// what each needs on the machine. Only a build lacking a feature names one
/// (and the unit test), so the default build does not use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(all(feature = "cosim", feature = "nir"), allow(dead_code))]
pub enum Feature {
    /// Co-simulation: verilated models of `rtl/` (`cosim`, `fpga sim`, the RTL half of `bench`).
    Cosim,
    /// NIR import (`import`): HDF5.
    Nir,
}

#[cfg_attr(all(feature = "cosim", feature = "nir"), allow(dead_code))]
impl Feature {
    pub fn name(self) -> &'static str {
        match self {
            Feature::Cosim => "cosim",
            Feature::Nir => "nir",
        }
    }

    /// What the feature needs installed, with the Debian packages.
    pub fn needs(self) -> &'static str {
        match self {
            Feature::Cosim => "Verilator 5 and libclang (Debian: `sudo apt-get install verilator libclang-dev`)",
            Feature::Nir => "the HDF5 library (Debian: `sudo apt-get install libhdf5-dev`)",
        }
    }

    /// The error of a command this build lacks.
    pub fn missing(self, command: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "`spikehdl {command}` is not in this build: it needs the `{f}` feature, which needs {needs}. \
             Install that, then rebuild with the feature: `cargo install --path . --features {f}` \
             (or run ./scripts/setup.sh, which installs every tool, and use `cargo run --release`)",
            f = self.name(),
            needs = self.needs()
        )
    }
}

/// The arguments of a command this build does not have, taken as they come,
/// so that the user sees what to install rather than a parse error.
#[derive(clap::Args)]
pub struct Unavailable {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

use anyhow::{Context, Result};
use spikehdl_model::io::{DvsBounds, ReadOptions};
use spikehdl_model::transform::InputTransform;
use spikehdl_model::{HostInput, Timed, ValidConfig};

/// Reads and validates a configuration file of one chip; all validation
/// errors are in the message. A chain of several chips is refused here,
/// naming the commands that take chains.
pub fn load_config(path: &Path) -> Result<ValidConfig> {
    let chain = load_chain(path)?;
    match chain.single() {
        Some(c) => Ok(c.clone()),
        None => anyhow::bail!(
            "{}: a chain of {} chips; this command takes one chip (check, simulate and cosim take chains)",
            path.display(),
            chain.chips.len()
        ),
    }
}

/// Reads and validates a chain file (or a single-chip file, a chain of one).
pub fn load_chain(path: &Path) -> Result<spikehdl_model::ValidChain> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    spikehdl_model::parse_chain(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// What every command that runs events takes: a configuration, an event file
/// and an optional leak period.
#[derive(clap::Args)]
pub struct RunInputs {
    /// Chip configuration (JSON).
    #[arg(long)]
    pub config: std::path::PathBuf,
    /// Host input events: .csv (DVS t,x,y,p), .jsonl (every item kind), .npy (tonic), .aedat4, .bin (N-MNIST) or .dat (Prophesee).
    #[arg(long)]
    pub events: std::path::PathBuf,
    /// Insert a leak tick every N microseconds of event time (the first one N µs
    /// after the first event).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub leak_period_us: Option<u64>,
    #[command(flatten)]
    pub transform: TransformArgs,
}

impl RunInputs {
    /// The validated configuration and the input items (transformed, with
    /// leak ticks inserted). With --downsample / --crop, prints what the
    /// transform kept and dropped, so that every command reports it.
    pub fn load(&self) -> Result<(ValidConfig, Vec<Timed<HostInput>>)> {
        let (cfg, items, _) = self.load_transformed()?;
        Ok((cfg, items))
    }

    /// [`RunInputs::load`], also returning the transform with its counts
    /// (None without --downsample / --crop).
    pub fn load_transformed(&self) -> Result<(ValidConfig, Vec<Timed<HostInput>>, Option<InputTransform>)> {
        let cfg = load_config(&self.config)?;
        let (items, tr) = self.transform.read(&self.events, cfg.n_cores())?;
        if let Some(tr) = &tr {
            println!("input transform: {}", tr.describe());
        }
        let items = match self.leak_period_us {
            Some(p) => with_leak_ticks(&items, p),
            None => items,
        };
        Ok((cfg, items, tr))
    }
}

/// The 128 × 128 window origin of `--crop X,Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u16,
    pub y: u16,
}

fn parse_crop(s: &str) -> std::result::Result<Crop, String> {
    let v: Vec<&str> = s.split(',').map(str::trim).collect();
    let num = |p: &str| p.parse::<u16>().map_err(|_| format!("{p:?} is not a whole number 0..=65535"));
    match v[..] {
        [x, y] => Ok(Crop { x: num(x)?, y: num(y)? }),
        _ => Err(format!("{s:?} is not X,Y (the origin of the 128x128 window)")),
    }
}

/// Fitting a larger sensor to the chip's 128 × 128 DVS input, before the
/// DVS layer (shared by every command that reads event files).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct TransformArgs {
    /// Divide DVS x and y by N, floored (tonic's spatial downsample), before the DVS layer.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub downsample: u16,
    /// Keep the 128x128 window with its origin at (X, Y), in downsampled
    /// coordinates; DVS events outside it are dropped and counted. Default
    /// with --downsample: 0,0.
    #[arg(long, value_name = "X,Y", value_parser = parse_crop)]
    pub crop: Option<Crop>,
}

impl TransformArgs {
    /// The transform, or None when neither flag is given.
    pub fn transform(&self) -> Option<InputTransform> {
        let t = InputTransform::new(self.downsample, self.crop.map(|c| (c.x, c.y)));
        (!t.is_identity()).then_some(t)
    }

    /// Reads an event file: without a transform, DVS events must fit the
    /// chip's input (errors say how to fit a larger sensor); with one, they
    /// are read in sensor coordinates and transformed.
    pub fn read(&self, path: &Path, n_cores: usize) -> Result<(Vec<Timed<HostInput>>, Option<InputTransform>)> {
        match self.transform() {
            None => Ok((spikehdl_model::io::read_inputs(path, n_cores)?, None)),
            Some(mut tr) => {
                let opts = ReadOptions { n_cores, dvs: DvsBounds::Sensor };
                let items = spikehdl_model::io::read_inputs(path, opts)?;
                let items = tr.apply_all(items);
                Ok((items, Some(tr)))
            }
        }
    }
}

impl RunInputs {
    /// The validated configuration and the input items as a stream (constant
    /// memory; --downsample / --crop applied and leak ticks inserted on the
    /// fly, in the order of [`RunInputs::load`]). The handle holds the
    /// transform's counts once the stream has been consumed (None without
    /// --downsample / --crop).
    pub fn open(&self) -> Result<(ValidConfig, spikehdl_model::io::InputStream, Option<TransformReport>)> {
        let cfg = load_config(&self.config)?;
        let (items, report) = self.open_events(cfg.n_cores())?;
        Ok((cfg, items, report))
    }

    /// [`RunInputs::open`] for a chain (or one chip): the events go to chip 0,
    /// whose cores host items name.
    pub fn open_chain(&self) -> Result<(spikehdl_model::ValidChain, spikehdl_model::io::InputStream, Option<TransformReport>)> {
        let chain = load_chain(&self.config)?;
        let (items, report) = self.open_events(chain.chips[0].n_cores())?;
        Ok((chain, items, report))
    }

    /// The one input chain (reader, transform, leak ticks) of every command.
    fn open_events(&self, n_cores: usize) -> Result<(spikehdl_model::io::InputStream, Option<TransformReport>)> {
        let inputs = spikehdl_model::eval::Inputs { transform: self.transform.transform().unwrap_or_default(), leak_period_us: self.leak_period_us };
        Ok(inputs.open(&self.events, n_cores)?)
    }
}

pub use spikehdl_model::eval::TransformReport;

/// Inserts leak ticks at t0 + k·period (k ≥ 1) before the first item at or after each boundary.
pub fn with_leak_ticks(items: &[Timed<HostInput>], period: u64) -> Vec<Timed<HostInput>> {
    let Some(first) = items.first() else { return Vec::new() };
    let mut next = first.t.saturating_add(period);
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        while it.t >= next {
            out.push(Timed { t: next, item: HostInput::LeakTick });
            next = next.saturating_add(period);
        }
        out.push(*it);
    }
    out
}

/// Writes a text file, creating its folder first; errors name the path.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::Feature;

    #[test]
    fn a_missing_feature_names_the_command_the_feature_and_the_packages() {
        let cosim = Feature::Cosim.missing("cosim").to_string();
        for want in ["`spikehdl cosim`", "`cosim` feature", "verilator", "libclang-dev", "--features cosim"] {
            assert!(cosim.contains(want), "{want:?} missing from: {cosim}");
        }
        let nir = Feature::Nir.missing("import").to_string();
        for want in ["`spikehdl import`", "`nir` feature", "libhdf5-dev", "--features nir"] {
            assert!(nir.contains(want), "{want:?} missing from: {nir}");
        }
    }
}
