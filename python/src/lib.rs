//! The native half of the `spikehdl` Python package: the golden model of
//! `spikehdl-model` (and NIR import of `spikehdl-nir` with the `nir`
//! feature) behind a small interface that `spikehdl/__init__.py` wraps.
//!
//! Events take the model crate's one input path, the one `spikehdl
//! simulate` takes: a reader of `spikehdl_model::io` (an event file, or
//! the `.npy` reader over the bytes of a NumPy array) → the input transform
//! → leak ticks ([`Inputs`]) → `pipeline::run_stream`. So results are the
//! CLI's by construction, and so are the errors.
//!
//! Every model run releases the GIL. A panic is a bug; it is caught at this
//! boundary and raised as `InternalError` rather than as PyO3's
//! `PanicException` (which `except Exception` does not catch).

use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;
use rayon::prelude::*;
use spikehdl_model::chip::static_limit;
use spikehdl_model::config::ChipConfig;
use spikehdl_model::eval::{self, Inputs, LabelSource, Labels, Readout, SampleRun, TransformReport};
use spikehdl_model::io::{write_outputs_to, EventFileError, Format, InputStream};
use spikehdl_model::npy::NpyStream;
use spikehdl_model::pipeline::{run_stream, RunReport, StreamError, StreamOptions};
use spikehdl_model::presets::{DVS_LAYER, MAX_CORES};
use spikehdl_model::transform::InputTransform;
use spikehdl_model::{ChipModel, HostInput, HostOutput, Timed, ValidConfig};

create_exception!(spikehdl, Error, PyValueError, "Base of every error spikehdl raises for bad input (a ValueError).");
create_exception!(spikehdl, ConfigError, Error, "An invalid chip configuration; `errors` lists (path, message) pairs.");
create_exception!(spikehdl, EventError, Error, "A bad event file or array (names the file or array, the line or record, the field, its value and the limit), or a host item the chip refuses.");
create_exception!(spikehdl, NirError, Error, "A NIR graph that cannot be imported (names the node or the failing constraint).");
create_exception!(spikehdl, OptionError, Error, "A bad argument (names the argument, its value and the limit).");
create_exception!(spikehdl, FeatureMissing, Error, "A part of spikehdl this build does not have (names what to install and how to rebuild).");
create_exception!(spikehdl, InternalError, PyRuntimeError, "A bug in spikehdl (a Rust panic caught at the boundary); please report it.");

fn opt_err(msg: impl Into<String>) -> PyErr {
    OptionError::new_err(msg.into())
}

/// Runs `f`, turning a panic into `InternalError`.
fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            Err(InternalError::new_err(format!("internal error (a bug in spikehdl, please report it): {msg}")))
        }
    }
}

/// An integer argument within `lo..=hi`, named in the error.
fn in_range(name: &str, v: i64, lo: i64, hi: i64) -> PyResult<i64> {
    if v < lo || v > hi {
        return Err(opt_err(format!("{name}: {v} is out of range {lo}..={hi}")));
    }
    Ok(v)
}

/// The transform and leak period of a run, checked like the CLI checks
/// `--downsample`, `--crop` and `--leak-period-us`.
fn inputs(downsample: i64, crop: Option<(i64, i64)>, leak_period_us: Option<i64>) -> PyResult<Inputs> {
    let downsample = in_range("downsample", downsample, 1, i64::from(u16::MAX))? as u16;
    let crop = match crop {
        Some((x, y)) => Some((in_range("crop x", x, 0, i64::from(u16::MAX))? as u16, in_range("crop y", y, 0, i64::from(u16::MAX))? as u16)),
        None => None,
    };
    let leak_period_us = leak_period_us.map(|p| in_range("leak_period_us", p, 1, i64::MAX).map(|p| p as u64)).transpose()?;
    Ok(Inputs { transform: InputTransform::new(downsample, crop), leak_period_us })
}

