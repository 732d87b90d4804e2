"""The bit-exact chip model of spikehdl, from Python.

A DynapCNN-style chip (DVS input layer, convolution cores of integrate-and-fire
neurons, router, host port) simulated by the same Rust model as the
``spikehdl`` CLI, with the same results and the same error messages::

    import spikehdl
    chip = spikehdl.Chip.from_nir("net.nir")          # or Chip.from_json("chip.json")
    out = chip.simulate(events, leak_period_us=1000)  # tonic's x, y, t, p array
    result = spikehdl.eval(chip, dataset)             # any iterable of (events, label)

See docs/python.md in the repository for the whole interface.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import numpy.lib.recfunctions as _rf
from numpy.lib import format as _npy_format

from . import _spikehdl as _native
from ._spikehdl import ConfigError, Error, EventError, FeatureMissing, InternalError, NirError, OptionError

__all__ = [
    "Chip",
    "EvalResult",
    "eval",
    "read_events",
    "Error",
    "ConfigError",
    "EventError",
    "NirError",
    "OptionError",
    "FeatureMissing",
    "InternalError",
    "FEATURES",
    "OUTPUT_DTYPE",
    "OUTPUT_KINDS",
    "EVENT_DTYPE",
]

__version__ = "0.1.0"

#: Optional parts of this build: ``{"nir": True}`` when NIR import was built in.
FEATURES: Dict[str, bool] = {"nir": bool(_native.NIR)}

#: The ``kind`` values of host outputs, from the model.
OUTPUT_KINDS: Tuple[str, ...] = tuple(_native.OUTPUT_KINDS)
_KINDS = np.array(OUTPUT_KINDS)


def _output_dtype() -> np.dtype:
    # Names and order: the model's CSV writer; integer types: the model's fields.
    cols = _native.empty_outputs()
    return np.dtype([(n, _KINDS.dtype if n == "kind" else a.dtype) for n, a in cols.items()])


#: dtype of :meth:`Chip.simulate`'s result: the columns of ``spikehdl simulate --out F.csv``.
OUTPUT_DTYPE: np.dtype = _output_dtype()

#: dtype of :func:`read_events`'s result: tonic's (``read_mnist_file``) x, y, t, p.
EVENT_DTYPE: np.dtype = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])


def _outputs(cols: Dict[str, np.ndarray]) -> np.ndarray:
    n = len(cols["t"])
    out = np.empty(n, dtype=OUTPUT_DTYPE)
    for name, col in cols.items():
        out[name] = _KINDS[col] if name == "kind" else col
    return out


def _source(events: Any, name: str):
    """An event file path as it is, or an array as the `.npy` image the model's
    `.npy` reader takes (so arrays and files are read by the same code)."""
    if isinstance(events, (str, bytes, os.PathLike)):
        return os.fsdecode(events)
    a = np.asarray(events)
    if a.dtype.names is not None:
        # Views of some fields keep the others' bytes as padding; the reader wants packed records.
        a = _rf.repack_fields(a)
    header = repr({"descr": _npy_format.dtype_to_descr(a.dtype), "fortran_order": False, "shape": a.shape}).encode("latin1")
    head = b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header
    return (name, head, a.tobytes(order="C"))


def _crop(crop) -> Optional[Tuple[int, int]]:
    if crop is None:
        return None
    c = tuple(crop)
    if len(c) != 2:
        raise OptionError(f"crop: {crop!r} is not (X, Y) (the origin of the 128x128 window)")
    return (c[0], c[1])


class Chip:
    """A configured chip with its neuron states.

    :meth:`simulate` runs from the current state and leaves the chip in the
    state it ends in (like the hardware); :meth:`reset` goes back to the
    configured initial state. A new chip, or one just reset, gives exactly
    what ``spikehdl simulate`` gives for the same configuration and events.
    """

    def __init__(self, raw: "_native.RawChip", import_report: Optional[dict] = None):
        self._raw = raw
        #: With :meth:`from_nir`: the import report (per layer: core, shapes, scales, thresholds, footprint), as ``import --report-json`` writes it.
        self.import_report = import_report

    @classmethod
    def from_json(cls, path) -> "Chip":
        """Reads and validates a chip configuration (JSON, ``docs/config.md``).

        Raises :class:`ConfigError` listing every error with its field path,
        e.g. ``cnn_layers[1].destinations[0].pooling: value 3 is not one of [1, 2, 4]``;
        the pairs are in its ``errors`` attribute.
        """
        return cls(_native.RawChip.from_json(os.fspath(path)))

    @classmethod
    def from_config(cls, config, source: str = "<config>") -> "Chip":
        """A chip from a configuration given as a dict or as JSON text (``source`` names it in errors)."""
        text = config if isinstance(config, str) else json.dumps(config)
        return cls(_native.RawChip.from_json_text(text, source))

    @classmethod
    def from_nir(
        cls,
        path,
        *,
        chip: str = "chip_reference",
        input_shape: Optional[Tuple[int, int, int]] = None,
        min_v_mem: str = "neg-threshold",
        reset: str = "subtract",
        monitor: bool = False,
    ) -> "Chip":
        """Imports a NIR graph as ``spikehdl import`` does (same options, same errors: ``docs/nir.md``).

        ``chip``: the chip preset; ``input_shape``: (C, H, W) overriding the Input node's;
        ``min_v_mem``: ``"neg-threshold"`` (what ``sinabs.from_nir`` sets) or ``"missing"``;
        ``reset``: ``"subtract"`` (Sinabs) or ``"zero"``; ``monitor``: every layer's spikes to the host.
        Import warnings are issued as :class:`UserWarning`. Needs a build with NIR import
        (``FEATURES["nir"]``); otherwise raises :class:`FeatureMissing` saying what to install.
        """
        import warnings

        shape = None if input_shape is None else tuple(input_shape)
        if shape is not None and len(shape) != 3:
            raise OptionError(f"input_shape: {input_shape!r} is not (C, H, W)")
        raw, warns, report = _native.RawChip.from_nir(os.fspath(path), chip, shape, min_v_mem, reset, bool(monitor))
        for w in warns:
            warnings.warn(w, UserWarning, stacklevel=2)
        return cls(raw, json.loads(report))

    def to_json(self, path) -> None:
        """Writes the configuration (JSON, as ``spikehdl import --out`` writes it)."""
        path = os.fspath(path)
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(path, "w") as f:
            f.write(self._raw.to_json_text())

    @property
    def config(self) -> dict:
        """The configuration as a dict (``docs/config.md``)."""
        return json.loads(self._raw.to_json_text())

    @property
    def n_cores(self) -> int:
        return self._raw.n_cores

    def memory_summary(self) -> dict:
        """Memory use per configured core, like Sinabs' ``DynapcnnNetwork.memory_summary()``
        (and ``spikehdl check``): ``{"kernel": [...], "neuron": [...], "bias": [...]}`` in words,
        one entry per core listed in ``"cores"``, the capacities under ``"kernel_capacity"`` etc.,
        and per core the shapes and destinations under ``"layers"``.
        """
        host = _native.HOST_LAYER
        s: Dict[str, list] = {k: [] for k in ["cores", "kernel", "neuron", "bias", "kernel_capacity", "neuron_capacity", "bias_capacity", "layers"]}
        for core, inp, outp, k, used, cap, dests in self._raw.memory_rows():
            s["cores"].append(core)
            for i, m in enumerate(["kernel", "neuron", "bias"]):
                s[m].append(used[i])
                s[m + "_capacity"].append(cap[i])
            s["layers"].append(
                {
                    "core": core,
                    "input": tuple(inp),
                    "output": tuple(outp),
                    "kernel": k,
                    **{f"{m}_words": used[i] for i, m in enumerate(["kernel", "neuron", "bias"])},
                    **{f"{m}_capacity": cap[i] for i, m in enumerate(["kernel", "neuron", "bias"])},
                    "destinations": [
                        {"to": "host" if layer == host else f"core {layer}", "layer": layer, "pooling": pool, "feature_shift": shift}
                        for layer, pool, shift in dests
                    ],
                }
            )
        return s

    def simulate(self, events, leak_period_us: Optional[int] = None, threads: Optional[int] = None, *, downsample: int = 1, crop=None) -> np.ndarray:
        """Runs events through the chip from its current state; returns the host outputs.

        ``events``: a NumPy structured array with fields x, y, t, p (tonic's layout; any
        integer or bool types, either byte order, extra fields ignored), an N×4 array
        with columns t, x, y, p, or the path of an event file (.csv, .jsonl, .npy,
        .aedat4, .bin, .dat). ``leak_period_us``: a leak tick every N µs of event time;
        ``threads``: model threads (default: all CPUs; results do not depend on it);
        ``downsample``/``crop``: fit a larger sensor (``docs/eval.md``).

        Returns a structured array with :data:`OUTPUT_DTYPE` (t, kind, layer, f, x, y,
        value): row for row what ``spikehdl simulate --out F.csv`` writes (``value`` is 0
        where the CSV leaves it empty, i.e. for kinds other than ``neuron_value``).
        The GIL is released while the model runs.
        """
        cols = self._raw.simulate(_source(events, "events"), threads, leak_period_us, downsample, _crop(crop))
        return _outputs(cols)

    def reset(self) -> None:
        """Back to the configured initial state (neuron states and counters)."""
        self._raw.reset()

    def read_neuron(self, layer: int, f: int, x: int, y: int) -> int:
        """The state of neuron (f, x, y) of core ``layer``."""
        return self._raw.read_neuron(layer, f, x, y)

    def write_neuron(self, layer: int, f: int, x: int, y: int, value: int) -> None:
        """Overwrites the state of neuron (f, x, y) of core ``layer`` (as a host write: the core counts the item)."""
        self._raw.write_neuron(layer, f, x, y, value)

    def neuron_states(self, layer: int) -> np.ndarray:
        """All neuron states of core ``layer`` as an int16 array [F][H][W] (PyTorch order)."""
        flat, shape = self._raw.neuron_states(layer)
        return flat.reshape(shape)

    def counters(self) -> dict:
        """Per core: items in, spikes out, synaptic updates, errors, router drops; the DVS layer's
        counts; and how the last :meth:`simulate` ran (items, outputs, pipeline stages)."""
        return json.loads(self._raw.counters_json())

    def __repr__(self) -> str:
        return f"<spikehdl.Chip: {self.n_cores} cores, layers on {self.memory_summary()['cores']}>"


def read_events(path, *, downsample: int = 1, crop=None) -> np.ndarray:
    """Reads an event file (.csv, .jsonl, .npy, .aedat4, N-MNIST .bin, Prophesee .dat)
    with the readers of ``spikehdl simulate`` and the same ``downsample``/``crop``
    transform; returns DVS events as tonic's structured array (:data:`EVENT_DTYPE`).
    A JSON Lines file holding other item kinds is refused (run it with :meth:`Chip.simulate`).
    """
    cols = _native.read_events(os.fspath(path), downsample, _crop(crop))
    if len(cols["t"]) and int(cols["t"].max()) > np.iinfo(np.int64).max:
        raise EventError(f"{os.fspath(path)}: a timestamp of {int(cols['t'].max())} µs does not fit tonic's int64 t field")
    out = np.empty(len(cols["t"]), dtype=EVENT_DTYPE)
    for n in EVENT_DTYPE.names:
        out[n] = cols[n]
    return out


@dataclass
class EvalResult:
    """What :func:`eval` found (the CLI's ``eval`` summary and rows)."""

    accuracy: float
    correct: int
    samples: int
    #: Samples where no readout neuron spiked (prediction None, counted wrong).
    silent: int
    #: Axis labels of ``confusion``: every label and prediction seen (numeric order when all are numbers).
    classes: list
    #: ``confusion[label][prediction]`` over ``classes``, plus a last column for silent samples ("none").
    confusion: np.ndarray
    #: Per sample: index, file (a path, or None for an array), label, prediction, correct, counts
    #: (spikes per readout neuron), synaptic_updates, input_items, dropped_events.
    rows: List[dict] = field(repr=False)
    synaptic_updates: int = 0
    dropped_events: int = 0
    #: The label of each readout neuron.
    neuron_labels: list = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return (
            f"accuracy {100 * self.accuracy:.2f}% ({self.correct} of {self.samples} samples correct); "
            f"{self.silent} samples with no readout spike (prediction none, counted wrong)"
        )


def _label_key(label) -> str:
    if hasattr(label, "item") and getattr(label, "ndim", 0) == 0:
        label = label.item()  # NumPy / PyTorch scalars
    if isinstance(label, bool):
        return str(label)
    if isinstance(label, (int, np.integer)):
        return str(int(label))
    if isinstance(label, str):
        return label
    raise OptionError(f"label {label!r}: labels are integers (readout neuron k) or strings (sorted: neuron i)")


def eval(
    chip: Chip,
    samples: Iterable,
    labels: Optional[Iterable] = None,
    readout_core: Optional[int] = None,
    threads: Optional[int] = None,
    *,
    leak_period_us: Optional[int] = None,
    downsample: int = 1,
    crop=None,
) -> EvalResult:
    """Accuracy of the chip on labelled samples, as ``spikehdl eval`` computes it.

    ``samples``: an iterable of ``(events, label)`` (a ``tonic.datasets`` object, a list
    of pairs, a generator), or of events with ``labels`` given separately; events are
    what :meth:`Chip.simulate` takes. Each sample runs alone from the chip's configured
    initial state (the chip passed in is not changed). The prediction is the most active
    readout neuron (ties: the lowest index; no readout spike: None, counted wrong);
    integer labels are neuron numbers, string labels map to neurons in sorted order.
    ``readout_core``: the core whose output features are the class neurons (default:
    the one core that sends to the host). Samples run in parallel on ``threads``
    workers (default: all CPUs); results do not depend on it.
    """
    ev = _native.Evaluator(chip._raw, readout_core, threads, leak_period_us, downsample, _crop(crop))
    pairs: Iterable
    if labels is None:
        pairs = samples
    else:
        if hasattr(samples, "__len__") and hasattr(labels, "__len__") and len(samples) != len(labels):  # type: ignore[arg-type]
            raise OptionError(f"labels: {len(labels)} labels for {len(samples)} samples")  # type: ignore[arg-type]
        pairs = zip(samples, labels)
    # Samples are converted and run in chunks: memory stays bounded on a large dataset.
    chunk_size = max(64, 8 * ev.threads)
    originals: Dict[str, Any] = {}
    files: List[Optional[str]] = []
    chunk = []
    for i, pair in enumerate(pairs):
        try:
            events, label = pair
        except (TypeError, ValueError):
            raise OptionError(f"samples[{i}]: expected (events, label), got {type(pair).__name__}") from None
        key = _label_key(label)
        originals.setdefault(key, label.item() if hasattr(label, "item") and getattr(label, "ndim", 0) == 0 else label)
        src = _source(events, f"samples[{i}]")
        file = src if isinstance(src, str) else None
        files.append(file)
        chunk.append((src, file or "", key))
        if len(chunk) == chunk_size:
            ev.run(chunk)
            chunk = []
    if chunk:
        ev.run(chunk)
    report, rows, neuron_labels = ev.finish()
    report, rows = json.loads(report), json.loads(rows)
    numeric = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in originals.values())

    def orig(key):
        if key is None:
            return None
        if key in originals:
            return originals[key]
        return int(key) if numeric else key

    for i, r in enumerate(rows):
        r["index"] = i
        r["file"] = files[i]
        r["label"] = orig(r["label"])
        r["prediction"] = orig(r["prediction"])
    return EvalResult(
        accuracy=report["accuracy"],
        correct=report["correct"],
        samples=report["samples"],
        silent=report["silent"],
        classes=[orig(c) for c in report["classes"]],
        confusion=np.array(report["confusion"], dtype=np.int64).reshape(len(report["classes"]), len(report["classes"]) + 1),
        rows=rows,
        synaptic_updates=report["synaptic_updates"],
        dropped_events=report["dropped_events"],
        neuron_labels=[orig(k) for k in neuron_labels],
    )
