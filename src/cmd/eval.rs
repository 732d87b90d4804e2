//! `spikehdl eval --config C --data DIR [--out F.jsonl] [--readout-core N]
//! [--threads N] [--shard i/n]` and `spikehdl eval merge SHARD.jsonl...`:
//! the accuracy a network gets on the bit-exact chip model, on a labelled
//! dataset folder.
//!
//! Dataset layout: one folder per class directly under DIR, the folder name
//! being the label; every file inside with a supported event extension
//! (.csv, .jsonl, .npy, .aedat4, .bin, .dat) is one sample. Samples are
//! taken in the order of their path relative to DIR, which fixes the shard
//! split and the order of the output rows.
//!
//! Each sample runs alone through a fresh model (the configured initial
//! state), after the `--downsample` / `--crop` transform and with leak
//! ticks when `--leak-period-us` is given. Running a sample, counting the
//! readout, the prediction rules and the report are
//! [`spikehdl_model::eval`] (shared with the Python package); this module
//! adds the dataset folder, shards, plots and printing.
//!
//! Parallelism: samples run on a rayon pool of `--threads` workers; each
//! sample's result depends only on the sample, and results are collected in
//! sample order, so every output is identical for any thread count.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use rayon::prelude::*;
use spikehdl_model::eval::{self, report, Inputs, LabelSource, Labels, Readout, Report, Row};
use spikehdl_model::io::Format;
use spikehdl_model::pipeline::StreamError;
use spikehdl_model::ValidConfig;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    cmd: Option<Sub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Join the rows of shards (`eval --shard i/n --out F.jsonl`) into one result: accuracy, confusion matrix, rows.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Chip configuration (JSON).
    #[arg(long, required = true)]
    config: Option<PathBuf>,
    /// Dataset folder: one sub-folder per class, named by its label.
    #[arg(long, required = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Write one JSON row per sample here (.jsonl).
    #[arg(long, value_name = "F.jsonl")]
    out: Option<PathBuf>,
    /// The core whose output features are the class neurons (default: the one core that sends to the host).
    #[arg(long, value_name = "N")]
    readout_core: Option<u8>,
    /// Worker threads (default: all CPUs); results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Run only shard i of n (i = 0..n-1): the samples whose index in path order is i modulo n.
    #[arg(long, value_name = "i/n", value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Insert a leak tick every N microseconds of event time in each sample.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    leak_period_us: Option<u64>,
    #[command(flatten)]
    transform: super::TransformArgs,
    /// Directory for confusion.png and confusion.svg.
    #[arg(long, value_name = "DIR", default_value = "out/eval")]
    plots: PathBuf,
    /// Write the summary (accuracy, confusion matrix, counts) as JSON here.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// Row files written by `eval --shard i/n --out F.jsonl`.
    #[arg(required = true, value_name = "SHARD.jsonl")]
    shards: Vec<PathBuf>,
    /// Write the merged rows here (.jsonl), sorted by file.
    #[arg(long, value_name = "F.jsonl")]
    out: Option<PathBuf>,
    /// Directory for confusion.png and confusion.svg.
    #[arg(long, value_name = "DIR", default_value = "out/eval")]
    plots: PathBuf,
    /// Write the summary as JSON here.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

/// `--shard i/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

fn parse_shard(s: &str) -> std::result::Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("{s:?} is not i/n (e.g. 0/4)"))?;
    let i: usize = i.trim().parse().map_err(|_| format!("shard index {i:?} is not a whole number"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("shard count {n:?} is not a whole number"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: the index must be 0..={} (0-based) and the count ≥ 1", n.saturating_sub(1)));
    }
    Ok(Shard { index: i, count: n })
}

/// One sample of the dataset.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Path relative to the dataset folder, `/`-separated (the row's `file`).
    pub rel: String,
    pub path: PathBuf,
    pub label: String,
}