/// Where a run's events come from: an event file, or the `.npy` image of a
/// NumPy array (`name` names it in errors; the header and the data stay
/// separate so that the array's bytes are not copied again).
enum Source {
    Npy { name: String, head: PyBackedBytes, data: PyBackedBytes },
    Path(PathBuf),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Source {
    type Error = PyErr;
    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok((name, head, data)) = ob.extract::<(String, PyBackedBytes, PyBackedBytes)>() {
            return Ok(Source::Npy { name, head, data });
        }
        Ok(Source::Path(ob.extract::<PathBuf>()?))
    }
}

impl Source {
    fn open(self, inputs: &Inputs, n_cores: usize) -> Result<(InputStream, Option<TransformReport>), EventFileError> {
        match self {
            Source::Path(p) => inputs.open(&p, n_cores),
            Source::Npy { name, head, data } => {
                let len = (head.len() + data.len()) as u64;
                let reader = Cursor::new(head).chain(Cursor::new(data));
                let items = NpyStream::new(reader, len, &name, inputs.read_options(n_cores))?;
                Ok(inputs.chain(Box::new(items)))
            }
        }
    }
}

fn event_err(e: EventFileError) -> PyErr {
    EventError::new_err(e.to_string())
}

/// A failed streaming run as the CLI words it (the reader's errors already name the file).
fn stream_err(e: StreamError<EventFileError>, source: &str) -> PyErr {
    match e {
        StreamError::Input { error, .. } => event_err(error),
        e => EventError::new_err(format!("{source}: {e}")),
    }
}

/// One of each host output kind; [`kind_code`] numbers them in this order.
const KIND_SAMPLES: [HostOutput; 3] = [
    HostOutput::Spike { layer: 0, f: 0, x: 0, y: 0 },
    HostOutput::Monitor { layer: 0, f: 0, x: 0, y: 0 },
    HostOutput::NeuronValue { layer: 0, f: 0, x: 0, y: 0, value: 0 },
];

/// The index of `o`'s kind in [`KIND_SAMPLES`] (exhaustive: a new kind is a compile error here).
fn kind_code(o: &HostOutput) -> u8 {
    match o {
        HostOutput::Spike { .. } => 0,
        HostOutput::Monitor { .. } => 1,
        HostOutput::NeuronValue { .. } => 2,
    }
}

/// Host outputs column by column, in the model's own types.
#[derive(Default)]
struct Columns {
    t: Vec<u64>,
    kind: Vec<u8>,
    layer: Vec<u8>,
    f: Vec<u16>,
    x: Vec<u16>,
    y: Vec<u16>,
    value: Vec<i16>,
}

impl Columns {
    fn push(&mut self, o: &Timed<HostOutput>) {
        let (layer, f, x, y, value) = match o.item {
            HostOutput::Spike { layer, f, x, y } | HostOutput::Monitor { layer, f, x, y } => (layer, f, x, y, 0),
            HostOutput::NeuronValue { layer, f, x, y, value } => (layer, f, x, y, value),
        };
        self.t.push(o.t);
        self.kind.push(kind_code(&o.item));
        self.layer.push(layer);
        self.f.push(f);
        self.x.push(x);
        self.y.push(y);
        self.value.push(value);
    }

    /// The columns in the order and with the names of the CLI's CSV output
    /// (`simulate --out F.csv`), read from the model's own writer.
    fn into_dict<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let mut cols = [
            Some(("t", self.t.into_pyarray(py).into_any())),
            Some(("kind", self.kind.into_pyarray(py).into_any())),
            Some(("layer", self.layer.into_pyarray(py).into_any())),
            Some(("f", self.f.into_pyarray(py).into_any())),
            Some(("x", self.x.into_pyarray(py).into_any())),
            Some(("y", self.y.into_pyarray(py).into_any())),
            Some(("value", self.value.into_pyarray(py).into_any())),
        ];
        for name in output_fields()? {
            let col = cols.iter_mut().find(|c| c.as_ref().is_some_and(|(n, _)| *n == name)).and_then(Option::take);
            let Some((n, a)) = col else {
                return Err(InternalError::new_err(format!("the model's output field {name:?} has no column here")));
            };
            d.set_item(n, a)?;
        }
        if let Some((n, _)) = cols.iter().flatten().next() {
            return Err(InternalError::new_err(format!("column {n:?} is not an output field of the model")));
        }
        Ok(d)
    }
}

