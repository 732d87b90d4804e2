//! Accuracy on the bit-exact chip: one labelled sample at a time from the
//! configured initial state, the readout neurons' spike counts, the
//! prediction and the report over many samples. The CLI's `eval` (dataset
//! folders, shards, plots) and the Python package's `eval` (any iterable of
//! `(events, label)`) are both built on this module, so they decide alike.
//!
//! Events reach the model through [`Inputs`]: a reader of
//! [`crate::io`] → the [`InputTransform`] → [`LeakTicks`] →
//! [`run_stream`], the chain `simulate` runs too.
//!
//! The readout neurons are the output features of the readout core; a
//! neuron's count is the number of its spikes that reach the host (summed
//! over x, y). The rules that decide a prediction (labels ↔ neurons, ties,
//! silent samples) are in [`Labels`] and [`predict`], and listed in
//! `docs/decisions.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::chip::ChipModel;
use crate::events::{HostInput, HostOutput, Timed};
use crate::io::{open_inputs, DvsBounds, EventFileError, InputStream, LeakTicks, ReadOptions};
use crate::pipeline::{run_stream, StreamError, StreamOptions};
use crate::presets::HOST_LAYER;
use crate::transform::InputTransform;
use crate::validate::ValidConfig;

/// Where a streamed [`InputTransform`] leaves its final counts.
pub type TransformReport = Arc<Mutex<InputTransform>>;

/// How items reach the model: the transform fitting a larger sensor and
/// the leak period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    pub transform: InputTransform,
    /// A leak tick every N µs of event time, the first N µs after the first item.
    pub leak_period_us: Option<u64>,
}

impl Inputs {
    /// Without a transform, readers check DVS events against the chip's
    /// input (their errors say how to fit a larger sensor); with one, they
    /// read sensor coordinates and the transform fits them.
    pub fn read_options(&self, n_cores: usize) -> ReadOptions {
        let dvs = if self.transform.is_identity() { DvsBounds::Chip } else { DvsBounds::Sensor };
        ReadOptions { n_cores, dvs }
    }

    /// Reader → transform → leak ticks. The handle holds the transform's
    /// counts once the stream has been consumed (None without a transform).
    pub fn chain(&self, items: InputStream) -> (InputStream, Option<TransformReport>) {
        let (items, report): (InputStream, _) = if self.transform.is_identity() {
            (items, None)
        } else {
            let (items, report) = self.transform.stream(items);
            (Box::new(items), Some(report))
        };
        match self.leak_period_us {
            Some(p) => (Box::new(LeakTicks::new(items, p)), report),
            None => (items, report),
        }
    }

    /// An event file through [`chain`](Self::chain).
    pub fn open(&self, path: &Path, n_cores: usize) -> Result<(InputStream, Option<TransformReport>), EventFileError> {
        Ok(self.chain(open_inputs(path, self.read_options(n_cores))?))
    }
}

/// Where the labels come from, for messages: dataset folders or label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// Class folders of a dataset directory (the CLI).
    Folders,
    /// Label values given with the samples (the Python package).
    Values,
}

impl LabelSource {
    fn one(self) -> &'static str {
        match self {
            LabelSource::Folders => "class folder",
            LabelSource::Values => "label",
        }
    }
}

/// How labels map to readout neurons.
///
/// - Every label is a whole number: label "k" is neuron k (the labels may
///   be a subset of the neurons; "10" sorts after "9").
/// - Otherwise: the labels in sorted order are neurons 0, 1, …; their
///   number must equal the number of readout neurons.
#[derive(Debug, Clone)]
pub struct Labels {
    /// Label of each neuron (for predictions).
    pub of_neuron: Vec<String>,
}

impl Labels {
    /// `classes`: every label, sorted, without repeats.
    pub fn new(classes: &[String], neurons: usize, source: LabelSource) -> Result<Self, String> {
        let one = source.one();
        let numeric: Option<Vec<usize>> = classes.iter().map(|c| c.parse::<usize>().ok().filter(|v| v.to_string() == *c)).collect();
        match numeric {
            Some(vals) => {
                let mut of_neuron: Vec<String> = (0..neurons).map(|k| k.to_string()).collect();
                for (c, &v) in classes.iter().zip(&vals) {
                    if v >= neurons {
                        return Err(format!(
                            "{one} {c:?} has no readout neuron: the readout has {neurons} neurons (labels 0..={})",
                            neurons.saturating_sub(1)
                        ));
                    }
                    of_neuron[v] = c.clone();
                }
                Ok(Self { of_neuron })
            }
            None => {
                if classes.len() != neurons {
                    let rule = match source {
                        LabelSource::Folders => format!("folder i (sorted) is neuron i, so both counts must match (or name the folders 0..{})", neurons.saturating_sub(1)),
                        LabelSource::Values => format!("label i (sorted) is neuron i, so both counts must match (or use the labels 0..{})", neurons.saturating_sub(1)),
                    };
                    return Err(format!(
                        "{} {one}s ({}) but the readout has {neurons} neurons; with non-numeric labels {rule}",
                        classes.len(),
                        classes.join(", "),
                    ));
                }
                Ok(Self { of_neuron: classes.to_vec() })
            }
        }
    }