/// Scans a dataset folder; returns the class folder names (sorted) and the
/// samples sorted by relative path, plus the number of files skipped for an
/// unknown extension.
pub fn scan(dir: &Path) -> Result<(Vec<String>, Vec<Sample>, usize)> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("cannot read dataset folder {}", dir.display()))?;
    let mut classes = Vec::new();
    for e in rd {
        let e = e.with_context(|| format!("cannot read dataset folder {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if e.path().is_dir() {
            classes.push(name);
        }
    }
    classes.sort();
    if classes.is_empty() {
        bail!("{}: no class folders; the dataset layout is one folder per class, named by its label, holding event files", dir.display());
    }
    let mut samples = Vec::new();
    let mut skipped = 0;
    for c in &classes {
        let cd = dir.join(c);
        for e in std::fs::read_dir(&cd).with_context(|| format!("cannot read {}", cd.display()))? {
            let e = e.with_context(|| format!("cannot read {}", cd.display()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if name.starts_with('.') || !p.is_file() {
                continue;
            }
            if Format::from_path(&p).is_err() {
                skipped += 1;
                continue;
            }
            samples.push(Sample { rel: format!("{c}/{name}"), path: p, label: c.clone() });
        }
    }
    samples.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((classes, samples, skipped))
}

struct Setup<'a> {
    cfg: &'a ValidConfig,
    readout: Readout,
    labels: &'a Labels,
    transform: super::TransformArgs,
    leak_period_us: Option<u64>,
}

fn run_sample(s: &Setup, sample: &Sample) -> Result<Row> {
    let inputs = Inputs { transform: s.transform.transform().unwrap_or_default(), leak_period_us: s.leak_period_us };
    let (items, tr) = inputs.open(&sample.path, s.cfg.n_cores())?;
    let run = eval::run_sample(s.cfg, &s.readout, items).map_err(|e| match e {
        // The reader's errors already name the file.
        StreamError::Input { error, .. } => anyhow!("{error}"),
        e => anyhow!("{}: {e}", sample.path.display()),
    })?;
    // The stream is consumed: the counts are final.
    let dropped = tr.map_or(0, |r| r.lock().unwrap_or_else(|e| e.into_inner()).dropped);
    Ok(s.labels.row(sample.rel.clone(), sample.label.clone(), &run, dropped))
}

fn print_report(r: &Report) {
    println!(
        "accuracy {:.2}% ({} of {} samples correct); {} samples with no readout spike (prediction none, counted wrong)",
        100.0 * r.accuracy,
        r.correct,
        r.samples,
        r.silent
    );
    println!("confusion matrix (rows: label, columns: prediction):");
    let w = r.classes.iter().map(String::len).max().unwrap_or(1).max(5);
    let mut head = format!("{:>w$}", "");
    for c in r.classes.iter().map(String::as_str).chain(["none"]) {
        head += &format!(" {c:>w$}");
    }
    println!("{head}");
    for (c, row) in r.classes.iter().zip(&r.confusion) {
        let mut line = format!("{c:>w$}");
        for v in row {
            line += &format!(" {v:>w$}");
        }
        println!("{line}");
    }
    println!("{} synaptic updates; {} DVS events dropped by --downsample/--crop", r.synaptic_updates, r.dropped_events);
}

fn draw_confusion<DB: DrawingBackend>(root: &DrawingArea<DB, plotters::coord::Shift>, r: &Report) -> Result<()> {
    use plotters::coord::ranged1d::SegmentValue;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing failed: {x:?}");
    root.fill(&WHITE).map_err(e)?;
    let (nr, nc) = (r.classes.len(), r.classes.len() + 1);
    let title = format!("accuracy {:.2}% ({} / {})", 100.0 * r.accuracy, r.correct, r.samples);
    // Segmented axes: one labelled cell per class; row 0 (the first label) at the top.
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..nc).into_segmented(), (0..nr).into_segmented())
        .map_err(e)?;
    let cols: Vec<String> = r.classes.iter().cloned().chain(["none".to_string()]).collect();
    let rows = r.classes.clone();
    let at = |v: &SegmentValue<usize>| match *v {
        SegmentValue::Exact(i) | SegmentValue::CenterOf(i) => Some(i),
        SegmentValue::Last => None,
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("prediction")
        .y_desc("label")
        .x_labels(nc)
        .y_labels(nr)
        .x_label_formatter(&|v| at(v).and_then(|i| cols.get(i).cloned()).unwrap_or_default())
        .y_label_formatter(&|v| at(v).filter(|&i| i < nr).and_then(|i| rows.get(nr - 1 - i).cloned()).unwrap_or_default())
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(e)?;
    let max = r.confusion.iter().flatten().copied().max().unwrap_or(1).max(1);
    for (i, row) in r.confusion.iter().enumerate() {
        let y = nr - 1 - i;
        for (j, &v) in row.iter().enumerate() {
            let shade = 255 - (200 * v / max) as u8;
            let color = if j == i { RGBColor(shade, 255, shade) } else { RGBColor(255, shade, shade) };
            let cell = [(SegmentValue::Exact(j), SegmentValue::Exact(y)), (SegmentValue::Exact(j + 1), SegmentValue::Exact(y + 1))];
            chart.draw_series(std::iter::once(Rectangle::new(cell, color.filled()))).map_err(e)?;
            let style = ("sans-serif", 14).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(v.to_string(), (SegmentValue::CenterOf(j), SegmentValue::CenterOf(y)), style))).map_err(e)?;
        }
    }
    root.present().map_err(e)
}