/// The header of the model's CSV output: `t,kind,layer,f,x,y,value`.
fn output_fields() -> PyResult<Vec<String>> {
    let mut b = Vec::new();
    write_outputs_to(&mut b, Format::Csv, &[]).map_err(|e| InternalError::new_err(e.to_string()))?;
    let head = String::from_utf8_lossy(&b);
    Ok(head.trim_end().split(',').map(str::to_string).collect())
}

/// A chip: its validated configuration, the configuration as given (for
/// `to_json`) and the model with its current state.
#[pyclass(module = "spikehdl._spikehdl")]
struct RawChip {
    config: ChipConfig,
    cfg: ValidConfig,
    model: ChipModel,
    /// The report of the last run.
    last: Option<RunReport>,
}

fn valid(config: ChipConfig, source: &str) -> PyResult<RawChip> {
    let cfg = spikehdl_model::validate(&config).map_err(|e| config_err(source, &e))?;
    Ok(RawChip { model: ChipModel::new(&cfg), config, cfg, last: None })
}

/// The CLI's message (`path: N error(s) in the configuration: ...`) with the errors as (path, message) pairs.
fn config_err(source: &str, e: &spikehdl_model::ConfigErrors) -> PyErr {
    let err = ConfigError::new_err(format!("{source}: {e}").trim_end().to_string());
    Python::attach(|py| {
        let pairs: Vec<(String, String)> = e.0.iter().map(|c| (c.path.clone(), c.message.clone())).collect();
        let _ = err.value(py).setattr("errors", pairs);
    });
    err
}

