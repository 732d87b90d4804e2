"""The Python call's overhead on the benchmark network, next to the CLI.

    python python/bench.py [--events N] [--repeat R] [--threads T] [--cli PATH]

Runs `examples/bench_net.json` on N generated events (default 300 000; the
events of `spikehdl bench`, cached in target/bench/) R times each way and
prints the median wall-clock times side by side with their ratio to the CLI:

- CLI: `spikehdl simulate --config C --events E.csv --out O.csv` (a whole
  process: start, config, parse, run, write the outputs);
- Python, file: `Chip.simulate("E.csv")` (parse, run, outputs into a NumPy array);
- Python, array: `Chip.simulate(events)` on a tonic-layout array read
  beforehand (the notebook case: conversion, run, outputs into an array);
- and the model's own run time inside the CLI (its `--summary-json` `seconds`),
  which bounds what any front end can reach.

Run from the repository root in a venv where `pip install ./python` was done.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Running `python python/bench.py` puts python/ first on the path, where the
# package's sources lack the built extension: import the installed package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import spikehdl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "bench_net.json"


def events_csv(n: int) -> Path:
    """The benchmark's generated events, made by the model crate's generator (cached like `spikehdl bench`)."""
    path = REPO / "target" / "bench" / f"bench_net_{n}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            subprocess.run(
                ["cargo", "run", "--quiet", "--release", "-p", "spikehdl-model", "--example", "bench_net", "--", "events", str(n)],
                cwd=REPO, stdout=f, check=True,
            )
        tmp.rename(path)
    return path


def median_time(f, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="model threads (default: all CPUs, as the CLI)")
    ap.add_argument("--cli", default=os.environ.get("SPIKEHDL_CLI", str(REPO / "target" / "release" / "spikehdl")))
    a = ap.parse_args()
    if not Path(a.cli).is_file():
        sys.exit(f"no CLI at {a.cli}: cargo build --release (or --cli PATH)")
    ev = events_csv(a.events)
    threads = [] if a.threads is None else ["--threads", str(a.threads)]
    with tempfile.TemporaryDirectory() as d:
        out, summary = Path(d) / "out.csv", Path(d) / "summary.json"
        inner = []

        def cli():
            subprocess.run([a.cli, "simulate", "--config", CONFIG, "--events", ev, "--out", out, "--summary-json", summary, *threads],
                           check=True, stdout=subprocess.DEVNULL)
            inner.append(json.loads(summary.read_text())["seconds"])

        t_cli, _ = median_time(cli, a.repeat)
        cli_rows = out.read_text().count("\n") - 1
    chip = spikehdl.Chip.from_json(CONFIG)

    def from_file():
        chip.reset()
        return chip.simulate(ev, threads=a.threads)

    array = spikehdl.read_events(ev)

    def from_array():
        chip.reset()
        return chip.simulate(array, threads=a.threads)

    t_file, _ = median_time(from_file, a.repeat)
    t_array, _ = median_time(from_array, a.repeat)
    rows = len(from_array())
    assert rows == cli_rows == len(from_file()), (rows, cli_rows)
    t_inner = statistics.median(inner)
    print(f"benchmark network, {a.events} events -> {rows} outputs, median of {a.repeat} runs, threads {a.threads or 'all CPUs'} ({os.cpu_count()} here)")
    print(f"{'':40} {'seconds':>9} {'vs CLI':>8}")
    for name, t in [
        ("CLI simulate --out F.csv (whole process)", t_cli),
        ("Python Chip.simulate(path)", t_file),
        ("Python Chip.simulate(tonic array)", t_array),
        ("model run inside the CLI (--summary-json)", t_inner),
    ]:
        print(f"{name:40} {t:9.3f} {t / t_cli:7.2f}x")


if __name__ == "__main__":
    main()