    /// The row of one sample that ran.
    pub fn row(&self, file: String, label: String, s: &SampleRun, dropped_events: u64) -> Row {
        let prediction = predict(&s.counts).map(|k| self.of_neuron[k].clone());
        Row {
            file,
            correct: prediction.as_deref() == Some(label.as_str()),
            label,
            prediction,
            counts: s.counts.clone(),
            synaptic_updates: s.synaptic_updates,
            input_items: s.input_items,
            dropped_events,
        }
    }
}

/// The most active neuron: the highest count, the lowest index on ties;
/// None when no readout neuron spiked.
pub fn predict(counts: &[u64]) -> Option<usize> {
    let (best, &n) = counts.iter().enumerate().fold((0, &0u64), |acc, (i, c)| if *c > *acc.1 { (i, c) } else { acc });
    (n > 0).then_some(best)
}

/// Where the readout neurons' spikes are counted.
#[derive(Debug, Clone, Copy)]
pub struct Readout {
    pub core: u8,
    /// Number of neurons (the core's output features).
    pub neurons: usize,
    /// Count host readout spikes (true) or monitor copies (false).
    pub host: bool,
    /// The host destination's feature shift, subtracted from readout `f`.
    pub shift: u32,
}

impl Readout {
    /// `option`: how the caller spells the readout-core option before its
    /// value in messages (`"--readout-core "`, `"readout_core="`).
    pub fn new(cfg: &ValidConfig, core: Option<i64>, option: &str) -> Result<Self, String> {
        let to_host = |i: usize| cfg.layers[i].as_ref().and_then(|l| l.destinations.iter().find(|d| d.enable && d.layer == HOST_LAYER).copied());
        let core = match core {
            Some(c) => c,
            None => {
                let senders: Vec<usize> = (0..cfg.layers.len()).filter(|&i| to_host(i).is_some()).collect();
                match senders[..] {
                    [one] => one as i64,
                    [] => return Err(format!("no core sends its spikes to the host (destination {HOST_LAYER}); name the readout core with {option}N (its monitor is counted then)")),
                    _ => return Err(format!("cores {senders:?} send to the host; name the readout core with {option}N")),
                }
            }
        };
        let layer = usize::try_from(core).ok().and_then(|i| cfg.layers.get(i)).and_then(Option::as_ref);
        let Some(layer) = layer else {
            return Err(format!("{option}{core}: core {core} has no layer in this configuration (cores 0..={})", cfg.n_cores() - 1));
        };
        // A configured core's id is below the core count (at most 12).
        let core = core as u8;
        match to_host(usize::from(core)) {
            Some(d) => Ok(Self { core, neurons: layer.f as usize, host: true, shift: d.feature_shift }),
            None if layer.monitor_enable => Ok(Self { core, neurons: layer.f as usize, host: false, shift: 0 }),
            None => Err(format!("{option}{core}: core {core} neither sends to the host nor has monitor_enable; its spikes never reach the host")),
        }
    }

    /// The neuron an output is a spike of, if it is one.
    pub fn neuron(&self, o: &HostOutput) -> Option<usize> {
        let k = match *o {
            HostOutput::Spike { layer, f, .. } if self.host && layer == self.core => u32::from(f).checked_sub(self.shift).map(|v| v as usize),
            HostOutput::Monitor { layer, f, .. } if !self.host && layer == self.core => Some(usize::from(f)),
            _ => None,
        };
        k.filter(|&k| k < self.neurons)
    }
}

/// What one sample's run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRun {
    /// Spikes per readout neuron.
    pub counts: Vec<u64>,
    pub synaptic_updates: u64,
    /// Input items after the transform (leak ticks included).
    pub input_items: u64,
}

/// Runs one sample through a fresh model of `cfg` (the configured initial
/// state) on one thread, counting the readout neurons' spikes.
pub fn run_sample<I, E>(cfg: &ValidConfig, readout: &Readout, inputs: I) -> Result<SampleRun, StreamError<E>>
where
    I: Iterator<Item = Result<Timed<HostInput>, E>> + Send,
    E: Send,
{
    let mut chip = ChipModel::new(cfg);
    let mut counts = vec![0u64; readout.neurons];
    let report = run_stream(&mut chip, &StreamOptions::threads(1), inputs, |o: &Timed<HostOutput>| {
        if let Some(k) = readout.neuron(&o.item) {
            counts[k] += 1;
        }
        Ok(())
    })?;
    let synaptic_updates = (0..chip.n_cores()).map(|i| chip.core_counters(i).synaptic_updates).sum();
    Ok(SampleRun { counts, synaptic_updates, input_items: report.items })
}