#[pymethods]
impl RawChip {
    /// Reads a configuration file as `spikehdl check` does.
    #[staticmethod]
    fn from_json(path: PathBuf) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::new_err(format!("cannot read config {}: {e}", path.display())))?;
        Self::from_json_text(&text, &path.display().to_string())
    }

    /// Parses and validates JSON text; `source` names it in errors.
    #[staticmethod]
    fn from_json_text(text: &str, source: &str) -> PyResult<Self> {
        guarded(|| {
            // The CLI's parse and its messages (a syntax error at `<json>`, field paths).
            spikehdl_model::parse_and_validate(text).map_err(|e| config_err(source, &e))?;
            let config = ChipConfig::from_json(text).map_err(|e| ConfigError::new_err(format!("{source}: {e}")))?;
            valid(config, source)
        })
    }

    /// Imports a NIR file with the options of `spikehdl import`; returns the
    /// chip, the warnings and the import report as JSON.
    #[staticmethod]
    #[pyo3(signature = (path, chip, input_shape, min_v_mem, reset, monitor))]
    fn from_nir(py: Python<'_>, path: PathBuf, chip: String, input_shape: Option<(i64, i64, i64)>, min_v_mem: &str, reset: &str, monitor: bool) -> PyResult<(Self, Vec<String>, String)> {
        nir_import(py, path, chip, input_shape, min_v_mem, reset, monitor)
    }

    fn to_json_text(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.config).map(|t| t + "\n").map_err(|e| InternalError::new_err(e.to_string()))
    }

    #[getter]
    fn n_cores(&self) -> usize {
        self.cfg.n_cores()
    }

    /// Per configured core: shapes, kernel, memory words used and capacity, destinations.
    fn memory_rows(&self) -> Vec<(usize, [u32; 3], [u32; 3], u32, [u64; 3], [u64; 3], Vec<(i64, u32, u32)>)> {
        let mut rows = Vec::new();
        for (i, (l, cap)) in self.cfg.layers.iter().zip(&self.cfg.capacities).enumerate() {
            let Some(l) = l else { continue };
            let fp = l.footprint();
            let dests = l.destinations.iter().filter(|d| d.enable).map(|d| (i64::from(d.layer), d.pooling, d.feature_shift)).collect();
            rows.push((
                i,
                [l.c, l.h_in, l.w_in],
                [l.f, l.h_out, l.w_out],
                l.k,
                [fp.kernel_words, fp.neuron_words, fp.bias_words],
                [cap.kernel_words, cap.neuron_words, cap.bias_words],
                dests,
            ));
        }
        rows
    }

    /// Runs `source` from the current state; returns the output columns.
    #[pyo3(signature = (source, threads, leak_period_us, downsample, crop))]
    fn simulate<'py>(
        &mut self,
        py: Python<'py>,
        source: Source,
        threads: Option<i64>,
        leak_period_us: Option<i64>,
        downsample: i64,
        crop: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let inputs = inputs(downsample, crop, leak_period_us)?;
        let threads = match threads {
            Some(n) => in_range("threads", n, 1, 64)? as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let name = match &source {
            Source::Path(p) => p.display().to_string(),
            Source::Npy { name, .. } => name.clone(),
        };
        let n_cores = self.cfg.n_cores();
        let model = &mut self.model;
        let (cols, report) = py.detach(|| {
            guarded(|| {
                let (items, _) = source.open(&inputs, n_cores).map_err(event_err)?;
                let mut cols = Columns::default();
                let report = run_stream(model, &StreamOptions::threads(threads), items, |o: &Timed<HostOutput>| {
                    cols.push(o);
                    Ok(())
                })
                .map_err(|e| stream_err(e, &name))?;
                Ok((cols, report))
            })
        })?;
        self.last = Some(report);
        cols.into_dict(py)
    }

    /// Back to the configured initial state (counters at zero).
    fn reset(&mut self) {
        self.model = ChipModel::new(&self.cfg);
        self.last = None;
    }

    fn read_neuron(&self, layer: i64, f: i64, x: i64, y: i64) -> PyResult<i16> {
        let (core, f, x, y) = self.neuron_at("read_neuron", layer, f, x, y)?;
        // Checked by neuron_at: inside the output map.
        self.model.core(core).and_then(|c| c.neuron(f, x, y)).ok_or_else(|| InternalError::new_err("neuron vanished"))
    }

    fn write_neuron(&mut self, layer: i64, f: i64, x: i64, y: i64, value: i64) -> PyResult<()> {
        let (core, f, x, y) = self.neuron_at("write_neuron", layer, f, x, y)?;
        let (lo, hi) = static_limit("write_neuron", "value", self.cfg.n_cores()).unwrap_or((i64::from(i16::MIN), i64::from(i16::MAX)));
        if value < lo || value > hi {
            return Err(EventError::new_err(format!("write_neuron: field value = {value} is out of range {lo}..={hi}")));
        }
        // As the host writes a neuron: one item through the chip (the core counts it).
        let item = HostInput::WriteNeuron { layer: core as u8, f, x, y, value: value as i16 };
        let mut out = Vec::new();
        self.model.accept(&item, &mut out).map_err(|e| EventError::new_err(e.to_string()))
    }

    /// Core `layer`'s neuron states as `[F][H][W]` (flat) with the shape.
    fn neuron_states<'py>(&self, py: Python<'py>, layer: i64) -> PyResult<(Bound<'py, PyArray1<i16>>, (u32, u32, u32))> {
        let core = self.configured_core("neuron_states", layer)?;
        let c = self.model.core(core).ok_or_else(|| InternalError::new_err("core vanished"))?;
        let l = c.layer();
        Ok((c.states().into_pyarray(py), (l.f, l.h_out, l.w_out)))
    }

    /// Counters as JSON: per configured core, the DVS layer, and the last run.
    fn counters_json(&self) -> PyResult<String> {
        let r = self.model.router_counters();
        let mut cores = Vec::new();
        for i in 0..self.model.n_cores() {
            let c = self.model.core_counters(i);
            if self.model.core(i).is_none() && c.errors == 0 {
                continue;
            }
            cores.push(serde_json::json!({
                "core": i, "items_in": c.items_in, "spikes_out": c.spikes_out,
                "synaptic_updates": c.synaptic_updates, "errors": c.errors, "router_drops": r.drops[i],
            }));
        }
        let last = self.last.as_ref().map(|rep| {
            serde_json::json!({
                "input_items": rep.items, "output_events": rep.outputs, "stages": rep.stages, "layered": rep.layered,
                "sequential_because": rep.fallback.as_ref().map(|f| f.to_string()),
            })
        });
        let j = serde_json::json!({
            "cores": cores,
            "dvs": { "events_in": r.dvs_in, "events_out": r.dvs_out, "router_drops": r.drops[self.model.n_cores()], "layer": DVS_LAYER },
            "last_run": last,
        });
        Ok(j.to_string())
    }
}