/// Writes confusion.png and confusion.svg into `dir`.
fn write_plots(r: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    if r.classes.is_empty() {
        return Ok(Vec::new());
    }
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).map_err(|_| anyhow!("embedded font is invalid"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let side = (160 + 60 * (r.classes.len() as u32 + 1)).min(4000);
    let png = dir.join("confusion.png");
    draw_confusion(&BitMapBackend::new(&png, (side, side)).into_drawing_area(), r)?;
    let svg = dir.join("confusion.svg");
    draw_confusion(&SVGBackend::new(&svg, (side, side)).into_drawing_area(), r)?;
    Ok(vec![png, svg])
}

fn write_rows(path: &Path, rows: &[Row]) -> Result<()> {
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let f = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    for r in rows {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))
}

fn finish(rows: &[Row], out: Option<&Path>, plots: &Path, summary_json: Option<&Path>) -> Result<()> {
    let r = report(rows);
    print_report(&r);
    if let Some(o) = out {
        write_rows(o, rows)?;
        println!("wrote {} rows to {}", rows.len(), o.display());
    }
    for p in write_plots(&r, plots)? {
        println!("wrote {}", p.display());
    }
    if let Some(p) = summary_json {
        super::write_file(p, &serde_json::to_string_pretty(&r)?)?;
    }
    Ok(())
}

fn run_eval(a: RunArgs) -> Result<u8> {
    let (Some(config), Some(data)) = (a.config.as_deref(), a.data.as_deref()) else {
        bail!("eval needs --config and --data (or the merge subcommand)");
    };
    let cfg = super::load_config(config)?;
    let readout = Readout::new(&cfg, a.readout_core.map(i64::from), "--readout-core ").map_err(|e| anyhow!(e))?;
    let (classes, all, skipped) = scan(data)?;
    let labels = Labels::new(&classes, readout.neurons, LabelSource::Folders).map_err(|e| anyhow!(e))?;
    if skipped > 0 {
        eprintln!("note: {skipped} files without an event-file extension were skipped");
    }
    let samples: Vec<&Sample> = match a.shard {
        Some(s) => all.iter().enumerate().filter(|(i, _)| i % s.count == s.index).map(|(_, x)| x).collect(),
        None => all.iter().collect(),
    };
    println!(
        "{} samples in {} classes{}; readout: core {} ({} neurons, {})",
        samples.len(),
        classes.len(),
        a.shard.map_or(String::new(), |s| format!(" (shard {}/{} of {} samples)", s.index, s.count, all.len())),
        readout.core,
        readout.neurons,
        if readout.host { "host readout spikes" } else { "monitor copies" }
    );
    let setup = Setup { cfg: &cfg, readout, labels: &labels, transform: a.transform, leak_period_us: a.leak_period_us };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = a.threads {
        pool = pool.num_threads(usize::from(n));
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    let pb = ProgressBar::new(samples.len() as u64);
    pb.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} samples {per_sec} eta {eta}").expect("static template"));
    let start = Instant::now();
    let results: Vec<Result<Row>> = pool.install(|| {
        samples
            .par_iter()
            .map(|s| {
                let r = run_sample(&setup, s);
                pb.inc(1);
                r
            })
            .collect()
    });
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let errors: Vec<String> = results.iter().filter_map(|r| r.as_ref().err()).map(|e| format!("{e:#}")).collect();
    if !errors.is_empty() {
        let shown = errors.iter().take(10).map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n");
        bail!("{} of {} samples could not be run (no accuracy is reported with samples missing):\n{shown}", errors.len(), samples.len());
    }
    let rows: Vec<Row> = results.into_iter().map(|r| r.expect("errors handled above")).collect();
    println!("ran {} samples in {:.2} s on {} threads", rows.len(), secs, pool.current_num_threads());
    finish(&rows, a.out.as_deref(), &a.plots, a.summary_json.as_deref())?;
    Ok(crate::EXIT_OK)
}

fn run_merge(a: MergeArgs) -> Result<u8> {
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for p in &a.shards {
        let f = std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.with_context(|| format!("cannot read {}", p.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let r: Row = serde_json::from_str(&line).map_err(|e| anyhow!("{}: line {}: {e}", p.display(), i + 1))?;
            if let Some(prev) = seen.insert(r.file.clone(), p.display().to_string()) {
                bail!("{}: line {}: sample {:?} is also in {prev}; shards must not overlap", p.display(), i + 1, r.file);
            }
            rows.push(r);
        }
    }
    rows.sort_by(|x, y| x.file.cmp(&y.file));
    println!("{} samples from {} shard files", rows.len(), a.shards.len());
    finish(&rows, a.out.as_deref(), &a.plots, a.summary_json.as_deref())?;
    Ok(crate::EXIT_OK)
}

pub fn run(a: Args) -> Result<u8> {
    match a.cmd {
        Some(Sub::Merge(m)) => run_merge(m),
        None => run_eval(a.run),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_zero_based() {
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(parse_shard("4/4").unwrap_err().contains("0..=3"));
        assert!(parse_shard("0/0").is_err());
        assert!(parse_shard("1-4").is_err());
    }
}
