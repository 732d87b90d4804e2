//! `spikehdl check CONFIG`: validation plus a memory table like Sinabs'
//! `memory_summary` (words used vs the core's capacity).

use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Chip configuration (JSON).
    config: PathBuf,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = super::load_config(&a.config)?;
    let sources = sources(&cfg);
    let mut rows = Vec::new();
    for (i, (l, cap)) in cfg.layers.iter().zip(&cfg.capacities).enumerate() {
        let Some(l) = l else { continue };
        let fp = l.footprint();
        let dests: Vec<String> = l
            .destinations
            .iter()
            .filter(|d| d.enable)
            .map(|d| {
                let target = if d.layer == spikehdl_model::presets::HOST_LAYER { "host".to_string() } else { format!("core {}", d.layer) };
                format!("{target} (pool {}, shift {})", d.pooling, d.feature_shift)
            })
            .collect();
        rows.push(serde_json::json!({
            "core": i,
            "input": [l.c, l.h_in, l.w_in],
            "output": [l.f, l.h_out, l.w_out],
            "kernel": l.k,
            "kernel_words": fp.kernel_words, "kernel_capacity": cap.kernel_words,
            "neuron_words": fp.neuron_words, "neuron_capacity": cap.neuron_words,
            "bias_words": fp.bias_words, "bias_capacity": cap.bias_words,
            "sources": sources[i],
            "destinations": dests,
        }));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "valid": true, "layers": rows }))?);
        return Ok(crate::EXIT_OK);
    }
    println!("{}: valid ({} cores, {} layers)", a.config.display(), cfg.n_cores(), rows.len());
    if let Some(d) = &cfg.dvs {
        let (c, w, h) = d.output_shape();
        let to: Vec<String> = d.destinations.iter().flatten().map(|j| format!("core {j}")).collect();
        println!("dvs layer: 128x128 -> {c} x {h} x {w} (C x H x W) -> {}", if to.is_empty() { "nowhere".into() } else { to.join(", ") });
    }
    println!();
    println!(
        "{:>4}  {:>14}  {:>14}  {:>3}  {:>17}  {:>17}  {:>11}  {:<24}  destinations",
        "core", "input CxHxW", "output FxHxW", "k", "kernel words", "neuron words", "bias words", "sources"
    );
    for r in &rows {
        let shape = |v: &serde_json::Value| format!("{}x{}x{}", v[0], v[1], v[2]);
        let use_ = |u: &str, c: &str| {
            let (u, c) = (r[u].as_u64().unwrap_or(0), r[c].as_u64().unwrap_or(1));
            format!("{u}/{c} {:>3}%", u * 100 / c.max(1))
        };
        let list = |key: &str| -> String {
            let v: Vec<&str> = r[key].as_array().map(|a| a.iter().filter_map(|d| d.as_str()).collect()).unwrap_or_default();
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(", ")
            }
        };
        println!(
            "{:>4}  {:>14}  {:>14}  {:>3}  {:>17}  {:>17}  {:>11}  {:<24}  {}",
            r["core"].to_string(),
            shape(&r["input"]),
            shape(&r["output"]),
            r["kernel"].to_string(),
            use_("kernel_words", "kernel_capacity"),
            use_("neuron_words", "neuron_capacity"),
            use_("bias_words", "bias_capacity"),
            list("sources"),
            list("destinations")
        );
    }
    Ok(crate::EXIT_OK)
}

/// Per core, what sends to it: the DVS layer and every core with an enabled
/// destination to it (with that destination's pooling and feature shift).
/// Several sources sum into one core (residual sums), or concatenate when
/// their feature shifts differ.
fn sources(cfg: &spikehdl_model::ValidConfig) -> Vec<Vec<String>> {
    let mut s = vec![Vec::new(); cfg.n_cores()];
    if let Some(d) = &cfg.dvs {
        for &j in d.destinations.iter().flatten() {
            if let Some(v) = s.get_mut(usize::from(j)) {
                v.push("dvs".to_string());
            }
        }
    }
    for (i, l) in cfg.layers.iter().enumerate() {
        let Some(l) = l else { continue };
        for d in l.destinations.iter().filter(|d| d.enable) {
            if let Some(v) = s.get_mut(usize::from(d.layer)) {
                v.push(format!("core {i} (pool {}, shift {})", d.pooling, d.feature_shift));
            }
        }
    }
    s
}