impl RawChip {
    fn configured_core(&self, what: &str, layer: i64) -> PyResult<usize> {
        let n = self.cfg.n_cores();
        let (lo, hi) = static_limit("read_neuron", "layer", n).unwrap_or((0, n as i64 - 1));
        if layer < lo || layer > hi {
            return Err(EventError::new_err(format!("{what}: field layer = {layer} is out of range {lo}..={hi}")));
        }
        let core = layer as usize;
        if self.model.core(core).is_none() {
            return Err(EventError::new_err(format!("{what}: core {core} has no layer in this configuration")));
        }
        Ok(core)
    }

    /// The neuron's address, checked against the static limits of the
    /// host item (the model's table) and the core's output map.
    fn neuron_at(&self, what: &str, layer: i64, f: i64, x: i64, y: i64) -> PyResult<(usize, u16, u16, u16)> {
        let core = self.configured_core(what, layer)?;
        for (field, v) in [("f", f), ("x", x), ("y", y)] {
            let (lo, hi) = static_limit(what, field, self.cfg.n_cores()).unwrap_or((0, i64::from(u16::MAX)));
            if v < lo || v > hi {
                return Err(EventError::new_err(format!("{what}: field {field} = {v} is out of range {lo}..={hi}")));
            }
        }
        let l = self.model.core(core).map(|c| c.layer()).ok_or_else(|| InternalError::new_err("core vanished"))?;
        let (f, x, y) = (f as u16, x as u16, y as u16);
        if u32::from(f) >= l.f || u32::from(x) >= l.w_out || u32::from(y) >= l.h_out {
            return Err(EventError::new_err(format!(
                "{what}: neuron (f={f}, x={x}, y={y}) is outside core {core}'s output map of {} features × {} × {} (x < {}, y < {})",
                l.f, l.h_out, l.w_out, l.w_out, l.h_out
            )));
        }
        Ok((core, f, x, y))
    }
}

#[cfg(feature = "nir")]
fn nir_import(py: Python<'_>, path: PathBuf, chip: String, input_shape: Option<(i64, i64, i64)>, min_v_mem: &str, reset: &str, monitor: bool) -> PyResult<(RawChip, Vec<String>, String)> {
    use spikehdl_nir::{MinVMem, Options, Reset};
    // As `spikehdl import`: reading needs no HDF5 file lock, and a lock
    // inherited by a forked process could make the read fail.
    if std::env::var_os("HDF5_USE_FILE_LOCKING").is_none() {
        std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    }
    let min_v_mem = match min_v_mem {
        "missing" => MinVMem::Missing,
        "neg-threshold" => MinVMem::NegThreshold,
        o => return Err(opt_err(format!("min_v_mem: {o:?} is not one of missing, neg-threshold"))),
    };
    let reset = match reset {
        "subtract" => Reset::Subtract,
        "zero" => Reset::Zero,
        o => return Err(opt_err(format!("reset: {o:?} is not one of subtract, zero"))),
    };
    let input_shape = match input_shape {
        Some((c, h, w)) if c > 0 && h > 0 && w > 0 => Some([c as usize, h as usize, w as usize]),
        Some((c, h, w)) => return Err(opt_err(format!("input_shape: ({c}, {h}, {w}) is not (C, H, W) with three positive numbers"))),
        None => None,
    };
    // A Chip here is one chip: a network deeper than one is refused with the mapping's reason
    // (the CLI spreads it over daisy-chained chips).
    let opt = Options { chip: chip.clone(), input_shape, min_v_mem, reset, monitor, chips: Some(1) };
    let source = path.display().to_string();
    py.detach(|| {
        guarded(|| {
            let imp = spikehdl_nir::import_file(&path, &opt).map_err(|e| NirError::new_err(format!("{source}: {e}")))?;
            let j = serde_json::json!({ "input": imp.input, "dvs": imp.dvs, "entry_cores": imp.entry_cores, "warnings": imp.warnings, "layers": imp.layers, "chip": chip });
            let chip = valid(imp.config, &source)?;
            Ok((chip, imp.warnings, j.to_string()))
        })
    })
}

