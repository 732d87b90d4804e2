//! `spikehdl simulate --config C --events E [--out O] [--leak-period-us N]`:
//! runs an event file through the golden model and prints a summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spikehdl_model::{ChipModel, HostInput, HostOutput, Timed};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: super::RunInputs,
    /// Write host outputs here: .jsonl or .csv.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<u8> {
    let (cfg, items, transform) = a.inputs.load_transformed()?;
    if let Some(o) = &a.out {
        spikehdl_model::io::Format::from_path(o)?; // fail before simulating
    }
    let mut chip = ChipModel::new(&cfg);
    let pb = if items.len() >= 100_000 { ProgressBar::new(items.len() as u64) } else { ProgressBar::hidden() };
    pb.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} items {per_sec} eta {eta}").expect("static template"));
    let start = Instant::now();
    let mut outputs: Vec<Timed<HostOutput>> = Vec::new();
    let mut buf = Vec::new();
    for (i, it) in items.iter().enumerate() {
        buf.clear();
        if let Err(e) = chip.accept(&it.item, &mut buf) {
            bail!("input item {i} (t = {}): {e}", it.t);
        }
        outputs.extend(buf.iter().map(|&item| Timed { t: it.t, item }));
        if i % 4096 == 0 {
            pb.set_position(i as u64);
        }
    }
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    if let Some(o) = &a.out {
        spikehdl_model::io::write_outputs(o, &outputs)?;
    }
    let mut summary = summarize(&chip, &items, &outputs, secs);
    if let Some(tr) = transform {
        let (x, y) = tr.crop.unwrap_or((0, 0));
        summary["input_transform"] =
            serde_json::json!({ "downsample": tr.downsample, "crop": [x, y], "kept": tr.kept, "dropped": tr.dropped });
    }
    print_summary(&summary);
    match &a.out {
        Some(o) => println!("wrote {} output events to {}", outputs.len(), o.display()),
        None => println!("({} output events; --out FILE.jsonl|FILE.csv saves them)", outputs.len()),
    }
    if let Some(p) = &a.summary_json {
        super::write_file(p, &serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(crate::EXIT_OK)
}

/// The simulation summary, printable and serializable.
pub fn summarize(chip: &ChipModel, items: &[Timed<HostInput>], outputs: &[Timed<HostOutput>], secs: f64) -> serde_json::Value {
    let r = chip.router_counters();
    let mut cores = Vec::new();
    let mut total_updates = 0u64;
    for i in 0..chip.n_cores() {
        let c = chip.core_counters(i);
        if chip.core(i).is_none() && c.errors == 0 {
            continue;
        }
        total_updates += c.synaptic_updates;
        let count = |kind: &str| outputs.iter().filter(|o| o.item.layer() as usize == i && o.item.kind() == kind).count();
        cores.push(serde_json::json!({
            "core": i, "items_in": c.items_in, "spikes_out": c.spikes_out,
            "synaptic_updates": c.synaptic_updates, "errors": c.errors, "router_drops": r.drops[i],
            "readout": count("spike"), "monitor": count("monitor"), "neuron_values": count("neuron_value"),
        }));
    }
    let dvs_monitor = outputs.iter().filter(|o| o.item.layer() == spikehdl_model::presets::DVS_LAYER).count();
    serde_json::json!({
        "input_items": items.len(),
        "output_events": outputs.len(),
        "dvs": { "events_in": r.dvs_in, "events_out": r.dvs_out, "router_drops": r.drops[chip.n_cores()], "monitor": dvs_monitor },
        "cores": cores,
        "synaptic_updates": total_updates,
        "seconds": secs,
        "updates_per_second": if secs > 0.0 { total_updates as f64 / secs } else { 0.0 },
    })
}

fn print_summary(s: &serde_json::Value) {
    println!("input items: {}   output events: {}", s["input_items"], s["output_events"]);
    let d = &s["dvs"];
    println!("dvs: {} in, {} passed filter/crop, {} dropped at destinations, {} monitor", d["events_in"], d["events_out"], d["router_drops"], d["monitor"]);
    println!(
        "{:>4} {:>10} {:>10} {:>14} {:>7} {:>7} {:>8} {:>8} {:>7}",
        "core", "items in", "spikes out", "synaptic upd.", "errors", "drops", "readout", "monitor", "values"
    );
    for c in s["cores"].as_array().into_iter().flatten() {
        let v = |k: &str| c[k].to_string();
        println!(
            "{:>4} {:>10} {:>10} {:>14} {:>7} {:>7} {:>8} {:>8} {:>7}",
            v("core"), v("items_in"), v("spikes_out"), v("synaptic_updates"), v("errors"), v("router_drops"), v("readout"), v("monitor"), v("neuron_values")
        );
    }
    println!(
        "{} synaptic updates in {:.3} s ({:.1} M updates/s)",
        s["synaptic_updates"],
        s["seconds"].as_f64().unwrap_or(0.0),
        s["updates_per_second"].as_f64().unwrap_or(0.0) / 1e6
    );
}

#[cfg(test)]
mod tests {
    use super::super::with_leak_ticks;
    use spikehdl_model::{HostInput, Timed};

    fn dvs(t: u64) -> Timed<HostInput> {
        Timed { t, item: HostInput::Dvs { x: 0, y: 0, p: 0 } }
    }

    #[test]
    fn leak_ticks_at_each_period_boundary_relative_to_first_event() {
        let items = [dvs(1000), dvs(1005), dvs(1025), dvs(1030)];
        let out = with_leak_ticks(&items, 10);
        let ticks: Vec<u64> = out.iter().filter(|i| i.item == HostInput::LeakTick).map(|i| i.t).collect();
        assert_eq!(ticks, vec![1010, 1020, 1030]);
        // the tick at exactly 1030 comes before the event at 1030
        assert_eq!(out[out.len() - 2], Timed { t: 1030, item: HostInput::LeakTick });
        assert_eq!(out.len(), items.len() + 3);
        assert!(with_leak_ticks(&[], 5).is_empty());
    }
}
