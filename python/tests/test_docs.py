"""The README's "From Python" lines run as printed and give the CLI's counts."""

import contextlib
import io
import os
import re

from conftest import REPO


def test_the_readme_example_runs_and_prints_the_prediction(cli, tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = out.getvalue()
    m = re.fullmatch(r"prediction (\d) spikes per class \[([\d, ]+)\]\n", printed)
    assert m, printed
    counts = [int(c) for c in m.group(2).split(",")]
    # the counts are the readout spikes the CLI writes for the same run
    o = tmp_path / "o.csv"
    cli("simulate", "--config", REPO / "examples/dvs_3layer.json", "--events", REPO / "examples/dvs_3layer_events.csv", "--leak-period-us", "1000", "--out", o)
    want = [0] * 10
    for line in o.read_text().splitlines()[1:]:
        t, kind, layer, f, *_ = line.split(",")
        if kind == "spike" and layer == "2":
            want[int(f)] += 1
    assert counts == want and int(m.group(1)) == want.index(max(want))