#[cfg(not(feature = "nir"))]
fn nir_import(_: Python<'_>, _: PathBuf, _: String, _: Option<(i64, i64, i64)>, _: &str, _: &str, _: bool) -> PyResult<(RawChip, Vec<String>, String)> {
    Err(FeatureMissing::new_err(
        "Chip.from_nir is not in this build of spikehdl: NIR import needs the HDF5 library, which was not found when \
         the package was built. Install it (Debian: `sudo apt-get install libhdf5-dev`), then reinstall: \
         `pip install ./python` finds it by itself (or force it with SPIKEHDL_NIR=1; docs/python.md)",
    ))
}

/// Reads an event file through the chain of a run (without leak ticks);
/// DVS events only, as columns t, x, y, p.
#[pyfunction]
#[pyo3(signature = (path, downsample, crop))]
fn read_events<'py>(py: Python<'py>, path: PathBuf, downsample: i64, crop: Option<(i64, i64)>) -> PyResult<Bound<'py, PyDict>> {
    let inputs = inputs(downsample, crop, None)?;
    let name = path.display().to_string();
    let (t, x, y, p) = py.detach(|| {
        guarded(|| {
            // Items other than DVS events are refused below; every core id is allowed meanwhile.
            let (items, _) = inputs.open(&path, MAX_CORES).map_err(event_err)?;
            let (mut t, mut x, mut y, mut p) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (i, it) in items.enumerate() {
                let it = it.map_err(event_err)?;
                match it.item {
                    HostInput::Dvs { x: xi, y: yi, p: pi } => {
                        t.push(it.t);
                        x.push(xi);
                        y.push(yi);
                        p.push(pi);
                    }
                    other => {
                        let kind = serde_json::to_value(other).ok().and_then(|v| v["kind"].as_str().map(str::to_string)).unwrap_or_default();
                        return Err(EventError::new_err(format!(
                            "{name}: item {i} (t = {}) is a {kind} item; read_events returns DVS events only (pass the file itself to Chip.simulate)",
                            it.t
                        )));
                    }
                }
            }
            Ok((t, x, y, p))
        })
    })?;
    let d = PyDict::new(py);
    d.set_item("t", t.into_pyarray(py))?;
    d.set_item("x", x.into_pyarray(py))?;
    d.set_item("y", y.into_pyarray(py))?;
    d.set_item("p", p.into_pyarray(py))?;
    Ok(d)
}

/// Accuracy over many samples: `run` takes samples in chunks (each run in
/// parallel, in order), `finish` maps labels to neurons and reports.
#[pyclass(module = "spikehdl._spikehdl")]
struct Evaluator {
    cfg: ValidConfig,
    readout: Readout,
    inputs: Inputs,
    pool: rayon::ThreadPool,
    /// (file, label, run, DVS events dropped by the transform)
    runs: Vec<(String, String, SampleRun, u64)>,
}

