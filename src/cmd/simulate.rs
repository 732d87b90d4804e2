//! `spikehdl simulate --config C --events E [--out O] [--leak-period-us N] [--threads N] [--kernel L]`:
//! runs an event file through the golden model and prints a summary.
//!
//! Streaming: the input is read as the model needs it and outputs are
//! written as they are produced, so memory does not grow with the length of
//! the recording. With `--threads` ≥ 2 the cores' features are shared out
//! between threads (or, if no core has two features, the cores run as a
//! pipeline) when the thread rule of `spikehdl_model::pipeline` allows it
//! (same results as one thread); the summary says how the work was shared
//! or why the run was sequential.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spikehdl_model::io::OutputWriter;
use spikehdl_model::kernel::Level;
use spikehdl_model::pipeline::{run_stream, RunReport, StreamError, StreamOptions};
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
    /// Model threads: cores as pipeline stages when the thread rule allows (default: all CPUs). Results are the same for any N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    threads: Option<u64>,
    /// Neuron update loop: scalar, portable, avx2 or avx512 (default: the fastest this CPU has).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    kernel: Option<Level>,
}

pub fn parse_level(s: &str) -> Result<Level, String> {
    let l = Level::from_name(s).ok_or_else(|| format!("unknown kernel {s:?}; expected scalar, portable, avx2 or avx512"))?;
    if !l.is_supported() {
        return Err(format!("this CPU cannot run the {l} kernel (supported: {})", names(&Level::supported())));
    }
    Ok(l)
}

fn names(l: &[Level]) -> String {
    l.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ")
}

/// Default thread count: the CPUs this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Host output counts by source layer (0..=13) and kind (spike, monitor, neuron value).
#[derive(Debug, Clone, Default)]
pub struct OutputCounts {
    pub total: u64,
    by: Vec<[u64; 3]>,
}

impl OutputCounts {
    pub fn add(&mut self, o: &HostOutput) {
        let layer = o.layer() as usize;
        if self.by.len() <= layer {
            self.by.resize(layer + 1, [0; 3]);
        }
        let k = match o {
            HostOutput::Spike { .. } => 0,
            HostOutput::Monitor { .. } => 1,
            HostOutput::NeuronValue { .. } => 2,
        };
        self.by[layer][k] += 1;
        self.total += 1;
    }
    /// Outputs of `layer` of `kind` ("spike", "monitor" or "neuron_value").
    pub fn get(&self, layer: usize, kind: &str) -> u64 {
        let k = match kind {
            "spike" => 0,
            "monitor" => 1,
            _ => 2,
        };
        self.by.get(layer).map_or(0, |b| b[k])
    }
    pub fn layer(&self, layer: usize) -> u64 {
        self.by.get(layer).map_or(0, |b| b.iter().sum())
    }
}

/// What one streaming simulation did.
pub struct Streamed {
    pub chip: ChipModel,
    pub report: RunReport,
    pub counts: OutputCounts,
    pub seconds: f64,
}

/// Runs `inputs` through a fresh model of `cfg`, writing outputs to `out` as they come.
pub fn simulate_stream(
    cfg: &spikehdl_model::ValidConfig,
    inputs: spikehdl_model::io::InputStream,
    mut out: Option<&mut OutputWriter>,
    threads: usize,
    kernel: Option<Level>,
    progress: bool,
) -> Result<Streamed> {
    let mut chip = ChipModel::new(cfg);
    if let Some(l) = kernel {
        if !chip.set_kernel_level(l) {
            bail!("this CPU cannot run the {l} kernel");
        }
    }
    let pb = if progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    pb.set_style(ProgressStyle::with_template("{spinner} {pos} output events {per_sec}").expect("static template"));
    let mut counts = OutputCounts::default();
    let start = Instant::now();
    let r = run_stream(&mut chip, &StreamOptions::threads(threads), inputs, |o: &Timed<HostOutput>| {
        counts.add(&o.item);
        if counts.total % 8192 == 0 {
            pb.set_position(counts.total);
        }
        match out.as_deref_mut() {
            Some(w) => w.write(o),
            None => Ok(()),
        }
    });
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let report = match r {
        Ok(rep) => rep,
        // The reader's errors already name the file, line and field.
        Err(StreamError::Input { error, .. }) => return Err(error.into()),
        Err(e @ StreamError::Item { .. }) => bail!("{e}"),
        Err(StreamError::Output(e)) => {
            let path = out.map(|w| w.path().to_string()).unwrap_or_default();
            bail!("{path}: {e}")
        }
    };
    Ok(Streamed { chip, report, counts, seconds })
}

