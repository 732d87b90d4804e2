//! `spikehdl plot --events OUT.jsonl --out DIR [--config C]`: a spike raster
//! (time × neuron, one panel per layer) and per-layer firing-rate histograms,
//! each as PNG and SVG. Text is drawn with the embedded DejaVu Sans font, so
//! no system fonts are needed.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use spikehdl_model::presets::DVS_LAYER;
use spikehdl_model::{HostOutput, Timed};

#[derive(clap::Args)]
pub struct Args {
    /// Host output events written by `simulate --out` (.jsonl or .csv).
    #[arg(long)]
    events: PathBuf,
    /// Directory for raster.{png,svg} and rates.{png,svg} (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// The chip configuration: with it, silent neurons count in the rate histograms.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// The spikes of one source: a layer's monitor copies, or its readout.
#[derive(Debug, Default, Clone)]
pub struct Panel {
    pub title: String,
    /// (t in µs, f, x, y)
    pub spikes: Vec<(u64, u32, u32, u32)>,
    /// Neurons of the layer (silent ones included), when known.
    pub neurons: Option<u64>,
}

/// Reads host outputs (JSON Lines or CSV `t,kind,layer,f,x,y,value`).
pub fn read_outputs(path: &Path) -> Result<Vec<Timed<HostOutput>>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
        let l = line.trim();
        if l.is_empty() || (csv && i == 0 && l.starts_with('t')) {
            continue;
        }
        let item = if csv {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let n = |k: usize| -> Result<i64> {
                f.get(k).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("{}: line {}: field {} is not a number", path.display(), i + 1, k + 1))
            };
            let (layer, ff, x, y) = (n(2)? as u8, n(3)? as u16, n(4)? as u16, n(5)? as u16);
            let item = match f.get(1).copied() {
                Some("spike") => HostOutput::Spike { layer, f: ff, x, y },
                Some("monitor") => HostOutput::Monitor { layer, f: ff, x, y },
                Some("neuron_value") => HostOutput::NeuronValue { layer, f: ff, x, y, value: n(6)? as i16 },
                k => bail!("{}: line {}: unknown kind {k:?}", path.display(), i + 1),
            };
            Timed { t: n(0)? as u64, item }
        } else {
            serde_json::from_str(l).with_context(|| format!("{}: line {}", path.display(), i + 1))?
        };
        out.push(item);
    }
    Ok(out)
}

/// Groups spikes into panels: per layer its monitor events if it has any, else its readout.
pub fn panels(items: &[Timed<HostOutput>], cfg: Option<&spikehdl_model::ValidConfig>) -> Vec<Panel> {
    let mut mon: BTreeMap<u8, Panel> = BTreeMap::new();
    let mut readout: BTreeMap<u8, Panel> = BTreeMap::new();
    for it in items {
        match it.item {
            HostOutput::Monitor { layer, f, x, y } => mon.entry(layer).or_default().spikes.push((it.t, f.into(), x.into(), y.into())),
            HostOutput::Spike { layer, f, x, y } => readout.entry(layer).or_default().spikes.push((it.t, f.into(), x.into(), y.into())),
            HostOutput::NeuronValue { .. } => {}
        }
    }
    let name = |l: u8| if l == DVS_LAYER { "DVS".to_string() } else { format!("core {l}") };
    let layer_of = |l: u8| cfg.and_then(|c| c.layers.get(l as usize).and_then(|x| x.as_ref()));
    let mut out = Vec::new();
    let layers: std::collections::BTreeSet<u8> = mon.keys().chain(readout.keys()).copied().collect();
    for l in layers {
        let mut p = if let Some(mut p) = mon.remove(&l) {
            p.title = format!("{} (monitor)", name(l));
            p.neurons = layer_of(l).map(|x| u64::from(x.f) * u64::from(x.h_out) * u64::from(x.w_out));
            p
        } else {
            let mut p = readout.remove(&l).unwrap_or_default();
            p.title = format!("{} (readout)", name(l));
            p.neurons = layer_of(l).map(|x| {
                let pool = x.destinations.iter().find(|d| d.enable && d.layer == spikehdl_model::presets::HOST_LAYER).map_or(1, |d| d.pooling);
                u64::from(x.f) * u64::from(x.h_out / pool) * u64::from(x.w_out / pool)
            });
            p
        };
        p.spikes.sort_unstable();
        out.push(p);
    }
    out
}

fn neuron_index(p: &Panel, t0: u64) -> (Vec<(f64, u64)>, u64) {
    let mx = p.spikes.iter().map(|s| s.2).max().unwrap_or(0) as u64 + 1;
    let my = p.spikes.iter().map(|s| s.3).max().unwrap_or(0) as u64 + 1;
    let mf = p.spikes.iter().map(|s| s.1).max().unwrap_or(0) as u64 + 1;
    let pts = p.spikes.iter().map(|&(t, f, x, y)| ((t - t0) as f64 / 1000.0, (u64::from(f) * my + u64::from(y)) * mx + u64::from(x))).collect();
    (pts, mf * my * mx)
}