#[pymethods]
impl Evaluator {
    #[new]
    #[pyo3(signature = (chip, readout_core, threads, leak_period_us, downsample, crop))]
    fn new(chip: &RawChip, readout_core: Option<i64>, threads: Option<i64>, leak_period_us: Option<i64>, downsample: i64, crop: Option<(i64, i64)>) -> PyResult<Self> {
        let inputs = inputs(downsample, crop, leak_period_us)?;
        let readout = Readout::new(&chip.cfg, readout_core, "readout_core=").map_err(opt_err)?;
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            pool = pool.num_threads(in_range("threads", n, 1, 1024)? as usize);
        }
        let pool = pool.build().map_err(|e| PyRuntimeError::new_err(format!("cannot start the worker threads: {e}")))?;
        Ok(Self { cfg: chip.cfg.clone(), readout, inputs, pool, runs: Vec::new() })
    }

    #[getter]
    fn neurons(&self) -> usize {
        self.readout.neurons
    }

    #[getter]
    fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs samples `(source, file, label)`, each from the configured initial state.
    fn run(&mut self, py: Python<'_>, samples: Vec<(Source, String, String)>) -> PyResult<()> {
        let (cfg, readout, inputs, pool) = (&self.cfg, &self.readout, &self.inputs, &self.pool);
        let n = samples.len();
        let results: Vec<Result<(String, String, SampleRun, u64), String>> = py.detach(|| {
            pool.install(|| {
                samples
                    .into_par_iter()
                    .map(|(source, file, label)| {
                        let name = match &source {
                            Source::Path(p) => p.display().to_string(),
                            Source::Npy { name, .. } => name.clone(),
                        };
                        let r = catch_unwind(AssertUnwindSafe(|| {
                            let (items, tr) = source.open(inputs, cfg.n_cores()).map_err(|e| e.to_string())?;
                            let run = eval::run_sample(cfg, readout, items).map_err(|e| match e {
                                StreamError::Input { error, .. } => error.to_string(),
                                e => format!("{name}: {e}"),
                            })?;
                            // The stream is consumed: the counts are final.
                            let dropped = tr.map_or(0, |r| r.lock().unwrap_or_else(|e| e.into_inner()).dropped);
                            Ok((file, label, run, dropped))
                        }));
                        r.unwrap_or_else(|_| Err(format!("{name}: internal error (a bug in spikehdl, please report it)")))
                    })
                    .collect()
            })
        });
        let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        if !errors.is_empty() {
            let shown = errors.iter().take(10).map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n");
            return Err(EventError::new_err(format!(
                "{} of {n} samples could not be run (no accuracy is reported with samples missing):\n{shown}",
                errors.len()
            )));
        }
        self.runs.extend(results.into_iter().flatten());
        Ok(())
    }

    /// The report and the rows as JSON, and each neuron's label.
    fn finish(&self) -> PyResult<(String, String, Vec<String>)> {
        let classes: std::collections::BTreeSet<String> = self.runs.iter().map(|r| r.1.clone()).collect();
        let classes: Vec<String> = classes.into_iter().collect();
        let labels = Labels::new(&classes, self.readout.neurons, LabelSource::Values).map_err(opt_err)?;
        let rows: Vec<eval::Row> = self.runs.iter().map(|(file, label, run, dropped)| labels.row(file.clone(), label.clone(), run, *dropped)).collect();
        let report = eval::report(&rows);
        let json = |r: serde_json::Result<String>| r.map_err(|e| InternalError::new_err(e.to_string()));
        Ok((json(serde_json::to_string(&report))?, json(serde_json::to_string(&rows))?, labels.of_neuron))
    }
}

/// The output columns of a run without outputs (their names and types).
#[pyfunction]
fn empty_outputs(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    Columns::default().into_dict(py)
}

#[pymodule]
fn _spikehdl(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<RawChip>()?;
    m.add_class::<Evaluator>()?;
    m.add_function(wrap_pyfunction!(read_events, m)?)?;
    m.add_function(wrap_pyfunction!(empty_outputs, m)?)?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("EventError", py.get_type::<EventError>())?;
    m.add("NirError", py.get_type::<NirError>())?;
    m.add("OptionError", py.get_type::<OptionError>())?;
    m.add("FeatureMissing", py.get_type::<FeatureMissing>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("OUTPUT_FIELDS", output_fields()?)?;
    m.add("OUTPUT_KINDS", KIND_SAMPLES.iter().map(HostOutput::kind).collect::<Vec<_>>())?;
    m.add("NIR", cfg!(feature = "nir"))?;
    m.add("HOST_LAYER", spikehdl_model::presets::HOST_LAYER)?;
    m.add("DVS_LAYER", DVS_LAYER)?;
    Ok(())
}
