"""read_events through every reader, with the transforms; the array it
returns runs exactly like the file."""

import json

import numpy as np
import pytest

import spikehdl
from conftest import EXAMPLES, aedat4, as_rows, cli_outputs, nmnist_bin, prophesee_dat, tonic_array

EV = [(0, 3, 4, 1), (10, 127, 0, 0), (10, 5, 127, 1), (9_000_000, 33, 33, 0)]


def write(tmp_path, fmt, ev):
    p = tmp_path / f"ev.{fmt}"
    if fmt == "csv":
        p.write_text("t,x,y,p\n" + "".join(f"{t},{x},{y},{q}\n" for t, x, y, q in ev))
    elif fmt == "jsonl":
        p.write_text("".join(json.dumps({"t": t, "kind": "dvs", "x": x, "y": y, "p": q}) + "\n" for t, x, y, q in ev))
    elif fmt == "npy":
        np.save(p, tonic_array(ev, np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])))
    elif fmt == "bin":
        p.write_bytes(nmnist_bin(ev))
    elif fmt == "dat":
        p.write_bytes(prophesee_dat(ev))
    elif fmt == "aedat4":
        p.write_bytes(aedat4(ev, 128, 128))
    return p


def tuples(a):
    return [(int(r["t"]), int(r["x"]), int(r["y"]), int(r["p"])) for r in a]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "npy", "bin", "dat", "aedat4"])
def test_every_reader_gives_tonics_array_and_runs_like_the_file(cli, tmp_path, fmt):
    p = write(tmp_path, fmt, EV)
    a = spikehdl.read_events(p)
    assert a.dtype == spikehdl.EVENT_DTYPE
    assert tuples(a) == EV
    cfg = EXAMPLES / "dvs_3layer.json"
    _, want = cli_outputs(cli, cfg, p, tmp_path, "--leak-period-us", "100")
    assert as_rows(spikehdl.Chip.from_json(cfg).simulate(a, leak_period_us=100)) == want
    assert as_rows(spikehdl.Chip.from_json(cfg).simulate(p, leak_period_us=100)) == want


def test_a_larger_sensor_is_refused_with_its_size_then_fitted(cli, tmp_path):
    rng = np.random.default_rng(3)
    ev = sorted((int(t), int(x), int(y), int(q)) for t, x, y, q in zip(rng.integers(0, 10_000, 500), rng.integers(0, 320, 500), rng.integers(0, 240, 500), rng.integers(0, 2, 500)))
    p = tmp_path / "big.aedat4"
    p.write_bytes(aedat4(ev, 320, 240))
    with pytest.raises(spikehdl.EventError) as e:
        spikehdl.read_events(p)
    assert "(the file's sensor is 320×240)" in str(e.value) and "--downsample" in str(e.value)
    a = spikehdl.read_events(p, downsample=2, crop=(10, 0))
    # downsample floors, then the 128 x 128 window at (10, 0) keeps what falls inside it
    want = [(t, x // 2 - 10, y // 2, q) for t, x, y, q in ev if 10 <= x // 2 < 138 and y // 2 < 128]
    assert tuples(a) == want and 0 < len(want) < len(ev)
    cfg = EXAMPLES / "dvs_3layer.json"
    _, rows = cli_outputs(cli, cfg, p, tmp_path, "--downsample", "2", "--crop", "10,0")
    assert as_rows(spikehdl.Chip.from_json(cfg).simulate(p, downsample=2, crop=(10, 0))) == rows
    assert as_rows(spikehdl.Chip.from_json(cfg).simulate(a)) == rows
