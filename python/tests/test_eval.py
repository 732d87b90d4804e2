"""spikehdl.eval on a tonic-style dataset object: the answers of the tiny
network of tests/eval_cli.rs are known by construction, and the rows equal
the CLI's `eval` on the same samples as a dataset folder."""

import json

import numpy as np
import pytest

import spikehdl
from conftest import nmnist_bin, prophesee_dat, row_events, tonic_array


def samples():
    """(name, label, events): 8 samples, 5 correct, 1 silent, 1 tie (as tests/eval_cli.rs)."""
    s = sorted
    return [
        ("0/a", 0, s(row_events(0, 5) + row_events(1, 2, 100))),  # -> 0
        ("0/b", 0, row_events(0, 4)),  # -> 0
        ("1/a", 1, s(row_events(1, 3) + row_events(3, 1, 50))),  # -> 1
        ("1/b", 1, s(row_events(1, 2) + row_events(2, 3, 10))),  # -> 2 (wrong)
        ("2/a", 2, row_events(2, 6)),  # -> 2
        ("2/empty", 2, []),  # no spike -> None (wrong, silent)
        ("3/b", 3, row_events(3, 3)),  # -> 3
        ("3/tie", 3, s(row_events(0, 2) + row_events(3, 2))),  # tie 0 / 3 -> 0 (wrong)
    ]


class ToyDataset:
    """What a tonic.datasets object offers: __getitem__ -> (events, target) and __len__;
    events in tonic's structured layout (N-MNIST's dtype), integer targets."""

    def __init__(self, items, dtype=None):
        self.items = items
        self.dtype = dtype

    def __getitem__(self, i):
        _, label, ev = self.items[i]
        return tonic_array(ev, self.dtype), np.int64(label)

    def __len__(self):
        return len(self.items)


def test_accuracy_confusion_and_rows_on_a_dataset_object(eval_config):
    chip = spikehdl.Chip.from_json(eval_config)
    r = spikehdl.eval(chip, ToyDataset(samples()), threads=1)
    assert (r.correct, r.samples, r.silent) == (5, 8, 1)
    assert r.accuracy == 5 / 8
    assert r.classes == [0, 1, 2, 3] and all(type(c) is int for c in r.classes)
    assert r.confusion.tolist() == [[2, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 1], [1, 0, 0, 1, 0]]
    by = {samples()[i][0]: row for i, row in enumerate(r.rows)}
    assert by["0/a"]["counts"] == [5, 2, 0, 0] and by["0/a"]["prediction"] == 0
    assert by["1/b"]["prediction"] == 2 and by["1/b"]["correct"] is False
    assert by["2/empty"]["prediction"] is None
    assert by["3/tie"]["counts"] == [2, 0, 0, 2] and by["3/tie"]["prediction"] == 0, "ties go to the lowest neuron"
    assert by["2/a"]["synaptic_updates"] == 6 * 4
    assert [row["index"] for row in r.rows] == list(range(8)) and all(row["file"] is None for row in r.rows)
    assert str(r).startswith("accuracy 62.50% (5 of 8 samples correct); 1 samples with no readout spike")


def test_rows_equal_the_cli_eval_on_the_same_samples_as_files(cli, eval_config, tmp_path):
    data = tmp_path / "data"
    files = []
    for name, label, ev in samples():
        d = data / str(label)
        d.mkdir(parents=True, exist_ok=True)
        # the formats the datasets come in, alternating
        if name.endswith("a"):
            p = d / (name.split("/")[1] + ".bin")
            p.write_bytes(nmnist_bin(ev))
        elif name.endswith("b"):
            p = d / (name.split("/")[1] + ".dat")
            p.write_bytes(prophesee_dat(ev))
        else:
            p = d / (name.split("/")[1] + ".csv")
            p.write_text("t,x,y,p\n" + "".join(f"{t},{x},{y},{q}\n" for t, x, y, q in ev))
        files.append((p, label))
    out = tmp_path / "rows.jsonl"
    cli("eval", "--config", eval_config, "--data", data, "--out", out, "--plots", tmp_path / "plots", "--threads", "2", "--leak-period-us", "7")
    want = {json.loads(line)["file"]: json.loads(line) for line in out.read_text().splitlines()}
    chip = spikehdl.Chip.from_json(eval_config)
    r = spikehdl.eval(chip, [p for p, _ in files], labels=[lab for _, lab in files], leak_period_us=7)
    assert r.samples == len(want) == 8
    for (p, _), row in zip(files, r.rows):
        w = want[f"{p.parent.name}/{p.name}"]
        assert row["file"] == str(p)
        for k in ["counts", "synaptic_updates", "input_items", "dropped_events", "correct"]:
            assert row[k] == w[k], (p, k)
        assert (str(row["prediction"]) if row["prediction"] is not None else None) == w["prediction"]
    # leak ticks are input items: 0/a spans 104 µs, so 14 ticks of 7 µs join its 7 events
    assert r.rows[0]["input_items"] == 7 + 104 // 7


def test_results_do_not_depend_on_threads_or_chunks_and_the_chip_is_untouched(eval_config):
    chip = spikehdl.Chip.from_json(eval_config)
    many = samples() * 40  # more than one chunk
    runs = [spikehdl.eval(chip, ToyDataset(many), threads=t) for t in (1, 2, 5)]
    for r in runs[1:]:
        assert r.rows == runs[0].rows and r.confusion.tolist() == runs[0].confusion.tolist()
    assert runs[0].samples == 320 and runs[0].correct == 200
    assert chip.counters()["cores"][0]["items_in"] == 0, "eval runs each sample from the configured state, not on the chip"


def test_string_labels_map_in_sorted_order_and_come_back_as_given(eval_config):
    chip = spikehdl.Chip.from_json(eval_config)
    names = ["a_row0", "b_row1", "c_row2", "d_row3"]
    ds = [(tonic_array(row_events(k, 3)), names[k]) for k in range(4)] + [(tonic_array(row_events(2, 3)), "a_row0")]
    r = spikehdl.eval(chip, ds)
    assert r.classes == names and r.neuron_labels == names
    assert [row["prediction"] for row in r.rows] == names + ["c_row2"]
    assert r.correct == 4


def test_a_readout_by_monitor_and_the_transform(eval_config, tmp_path):
    cfg = json.loads(eval_config.read_text())
    cfg["cnn_layers"][0]["destinations"][0]["enable"] = False
    cfg["cnn_layers"][0]["monitor_enable"] = True
    chip = spikehdl.Chip.from_config(cfg)
    # events of a 64 x 64 sensor, downsampled by 4 into the 16 x 16 window the network reads
    ev = [(t, 4 * x, 4 * y, p) for t, x, y, p in row_events(1, 5)]
    r = spikehdl.eval(chip, [(tonic_array(ev), 1)], readout_core=0, downsample=4)
    assert r.rows[0]["counts"] == [0, 5, 0, 0] and r.correct == 1
    with pytest.raises(spikehdl.OptionError, match="no core sends its spikes to the host"):
        spikehdl.eval(chip, [(tonic_array(ev), 1)])
