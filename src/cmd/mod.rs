//! One module per subcommand.

pub mod bench;
pub mod bench_net;
pub mod check;
pub mod cosim;
pub mod export_rtl;
pub mod import;
pub mod plot;
pub mod presets;
pub mod simulate;
pub mod synth;

use std::path::Path;

use anyhow::{Context, Result};
use spikehdl_model::{HostInput, Timed, ValidConfig};

/// Reads and validates a configuration file; all validation errors are in the message.
pub fn load_config(path: &Path) -> Result<ValidConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    spikehdl_model::parse_and_validate(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// What every command that runs events takes: a configuration, an event file
/// and an optional leak period.
#[derive(clap::Args)]
pub struct RunInputs {
    /// Chip configuration (JSON).
    #[arg(long)]
    pub config: std::path::PathBuf,
    /// Host input events: .csv (DVS t,x,y,p), .jsonl (every item kind), .npy (tonic) or .aedat4.
    #[arg(long)]
    pub events: std::path::PathBuf,
    /// Insert a leak tick every N microseconds of event time (the first one N µs
    /// after the first event).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub leak_period_us: Option<u64>,
}

impl RunInputs {
    /// The validated configuration and the input items (with leak ticks inserted).
    pub fn load(&self) -> Result<(ValidConfig, Vec<Timed<HostInput>>)> {
        let cfg = load_config(&self.config)?;
        let items = spikehdl_model::io::read_inputs(&self.events, cfg.n_cores())?;
        let items = match self.leak_period_us {
            Some(p) => with_leak_ticks(&items, p),
            None => items,
        };
        Ok((cfg, items))
    }
}

impl RunInputs {
    /// The validated configuration and the input items as a stream (constant
    /// memory; leak ticks inserted on the fly).
    pub fn open(&self) -> Result<(ValidConfig, spikehdl_model::io::InputStream)> {
        let cfg = load_config(&self.config)?;
        let items = spikehdl_model::io::open_inputs(&self.events, cfg.n_cores())?;
        let items: spikehdl_model::io::InputStream = match self.leak_period_us {
            Some(p) => Box::new(spikehdl_model::io::LeakTicks::new(items, p)),
            None => items,
        };
        Ok((cfg, items))
    }
}

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
