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
    let chain = super::load_chain(&a.config)?;
    let n = chain.chips.len();
    let tables: Vec<Vec<serde_json::Value>> = (0..n).map(|k| rows(&chain, k)).collect();
    if a.json {
        let j = if n == 1 {
            serde_json::json!({ "valid": true, "layers": tables[0] })
        } else {
            let chips: Vec<serde_json::Value> = tables.iter().enumerate().map(|(k, t)| serde_json::json!({ "chip": k, "layers": t })).collect();
            let links: Vec<serde_json::Value> = chain
                .links()
                .iter()
                .map(|&(k, i, d, t, j)| serde_json::json!({ "from_chip": k, "from_core": i, "destination": d, "to_chip": t, "to_core": j }))
                .collect();
            serde_json::json!({ "valid": true, "chips": chips, "links": links })
        };
        println!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(crate::EXIT_OK);
    }
    if n == 1 {
        println!("{}: valid ({} cores, {} layers)", a.config.display(), chain.chips[0].n_cores(), tables[0].len());
    } else {
        let layers: usize = tables.iter().map(Vec::len).sum();
        println!("{}: valid (a chain of {n} chips, {layers} layers)", a.config.display());
        for (k, i, _, t, j) in chain.links() {
            println!("link: chip {k} core {i} -> chip {t} core {j}");
        }
    }
    for (k, rows) in tables.iter().enumerate() {
        let cfg = &chain.chips[k];
        println!();
        if n > 1 {
            println!("chip {k} ({} cores, {} layers)", cfg.n_cores(), rows.len());
        }
        if let Some(d) = &cfg.dvs {
            let (c, w, h) = d.output_shape();
            let to: Vec<String> = d.destinations.iter().flatten().map(|j| format!("core {j}")).collect();
            println!("dvs layer: 128x128 -> {c} x {h} x {w} (C x H x W) -> {}", if to.is_empty() { "nowhere".into() } else { to.join(", ") });
        }
        print_table(rows);
    }
    Ok(crate::EXIT_OK)
}

/// The memory table rows of chip k: shapes, words used vs capacity, sources and destinations.
fn rows(chain: &spikehdl_model::ValidChain, k: usize) -> Vec<serde_json::Value> {
    let cfg = &chain.chips[k];
    let sources = sources(chain, k);
    let mut rows = Vec::new();
    for (i, (l, cap)) in cfg.layers.iter().zip(&cfg.capacities).enumerate() {
        let Some(l) = l else { continue };
        let fp = l.footprint();
        let dests: Vec<String> = l
            .destinations
            .iter()
            .filter(|d| d.enable)
            .map(|d| {
                let target = match d.chip {
                    Some(t) => format!("chip {t} core {}", d.layer),
                    None if d.layer == spikehdl_model::presets::HOST_LAYER => "host".to_string(),
                    None => format!("core {}", d.layer),
                };
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
    rows
}

fn print_table(rows: &[serde_json::Value]) {
    println!(
        "{:>4}  {:>14}  {:>14}  {:>3}  {:>17}  {:>17}  {:>11}  {:<24}  destinations",
        "core", "input CxHxW", "output FxHxW", "k", "kernel words", "neuron words", "bias words", "sources"
    );
    for r in rows {
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
}


/// Per core, what sends to it: the DVS layer and every core with an enabled
/// destination to it (with that destination's pooling and feature shift).
/// Several sources sum into one core (residual sums), or concatenate when
/// their feature shifts differ.
fn sources(chain: &spikehdl_model::ValidChain, k: usize) -> Vec<Vec<String>> {
    let cfg = &chain.chips[k];
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
        for d in l.destinations.iter().filter(|d| d.enable && d.chip.is_none()) {
            if let Some(v) = s.get_mut(usize::from(d.layer)) {
                v.push(format!("core {i} (pool {}, shift {})", d.pooling, d.feature_shift));
            }
        }
    }
    // Sources on other chips, across the link.
    for (from, c) in chain.chips.iter().enumerate() {
        for (i, l) in c.layers.iter().enumerate() {
            let Some(l) = l else { continue };
            for d in l.destinations.iter().filter(|d| d.enable && d.chip == Some(k as u8)) {
                if let Some(v) = s.get_mut(usize::from(d.layer)) {
                    v.push(format!("chip {from} core {i} (pool {}, shift {})", d.pooling, d.feature_shift));
                }
            }
        }
    }
    s
}