pub fn run(a: Args) -> Result<u8> {
    if super::load_chain(&a.inputs.config)?.chips.len() > 1 {
        return run_chain(a);
    }
    let (cfg, inputs, transform) = a.inputs.open()?;
    let mut writer = match &a.out {
        Some(o) => Some(OutputWriter::create(o)?), // fails before simulating
        None => None,
    };
    let big = std::fs::metadata(&a.inputs.events).is_ok_and(|m| m.len() > 4 << 20);
    let threads = a.threads.map_or_else(default_threads, |n| n as usize);
    let s = simulate_stream(&cfg, inputs, writer.as_mut(), threads, a.kernel, big)?;
    if let Some(w) = writer {
        w.finish()?;
    }
    let mut summary = summarize_stream(&s);
    if let Some(report) = transform {
        // The stream is consumed: the counts are final.
        let tr = *report.lock().unwrap_or_else(|e| e.into_inner());
        println!("input transform: {}", tr.describe());
        let (x, y) = tr.crop.unwrap_or((0, 0));
        summary["input_transform"] =
            serde_json::json!({ "downsample": tr.downsample, "crop": [x, y], "kept": tr.kept, "dropped": tr.dropped });
    }
    print_summary(&summary);
    match &a.out {
        Some(o) => println!("wrote {} output events to {}", s.counts.total, o.display()),
        None => println!("({} output events; --out FILE.jsonl|FILE.csv saves them)", s.counts.total),
    }
    if let Some(p) = &a.summary_json {
        super::write_file(p, &serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(crate::EXIT_OK)
}

/// A chain of chips: the events go to chip 0 (its DVS layer, its cores),
/// leak ticks to every chip; one thread (the chain's one FIFO); outputs
/// name their chip.
fn run_chain(a: Args) -> Result<u8> {
    let (chain, inputs, transform) = a.inputs.open_chain()?;
    let mut writer = match &a.out {
        Some(o) => Some(OutputWriter::create_chain(o)?),
        None => None,
    };
    let mut model = spikehdl_model::ChainModel::new(&chain);
    if let Some(l) = a.kernel {
        if !model.set_kernel_level(l) {
            bail!("this CPU cannot run the {l} kernel");
        }
    }
    let mut counts: Vec<OutputCounts> = vec![OutputCounts::default(); chain.chips.len()];
    let (mut n, mut buf) = (0u64, Vec::new());
    let start = Instant::now();
    for it in inputs {
        let it = it?;
        buf.clear();
        model.accept(0, &it.item, &mut buf).map_err(|e| anyhow::anyhow!("input item {n} (t = {} µs): {e}", it.t))?;
        for o in &buf {
            counts[usize::from(o.chip)].add(&o.item);
            if let Some(w) = writer.as_mut() {
                w.write_chain(&Timed { t: it.t, item: *o }).map_err(|e| anyhow::anyhow!("{}: {e}", w.path()))?;
            }
        }
        n += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(w) = writer {
        w.finish()?;
    }
    let mut chips = Vec::new();
    let mut total = 0u64;
    let mut updates = 0u64;
    for (k, c) in counts.iter().enumerate() {
        let chip = model.chip(k).clone();
        let report = RunReport { items: n, outputs: c.total, ..Default::default() };
        let mut one = summarize_stream(&Streamed { chip, report, counts: c.clone(), seconds });
        let link = model.link_counters(k);
        one["chip"] = k.into();
        one["link"] = serde_json::json!({ "sent": model.chip(k).router_counters().link_out, "received": link.received, "drops": link.drops });
        total += c.total;
        updates += one["synaptic_updates"].as_u64().unwrap_or(0);
        chips.push(one);
    }
    let mut summary = serde_json::json!({
        "input_items": n, "output_events": total, "chips": chips, "synaptic_updates": updates, "seconds": seconds,
        "sequential_because": format!("a chain of {} chips runs on one thread", chain.chips.len()),
        "peak_rss_bytes": peak_rss_bytes(),
    });
    if let Some(report) = transform {
        let tr = *report.lock().unwrap_or_else(|e| e.into_inner());
        println!("input transform: {}", tr.describe());
        let (x, y) = tr.crop.unwrap_or((0, 0));
        summary["input_transform"] = serde_json::json!({ "downsample": tr.downsample, "crop": [x, y], "kept": tr.kept, "dropped": tr.dropped });
    }
    println!("chain of {} chips: input items: {n}   output events: {total}", chain.chips.len());
    for c in summary["chips"].as_array().into_iter().flatten() {
        let l = &c["link"];
        println!("chip {}: link sent {}, received {}, dropped {} (outside the target core's input)", c["chip"], l["sent"], l["received"], l["drops"]);
        print_cores(c);
    }
    println!("{updates} synaptic updates in {seconds:.3} s; one thread (a chain runs on one thread)");
    match &a.out {
        Some(o) => println!("wrote {total} output events to {}", o.display()),
        None => println!("({total} output events; --out FILE.jsonl|FILE.csv saves them)"),
    }
    if let Some(p) = &a.summary_json {
        super::write_file(p, &serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(crate::EXIT_OK)
}

/// Peak resident memory of this process (Linux `VmHWM`), bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The summary of a streaming run, printable and serializable.
pub fn summarize_stream(s: &Streamed) -> serde_json::Value {
    let chip = &s.chip;
    let r = chip.router_counters();
    let mut cores = Vec::new();
    let mut total_updates = 0u64;
    for i in 0..chip.n_cores() {
        let c = chip.core_counters(i);
        if chip.core(i).is_none() && c.errors == 0 {
            continue;
        }
        total_updates += c.synaptic_updates;
        cores.push(serde_json::json!({
            "core": i, "items_in": c.items_in, "spikes_out": c.spikes_out,
            "synaptic_updates": c.synaptic_updates, "errors": c.errors, "router_drops": r.drops[i],
            "readout": s.counts.get(i, "spike"), "monitor": s.counts.get(i, "monitor"), "neuron_values": s.counts.get(i, "neuron_value"),
        }));
    }
    let secs = s.seconds;
    let level = (0..chip.n_cores()).find_map(|i| chip.core(i)).map(|c| c.kernel_level().name()).unwrap_or("none");
    serde_json::json!({
        "input_items": s.report.items,
        "output_events": s.counts.total,
        "dvs": { "events_in": r.dvs_in, "events_out": r.dvs_out, "router_drops": r.drops[chip.n_cores()], "monitor": s.counts.layer(spikehdl_model::presets::DVS_LAYER as usize) },
        "cores": cores,
        "synaptic_updates": total_updates,
        "seconds": secs,
        "updates_per_second": if secs > 0.0 { total_updates as f64 / secs } else { 0.0 },
        "kernel": level,
        "stages": s.report.stages,
        "stage_parts": s.report.parts,
        "feature_split": s.report.split,
        "layered": s.report.layered,
        "sequential_because": s.report.fallback.as_ref().map(|f| f.to_string()),
        "peak_rss_bytes": peak_rss_bytes(),
    })
}

/// The simulation summary of an in-memory run, printable and serializable.
pub fn summarize(chip: &ChipModel, items: &[Timed<HostInput>], outputs: &[Timed<HostOutput>], secs: f64) -> serde_json::Value {
    let mut counts = OutputCounts::default();
    for o in outputs {
        counts.add(&o.item);
    }
    let report = RunReport { items: items.len() as u64, outputs: counts.total, ..Default::default() };
    summarize_stream(&Streamed { chip: chip.clone(), report, counts, seconds: secs })
}

fn print_summary(s: &serde_json::Value) {
    println!("input items: {}   output events: {}", s["input_items"], s["output_events"]);
    print_cores(s);
    println!(
        "{} synaptic updates in {:.3} s ({:.1} M updates/s)",
        s["synaptic_updates"],
        s["seconds"].as_f64().unwrap_or(0.0),
        s["updates_per_second"].as_f64().unwrap_or(0.0) / 1e6
    );
    print_threads(s);
}

/// The DVS line and the per-core table of one chip's summary.
fn print_cores(s: &serde_json::Value) {
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
}

/// How the run shared its work out (or why it did not), and peak memory.
fn print_threads(s: &serde_json::Value) {
    // [[[core, lo, hi], ...], ...]: a core held by several stages shows its feature range.
    let parts: Vec<Vec<(u64, u64, u64)>> = s["stage_parts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| st.as_array().into_iter().flatten().map(|p| (p[0].as_u64().unwrap_or(0), p[1].as_u64().unwrap_or(0), p[2].as_u64().unwrap_or(0))).collect())
        .collect();
    let holders = |j: u64| parts.iter().filter(|st| st.iter().any(|p| p.0 == j)).count();
    let stages: Vec<String> = parts
        .iter()
        .map(|st| st.iter().map(|&(j, lo, hi)| if holders(j) > 1 { format!("{j} f{lo}..{hi}") } else { j.to_string() }).collect::<Vec<_>>().join(", "))
        .collect();
    // [[core, [[thread, lo, hi], ...]], ...]
    let split: Vec<String> = s["feature_split"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let parts: Vec<String> = c[1].as_array().into_iter().flatten().map(|p| format!("t{} {}..{}", p[0], p[1], p[2])).collect();
            format!("core {} [{}]", c[0], parts.join(", "))
        })
        .collect();
    let threads = s["feature_split"].as_array().into_iter().flatten().flat_map(|c| c[1].as_array().into_iter().flatten().map(|p| p[0].as_u64())).max().flatten();
    // Layered: each core runs a whole batch of items before the next core (same results, see docs/decisions.md).
    let layered = if s["layered"].as_bool() == Some(true) { ", layered" } else { "" };
    match s["sequential_because"].as_str() {
        Some(why) => println!("kernel {}, one thread ({why})", s["kernel"].as_str().unwrap_or("")),
        None if !split.is_empty() => {
            println!("kernel {}, feature split over {} threads: {}", s["kernel"].as_str().unwrap_or(""), threads.map_or(0, |t| t + 1), split.join(" "))
        }
        None if stages.len() > 1 => println!("kernel {}, {} pipeline stages{layered}: cores [{}]", s["kernel"].as_str().unwrap_or(""), stages.len(), stages.join("] [")),
        None => println!("kernel {}, one thread{layered}", s["kernel"].as_str().unwrap_or("")),
    }
    if let Some(b) = s["peak_rss_bytes"].as_u64() {
        println!("peak memory (RSS): {:.1} MB", b as f64 / 1e6);
    }
}

#[cfg(test)]
mod tests {
    use super::super::with_leak_ticks;
    use spikehdl_model::io::LeakTicks;
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
        // The streaming adapter gives the same sequence.
        let streamed: Vec<_> = LeakTicks::new(items.iter().map(|&i| Ok::<_, ()>(i)), 10).map(Result::unwrap).collect();
        assert_eq!(streamed, out);
    }
}