/// One sample's result (one JSONL row of `eval --out`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Path relative to the dataset folder.
    pub file: String,
    pub label: String,
    /// The most active readout neuron's label; null when no readout neuron spiked.
    pub prediction: Option<String>,
    pub correct: bool,
    /// Spikes per readout neuron.
    pub counts: Vec<u64>,
    pub synaptic_updates: u64,
    /// Input items after the transform (leak ticks included).
    pub input_items: u64,
    /// DVS events the transform dropped outside the window.
    pub dropped_events: u64,
}

/// Accuracy and confusion matrix of a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub samples: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Samples where no readout neuron spiked (prediction null; counted as wrong).
    pub silent: usize,
    /// Axis labels: every label and prediction seen, numeric order when all are numbers.
    pub classes: Vec<String>,
    /// `confusion[true][predicted]` over `classes`, plus a last column "none" for silent samples.
    pub confusion: Vec<Vec<u64>>,
    pub synaptic_updates: u64,
    pub dropped_events: u64,
}

fn class_order(set: BTreeSet<String>) -> Vec<String> {
    let mut v: Vec<String> = set.into_iter().collect();
    if v.iter().all(|c| c.parse::<u64>().is_ok()) {
        v.sort_by_key(|c| c.parse::<u64>().unwrap_or(0));
    }
    v
}

pub fn report(rows: &[Row]) -> Report {
    let classes = class_order(rows.iter().flat_map(|r| std::iter::once(r.label.clone()).chain(r.prediction.clone())).collect());
    let idx: BTreeMap<&str, usize> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let mut confusion = vec![vec![0u64; classes.len() + 1]; classes.len()];
    for r in rows {
        let col = r.prediction.as_deref().map_or(classes.len(), |p| idx[p]);
        confusion[idx[r.label.as_str()]][col] += 1;
    }
    let correct = rows.iter().filter(|r| r.correct).count();
    Report {
        samples: rows.len(),
        correct,
        accuracy: if rows.is_empty() { 0.0 } else { correct as f64 / rows.len() as f64 },
        silent: rows.iter().filter(|r| r.prediction.is_none()).count(),
        classes,
        confusion,
        synaptic_updates: rows.iter().map(|r| r.synaptic_updates).sum(),
        dropped_events: rows.iter().map(|r| r.dropped_events).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_lowest_neuron_and_silence_is_none() {
        assert_eq!(predict(&[0, 3, 3, 1]), Some(1));
        assert_eq!(predict(&[2, 0, 0, 2]), Some(0));
        assert_eq!(predict(&[0, 0, 0]), None);
        assert_eq!(predict(&[]), None);
        assert_eq!(predict(&[0, 0, 1]), Some(2));
    }

    #[test]
    fn labels_map_numbers_to_neurons_and_names_in_order() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let l = Labels::new(&s(&["10", "2", "0"]), 11, LabelSource::Folders).unwrap();
        assert_eq!(l.of_neuron[10], "10");
        assert_eq!(l.of_neuron[2], "2");
        assert!(Labels::new(&s(&["3"]), 3, LabelSource::Folders).unwrap_err().contains("class folder \"3\" has no readout neuron"));
        assert!(Labels::new(&s(&["3"]), 3, LabelSource::Values).unwrap_err().starts_with("label \"3\" has no readout neuron"));
        // "03" is not the number 3's spelling: names mode
        let l = Labels::new(&s(&["cars", "background"]), 2, LabelSource::Folders).unwrap();
        assert_eq!(l.of_neuron, s(&["cars", "background"]));
        assert!(Labels::new(&s(&["a", "b", "c"]), 2, LabelSource::Folders).unwrap_err().contains("3 class folders (a, b, c) but the readout has 2 neurons"));
        assert!(Labels::new(&s(&["a", "b", "c"]), 2, LabelSource::Values).unwrap_err().contains("3 labels (a, b, c) but the readout has 2 neurons"));
    }

    #[test]
    fn report_orders_numeric_classes_and_counts_silent_samples() {
        let row = |f: &str, l: &str, p: Option<&str>| Row {
            file: f.into(),
            label: l.into(),
            prediction: p.map(Into::into),
            correct: p == Some(l),
            counts: vec![],
            synaptic_updates: 1,
            input_items: 0,
            dropped_events: 0,
        };
        let r = report(&[row("a", "10", Some("10")), row("b", "2", Some("10")), row("c", "2", None), row("d", "9", Some("9"))]);
        assert_eq!(r.classes, vec!["2", "9", "10"]);
        assert_eq!(r.confusion, vec![vec![0, 0, 1, 1], vec![0, 1, 0, 0], vec![0, 0, 1, 0]]);
        assert_eq!((r.correct, r.samples, r.silent), (2, 4, 1));
        assert_eq!(r.accuracy, 0.5);
    }
}
