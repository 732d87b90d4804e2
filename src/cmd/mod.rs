//! One module per subcommand.

pub mod bench;
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
use spikehdl_model::ValidConfig;

/// Reads and validates a configuration file; all validation errors are in the message.
pub fn load_config(path: &Path) -> Result<ValidConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    spikehdl_model::parse_and_validate(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