/// Firing rates (Hz) of every neuron that spiked, plus zeros for the silent ones when the layer size is known.
pub fn rates(p: &Panel, duration_us: u64) -> Vec<f64> {
    let mut counts: BTreeMap<(u32, u32, u32), u64> = BTreeMap::new();
    for &(_, f, x, y) in &p.spikes {
        *counts.entry((f, x, y)).or_default() += 1;
    }
    let secs = duration_us.max(1) as f64 / 1e6;
    let mut r: Vec<f64> = counts.values().map(|&c| c as f64 / secs).collect();
    if let Some(n) = p.neurons {
        r.resize(n.max(r.len() as u64) as usize, 0.0);
    }
    r
}

const COLORS: [RGBColor; 6] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189), RGBColor(255, 127, 14), RGBColor(23, 190, 207)];

fn e<E: std::fmt::Debug>(x: E) -> anyhow::Error {
    anyhow!("drawing failed: {x:?}")
}

fn draw_raster<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[Panel], t0: u64, t1: u64) -> Result<()> {
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len(), 1));
    for (i, (p, area)) in panels.iter().zip(&areas).enumerate() {
        let (pts, n) = neuron_index(p, t0);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{}: {} spikes", p.title, p.spikes.len()), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..(t1 - t0) as f64 / 1000.0, 0u64..n)
            .map_err(e)?;
        chart.configure_mesh().x_desc("time since the first spike (ms)").y_desc("neuron").label_style(("sans-serif", 12)).disable_mesh().draw().map_err(e)?;
        let c = COLORS[i % COLORS.len()];
        chart.draw_series(pts.iter().map(|&(t, k)| Circle::new((t, k), 1, c.filled()))).map_err(e)?;
    }
    root.present().map_err(e)
}

fn draw_rates<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[Panel], duration_us: u64) -> Result<()> {
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len(), 1));
    for (i, (p, area)) in panels.iter().zip(&areas).enumerate() {
        let r = rates(p, duration_us);
        let max = r.iter().copied().fold(0.0f64, f64::max).max(1.0);
        const BINS: usize = 20;
        let w = max / BINS as f64;
        let mut bins = [0u64; BINS];
        for &v in &r {
            bins[((v / w) as usize).min(BINS - 1)] += 1;
        }
        let top = bins.iter().copied().max().unwrap_or(1).max(1);
        let mean = if r.is_empty() { 0.0 } else { r.iter().sum::<f64>() / r.len() as f64 };
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{}: {} neurons, mean {:.1} Hz", p.title, r.len(), mean), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max, 0u64..top + top / 10 + 1)
            .map_err(e)?;
        chart.configure_mesh().x_desc("firing rate (Hz)").y_desc("neurons").label_style(("sans-serif", 12)).disable_mesh().draw().map_err(e)?;
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(bins.iter().enumerate().filter(|(_, &n)| n > 0).map(|(b, &n)| Rectangle::new([(b as f64 * w, 0), ((b + 1) as f64 * w, n)], c.mix(0.8).filled())))
            .map_err(e)?;
    }
    root.present().map_err(e)
}

/// Writes raster.{png,svg} and rates.{png,svg} into `dir`; returns the paths.
pub fn write_plots(panels: &[Panel], dir: &Path) -> Result<Vec<PathBuf>> {
    if panels.is_empty() {
        bail!("no spike or monitor events to plot");
    }
    // Registering twice is harmless (the map entry is replaced).
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).map_err(|_| anyhow!("embedded font is invalid"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let t0 = panels.iter().filter_map(|p| p.spikes.first()).map(|s| s.0).min().unwrap_or(0);
    let t1 = panels.iter().filter_map(|p| p.spikes.last()).map(|s| s.0).max().unwrap_or(0).max(t0 + 1);
    let size = (1000u32, 40 + 220 * panels.len() as u32);
    let mut paths = Vec::new();
    let p = dir.join("raster.png");
    draw_raster(&BitMapBackend::new(&p, size).into_drawing_area(), panels, t0, t1)?;
    paths.push(p);
    let p = dir.join("raster.svg");
    draw_raster(&SVGBackend::new(&p, size).into_drawing_area(), panels, t0, t1)?;
    paths.push(p);
    let p = dir.join("rates.png");
    draw_rates(&BitMapBackend::new(&p, size).into_drawing_area(), panels, t1 - t0)?;
    paths.push(p);
    let p = dir.join("rates.svg");
    draw_rates(&SVGBackend::new(&p, size).into_drawing_area(), panels, t1 - t0)?;
    paths.push(p);
    Ok(paths)
}

pub fn run(a: Args) -> Result<u8> {
    let items = read_outputs(&a.events)?;
    let cfg = a.config.as_deref().map(super::load_config).transpose()?;
    let panels = panels(&items, cfg.as_ref());
    for p in &panels {
        println!("{}: {} spikes", p.title, p.spikes.len());
    }
    for p in write_plots(&panels, &a.out)? {
        println!("wrote {}", p.display());
    }
    Ok(crate::EXIT_OK)
}
