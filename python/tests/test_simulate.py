"""Chip.simulate gives exactly what `spikehdl simulate --out` writes: on the
bundled example, on N-MNIST-style samples, from files and from arrays of
every dtype tonic produces; thread counts; state, reset and neuron access."""

import json

import numpy as np
import pytest

import spikehdl
from conftest import EXAMPLES, as_rows, cli_outputs, nmnist_bin, nmnist_like, tonic_array

CONFIG = EXAMPLES / "dvs_3layer.json"
EVENTS = EXAMPLES / "dvs_3layer_events.csv"


@pytest.fixture(scope="module")
def example_cli(cli, tmp_path_factory):
    header, rows = cli_outputs(cli, CONFIG, EVENTS, tmp_path_factory.mktemp("cli"), "--leak-period-us", "1000")
    return header, rows


def test_the_bundled_example_equals_the_cli(example_cli):
    header, want = example_cli
    assert len(want) > 1000, "the example makes outputs of several kinds"
    assert {r[1] for r in want} >= {"spike", "monitor"}
    chip = spikehdl.Chip.from_json(CONFIG)
    out = chip.simulate(EVENTS, leak_period_us=1000)
    assert out.dtype == spikehdl.OUTPUT_DTYPE
    assert list(out.dtype.names) == header
    assert as_rows(out) == want


def test_arrays_read_from_the_file_equal_the_file(example_cli):
    _, want = example_cli
    events = spikehdl.read_events(EVENTS)
    assert events.dtype == spikehdl.EVENT_DTYPE and len(events) == 4000
    chip = spikehdl.Chip.from_json(CONFIG)
    assert as_rows(chip.simulate(events, leak_period_us=1000)) == want
    # an N x 4 array: columns t, x, y, p like the CSV
    plain = np.stack([events["t"], events["x"], events["y"], events["p"]], axis=1)
    chip.reset()
    assert as_rows(chip.simulate(plain, leak_period_us=1000)) == want


# Every layout tonic's datasets and transforms produce (and some it could): field order,
# widths, signedness, bool polarity, float timestamps, big-endian.
TONIC_DTYPES = [
    np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]),  # NMNIST, NCALTECH101, read_mnist_file
    np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)]),  # DVSGesture
    np.dtype([("t", np.int64), ("x", np.int16), ("y", np.int16), ("p", bool)]),  # POKERDVS / aedat readers
    np.dtype([("x", np.uint16), ("y", np.uint16), ("t", np.uint64), ("p", np.uint8)]),
    np.dtype([("x", np.int32), ("y", np.int32), ("t", np.float64), ("p", np.int8)]),  # float t after transforms
    np.dtype([("x", ">i4"), ("y", ">u2"), ("t", ">i8"), ("p", ">i2")]),
    np.dtype([("t", np.uint32), ("x", np.uint8), ("y", np.uint8), ("p", bool), ("extra", np.float32)]),
]


@pytest.mark.parametrize("dtype", TONIC_DTYPES, ids=lambda d: ",".join(f"{n}:{d[n].str}" for n in d.names))
def test_every_tonic_dtype_gives_the_cli_result(cli, tmp_path, dtype):
    ev = nmnist_like(7, n=400)
    f = tmp_path / "s.bin"
    f.write_bytes(nmnist_bin(ev))
    cfg = EXAMPLES / "dvs_3layer.json"
    _, want = cli_outputs(cli, cfg, f, tmp_path, "--leak-period-us", "5000")
    assert want, "the sample makes outputs"
    a = tonic_array(ev, dtype)
    out = spikehdl.Chip.from_json(cfg).simulate(a, leak_period_us=5000)
    assert as_rows(out) == want


def test_views_and_slices_of_arrays_are_read_as_their_values(example_cli):
    _, want = example_cli
    events = spikehdl.read_events(EVENTS)
    wide = np.zeros(len(events) * 2, dtype=[("p", np.int64), ("pad", np.float64), ("y", np.int64), ("x", np.int64), ("t", np.int64)])
    for n in "txyp":
        wide[n][::2] = events[n]
    view = wide[::2][["x", "y", "t", "p"]]  # strided, and a field view with padding
    assert not view.flags["C_CONTIGUOUS"]
    assert as_rows(spikehdl.Chip.from_json(CONFIG).simulate(view, leak_period_us=1000)) == want


def test_n_mnist_samples_equal_the_cli_from_file_and_array(cli, tmp_path):
    cfg = EXAMPLES / "dvs_3layer.json"
    for seed in range(3):
        ev = nmnist_like(seed)
        f = tmp_path / f"{seed}.bin"
        f.write_bytes(nmnist_bin(ev))
        _, want = cli_outputs(cli, cfg, f, tmp_path)
        chip = spikehdl.Chip.from_json(cfg)
        assert as_rows(chip.simulate(f)) == want
        chip.reset()
        assert as_rows(chip.simulate(tonic_array(ev))) == want
        # the .bin reader and tonic's layout agree on the events themselves
        back = spikehdl.read_events(f)
        assert [(int(r["t"]), int(r["x"]), int(r["y"]), int(r["p"])) for r in back] == ev


def long_events(copies=20):
    """The example's events again and again, time running on: long enough for the pipeline's warm-up to end."""
    one = spikehdl.read_events(EVENTS)
    span = int(one["t"].max()) + 1
    events = np.concatenate([one] * copies)
    events["t"] += np.repeat(np.arange(copies) * span, len(one))
    return events


def random_dvs(n, seed=1):
    rng = np.random.default_rng(seed)
    e = np.zeros(n, dtype=spikehdl.EVENT_DTYPE)
    e["t"] = np.sort(rng.integers(0, 10**6, n))
    e["x"], e["y"], e["p"] = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
    return e


