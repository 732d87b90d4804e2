"""Shared pieces of the Python tests: the CLI to compare against, event
files written the way the datasets store them, and a network whose
answers are known.

The CLI is `SPIKEHDL_CLI` (the Rust test `tests/python.rs` sets it to the
binary cargo built) or `target/release/spikehdl` of the repository; without
either, the tests that compare with it fail and say how to build it.
"""

import csv
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def cli_path() -> Path:
    p = os.environ.get("SPIKEHDL_CLI")
    path = Path(p) if p else REPO / "target" / "release" / "spikehdl"
    if not path.is_file():
        pytest.fail(f"the spikehdl CLI is not at {path}: build it (cargo build --release) or set SPIKEHDL_CLI")
    return path


@pytest.fixture(scope="session")
def cli():
    path = cli_path()

    def run(*args, ok=True):
        r = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True, check=False)
        if ok and r.returncode != 0:
            raise AssertionError(f"spikehdl {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    return run


def cli_outputs(cli, config, events, tmp_path, *extra):
    """What `spikehdl simulate --out F.csv` writes, as (t, kind, layer, f, x, y, value) tuples (value None where empty)."""
    out = tmp_path / f"cli_{abs(hash((str(config), str(events), extra)))}.csv"
    cli("simulate", "--config", config, "--events", events, "--out", out, *extra)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "kind", "layer", "f", "x", "y", "value"], rows[0]
    return rows[0], [(int(t), k, int(l), int(fe), int(x), int(y), None if v == "" else int(v)) for t, k, l, fe, x, y, v in rows[1:]]


def as_rows(out):
    """The simulate result as the CSV's tuples (value None for kinds the CSV leaves it empty)."""
    return [
        (int(r["t"]), str(r["kind"]), int(r["layer"]), int(r["f"]), int(r["x"]), int(r["y"]), int(r["value"]) if r["kind"] == "neuron_value" else None)
        for r in out
    ]


# ---- event files as the datasets store them (independent of the model's own encoders)


def nmnist_bin(events) -> bytes:
    """N-MNIST 40-bit records (x, y, p|t[22:16], t[15:8], t[7:0]) with overflow markers (y = 240, +2^13 µs)."""
    b = bytearray()
    offset = 0
    for t, x, y, p in events:
        while t - offset >= 1 << 23:
            b += bytes([0, 240, 0, 0, 0])
            offset += 1 << 13
        ts = t - offset
        b += bytes([x, y, ((p & 1) << 7) | ((ts >> 16) & 0x7F), (ts >> 8) & 0xFF, ts & 0xFF])
    return bytes(b)


def prophesee_dat(events, width=128, height=128) -> bytes:
    """A Prophesee CD .dat file: % header, type 12 / size 8, records t u32 + x:14 y:14 p:1."""
    b = bytearray(f"% Height {height}\n% Width {width}\n".encode())
    b += bytes([12, 8])
    for t, x, y, p in events:
        b += struct.pack("<II", t, (x & 0x3FFF) | ((y & 0x3FFF) << 14) | ((p & 1) << 28))
    return bytes(b)


def aedat4(events, width, height) -> bytes:
    """An uncompressed AEDAT4 file with one EVTS packet of (t, x, y, on) and the camera size in its stream description."""
    xml = (
        '<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/"><node name="0" path="/mainloop/Recorder/outInfo/0/">'
        '<attr key="compression" type="string">NONE</attr><attr key="typeIdentifier" type="string">EVTS</attr>'
        '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
        f'<attr key="sizeX" type="int">{width}</attr><attr key="sizeY" type="int">{height}</attr></node></node></node></dv>'
    ).encode()
    # IOHeader flatbuffer: root -> table at 16; vtable (4 fields: compression, dataTablePosition, infoNode).
    fb = struct.pack("<I", 16) + bytes([10, 0, 24, 0, 4, 0, 16, 0, 8, 0, 0, 0]) + struct.pack("<iiI4xq", 12, 0, 16, -1)
    fb += struct.pack("<I", len(xml)) + xml + b"\0"
    fb += b"\0" * (-len(fb) % 4)
    # Event packet: size-prefixed flatbuffer "EVTS" with a vector of 16-byte Event structs.
    p = struct.pack("<I", 16) + b"EVTS" + bytes([6, 0, 8, 0, 4, 0, 0, 0]) + struct.pack("<iI4xI", 8, 8, len(events))
    for t, x, y, on in events:
        p += struct.pack("<qhh?3x", t, x, y, bool(on))
    packet = struct.pack("<I", len(p)) + p
    return b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(fb)) + fb + struct.pack("<iI", 0, len(packet)) + packet


def tonic_array(events, dtype=None):
    """Events (t, x, y, p) as tonic's structured array (N-MNIST's dtype unless given)."""
    dtype = dtype or np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])
    a = np.zeros(len(events), dtype=dtype)
    if len(events):
        t, x, y, p = (np.array(c) for c in zip(*events))
        a["t"], a["x"], a["y"], a["p"] = t, x, y, p
    return a


def nmnist_like(seed, n=300):
    """An N-MNIST-style sample: n events on a 34 x 34 sensor, times increasing (some equal), both polarities."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 300_000, n))
    x = rng.integers(0, 34, n)
    y = rng.integers(0, 34, n)
    p = rng.integers(0, 2, n)
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in zip(t, x, y, p)]


# ---- the tiny network of tests/eval_cli.rs: its answers are known by construction

EVAL_CONFIG = {
    "chip": {"preset": "chip_tiny"},
    "dvs_layer": {
        "pooling": {"x": 4, "y": 4}, "origin": {"x": 0, "y": 0}, "cut": {"x": 3, "y": 3},
        "merge": True, "destinations": [{"layer": 0, "enable": True}],
    },
    "cnn_layers": [{
        "input_shape": {"features": 1, "x": 4, "y": 4},
        "output_shape": {"features": 4, "x": 1, "y": 1},
        "kernel_size": 4, "stride": {"x": 1, "y": 1}, "padding": {"x": 0, "y": 0},
        # feature f has weight 1 on map row f only: every event with y // 4 == f makes neuron f spike once
        "weights": [[[[int(ky == f)] * 4 for ky in range(4)]] for f in range(4)],
        "threshold_high": 1, "threshold_low": -8,
        "destinations": [{"layer": 12, "enable": True, "pooling": 1, "feature_shift": 0}, {"layer": 0, "enable": False}],
    }],
}


def row_events(row, n, t0=0):
    """n events in map row `row` (y = 4 row + 0..3), x cycling over 0..16, from t0: n spikes of neuron `row`."""
    return [(t0 + i, i * 5 % 16, 4 * row + i % 4, i % 2) for i in range(n)]


@pytest.fixture
def eval_config(tmp_path):
    p = tmp_path / "net.json"
    p.write_text(json.dumps(EVAL_CONFIG))
    return p