def test_results_do_not_depend_on_the_thread_count(cli, tmp_path):
    # The benchmark network is a chain with one host-output core: with threads it runs as a
    # pipeline once the warm-up (50 000 items) is over.
    cfg = EXAMPLES / "bench_net.json"
    events = random_dvs(60_000)
    f = tmp_path / "ev.csv"
    f.write_text("t,x,y,p\n" + "".join(f"{r['t']},{r['x']},{r['y']},{r['p']}\n" for r in events))
    _, want = cli_outputs(cli, cfg, f, tmp_path, "--leak-period-us", "1000", "--threads", "2")
    assert len(want) > 100
    runs = []
    for threads in (1, 2, 3, 8):
        chip = spikehdl.Chip.from_json(cfg)
        out = chip.simulate(events, leak_period_us=1000, threads=threads)
        assert as_rows(out) == want, threads
        stages = chip.counters()["last_run"]["stages"]
        assert (len(stages) == 1) == (threads == 1), (threads, stages)
        runs.append(([chip.neuron_states(c).tolist() for c in chip.memory_summary()["cores"]], chip.counters()["cores"]))
    assert all(r == runs[0] for r in runs[1:]), "final states and counters too"
    # a configuration outside the thread rule says why it ran on one thread, with the same result
    chip = spikehdl.Chip.from_json(CONFIG)
    one = as_rows(chip.simulate(long_events(), leak_period_us=1000, threads=1))
    chip.reset()
    assert as_rows(chip.simulate(long_events(), leak_period_us=1000, threads=2)) == one
    assert "send events to the host" in chip.counters()["last_run"]["sequential_because"]


def test_state_persists_between_runs_until_reset():
    events = spikehdl.read_events(EVENTS)
    chip = spikehdl.Chip.from_json(CONFIG)
    first = as_rows(chip.simulate(events[:2000]))
    states = chip.neuron_states(0).copy()
    assert (states != 0).any()
    second = as_rows(chip.simulate(events[2000:]))
    whole = spikehdl.Chip.from_json(CONFIG)
    assert first + second == as_rows(whole.simulate(events)), "two runs continue where the first stopped"
    chip.reset()
    assert not chip.neuron_states(0).any() and chip.counters()["cores"][0]["items_in"] == 0
    assert as_rows(chip.simulate(events[:2000])) == first


def test_neuron_write_read_and_the_states_array():
    chip = spikehdl.Chip.from_json(CONFIG)
    s = chip.memory_summary()["layers"][0]
    f, h, w = s["output"]
    assert chip.neuron_states(0).shape == (f, h, w) and chip.neuron_states(0).dtype == np.int16
    chip.write_neuron(0, f - 1, w - 1, 2, -1234)
    assert chip.read_neuron(0, f - 1, w - 1, 2) == -1234
    assert chip.neuron_states(0)[f - 1, 2, w - 1] == -1234, "[F][H][W]: y before x"
    assert chip.counters()["cores"][0]["items_in"] == 1, "a host write is an item the core takes"
    chip.write_neuron(0, 0, 0, 0, 32767)
    assert chip.read_neuron(0, 0, 0, 0) == 32767


def test_the_output_kinds_and_fields_come_from_the_model():
    assert spikehdl.OUTPUT_KINDS == ("spike", "monitor", "neuron_value")
    assert spikehdl.OUTPUT_DTYPE.names == ("t", "kind", "layer", "f", "x", "y", "value")
    assert spikehdl.OUTPUT_DTYPE["kind"].itemsize // 4 == max(map(len, spikehdl.OUTPUT_KINDS)), "no kind is cut short"


def test_neuron_values_from_a_jsonl_file_equal_the_cli(cli, tmp_path):
    items = [
        {"t": 0, "kind": "write_neuron", "layer": 0, "f": 1, "x": 2, "y": 3, "value": -77},
        {"t": 1, "kind": "read_neuron", "layer": 0, "f": 1, "x": 2, "y": 3},
        {"t": 2, "kind": "dvs", "x": 10, "y": 10, "p": 1},
        {"t": 3, "kind": "leak_tick"},
        {"t": 4, "kind": "spike", "layer": 0, "c": 1, "x": 5, "y": 5},
        {"t": 5, "kind": "read_neuron", "layer": 1, "f": 0, "x": 0, "y": 0},
    ]
    f = tmp_path / "items.jsonl"
    f.write_text("".join(json.dumps(i) + "\n" for i in items))
    _, want = cli_outputs(cli, CONFIG, f, tmp_path)
    out = spikehdl.Chip.from_json(CONFIG).simulate(f)
    assert as_rows(out) == want
    nv = out[out["kind"] == "neuron_value"]
    assert nv[0]["value"] == -77 and nv[0]["layer"] == 0 and (nv[0]["f"], nv[0]["x"], nv[0]["y"]) == (1, 2, 3)


def test_the_gil_is_released_while_the_model_runs():
    import threading
    import time

    events = long_events(25)
    chip = spikehdl.Chip.from_json(CONFIG)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=count)
    th.start()
    time.sleep(0.01)
    start = time.perf_counter()
    chip.simulate(events, leak_period_us=1000, threads=1)
    end = time.perf_counter()
    stop.set()
    th.join()
    during = [t for t in ticks if start < t < end]
    # Holding the GIL, the other thread would get no turn (or one per switch interval of 5 ms).
    assert end - start > 0.05, "the run is long enough to tell"
    assert len(during) >= (end - start) / 0.005, f"{len(during)} ticks in {end - start:.3f} s"
