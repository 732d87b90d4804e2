"""Bad input is a spikehdl.Error (a ValueError) naming the field or record,
the value and the limit, with the CLI's words; never a panic, never a
silently wrapped value."""

import copy
import json

import numpy as np
import pytest

import spikehdl
from conftest import EVAL_CONFIG, EXAMPLES, tonic_array

CONFIG = EXAMPLES / "dvs_3layer.json"


@pytest.fixture(scope="module")
def chip():
    return spikehdl.Chip.from_json(CONFIG)


def test_every_error_class_is_a_value_error():
    for e in [spikehdl.ConfigError, spikehdl.EventError, spikehdl.NirError, spikehdl.OptionError, spikehdl.FeatureMissing]:
        assert issubclass(e, spikehdl.Error) and issubclass(e, ValueError)
    assert not issubclass(spikehdl.InternalError, ValueError)


def test_a_bad_config_names_every_field_like_check(cli, tmp_path):
    cfg = json.loads(CONFIG.read_text())
    cfg["cnn_layers"][1]["destinations"][0]["pooling"] = 3
    cfg["cnn_layers"][0]["threshold_high"] = 40000
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(cfg))
    with pytest.raises(spikehdl.ConfigError) as e:
        spikehdl.Chip.from_json(p)
    msg = str(e.value)
    assert "cnn_layers[1].destinations[0].pooling: value 3 is not one of [1, 2, 4]" in msg
    assert "cnn_layers[0].threshold_high" in msg
    assert ("cnn_layers[1].destinations[0].pooling", "value 3 is not one of [1, 2, 4]") in e.value.errors
    r = cli("check", p, ok=False)
    assert r.returncode == 2
    assert msg in r.stderr, f"the CLI's message:\n{r.stderr}\nPython's:\n{msg}"


def test_json_errors_name_the_field_and_bad_paths_the_file(tmp_path):
    with pytest.raises(spikehdl.ConfigError, match=r"^x: 1 error\(s\) in the configuration:\n  .*at line 1 column 3"):
        spikehdl.Chip.from_config("{ nope", "x")
    with pytest.raises(spikehdl.ConfigError, match=r"cnn_layers\[0\]\.kernel_size: invalid type"):
        cfg = copy.deepcopy(EVAL_CONFIG)
        cfg["cnn_layers"][0]["kernel_size"] = "four"
        spikehdl.Chip.from_config(cfg)
    with pytest.raises(spikehdl.ConfigError, match=r"cannot read config .*missing\.json: No such file"):
        spikehdl.Chip.from_json(tmp_path / "missing.json")


def test_an_x_of_300_in_uint16_is_an_error_naming_the_record_not_wrapped(chip):
    a = tonic_array([(0, 1, 1, 1), (5, 300, 2, 0), (9, 3, 3, 1)], np.dtype([("x", np.uint16), ("y", np.uint16), ("t", np.uint64), ("p", np.uint8)]))
    with pytest.raises(spikehdl.EventError) as e:
        chip.simulate(a)
    assert "events: record 2: dvs: field x = 300 is out of range 0..=127" in str(e.value)
    assert "--downsample" in str(e.value), "says how to fit a larger sensor"
    # with the transform, the same event fits
    out = spikehdl.Chip.from_json(CONFIG).simulate(a, downsample=4)
    assert out.dtype == spikehdl.OUTPUT_DTYPE


@pytest.mark.parametrize(
    "array, want",
    [
        (np.zeros(3, dtype=[("x", int), ("y", int), ("t", int)]), 'no field "p" (fields: ["x", "y", "t"])'),
        (tonic_array([(0, 1, 1, 2)]), "events: record 1: dvs: field p = 2 is out of range 0..=1"),
        (tonic_array([(0, -1, 1, 0)]), "events: record 1: dvs: field x = -1 is out of range 0..=127"),
        (tonic_array([(10, 1, 1, 0), (3, 1, 1, 0)]), "events: record 2: timestamp 3 is before the previous item's 10"),
        (tonic_array([(-4, 1, 1, 0)]), "events: record 1: timestamp -4 is not a whole number of microseconds"),
        (np.zeros((5, 3), dtype=np.int64), "a plain array must have shape (N, 4) with columns t, x, y, p; shape is [5, 3]"),
        (np.zeros((2, 4), dtype=object), 'events: header: type "|O" is not understood'),
        (np.array([[0, 1.5, 2, 0]]), "events: record 1: x: 1.5 is not a whole number"),
        (np.zeros((2, 2), dtype=[("x", int), ("y", int), ("t", int), ("p", int)]), "a structured array must be 1-D"),
        (np.zeros(2, dtype=[("x", "U3"), ("y", int), ("t", int), ("p", int)]), 'field "x": type'),
    ],
    ids=["no p", "p 2", "x -1", "time order", "negative t", "N x 3", "object", "fraction", "2-D", "strings"],
)
def test_bad_arrays_name_the_field_or_record(chip, array, want):
    with pytest.raises(spikehdl.EventError) as e:
        chip.simulate(array)
    assert want in str(e.value)


def test_bad_files_name_the_line_or_record(chip, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("t,x,y,p\n0,1,1,1\n1,2,200,0\n")
    with pytest.raises(spikehdl.EventError, match=r"bad\.csv: line 3: dvs: field y = 200 is out of range 0\.\.=127"):
        chip.simulate(p)
    with pytest.raises(spikehdl.EventError, match=r"nothing\.csv: No such file"):
        chip.simulate(tmp_path / "nothing.csv")
    q = tmp_path / "x.txt"
    q.write_text("1")
    with pytest.raises(spikehdl.EventError, match=r"unknown event file format \(extension \"txt\"\)"):
        spikehdl.read_events(q)
    j = tmp_path / "items.jsonl"
    j.write_text('{"t":0,"kind":"dvs","x":1,"y":1,"p":1}\n{"t":1,"kind":"spike","layer":9,"c":0,"x":0,"y":0}\n')
    with pytest.raises(spikehdl.EventError, match=r"items\.jsonl: line 2: spike: field layer = 9 is out of range 0\.\.=8"):
        chip.simulate(j)
    j.write_text('{"t":0,"kind":"dvs","x":1,"y":1,"p":1}\n{"t":1,"kind":"leak_tick"}\n')
    with pytest.raises(spikehdl.EventError, match=r"item 1 \(t = 1\) is a leak_tick item; read_events returns DVS events only"):
        spikehdl.read_events(j)


@pytest.mark.parametrize(
    "kwargs, want",
    [
        ({"threads": 0}, "threads: 0 is out of range 1..=64"),
        ({"threads": 65}, "threads: 65 is out of range 1..=64"),
        ({"leak_period_us": 0}, "leak_period_us: 0 is out of range 1.."),
        ({"downsample": 0}, "downsample: 0 is out of range 1..=65535"),
        ({"crop": (5,)}, "crop: (5,) is not (X, Y)"),
        ({"crop": (-1, 0)}, "crop x: -1 is out of range 0..=65535"),
        ({"crop": (0, 70000)}, "crop y: 70000 is out of range 0..=65535"),
    ],
)
def test_bad_options_name_the_option_and_the_limit(chip, kwargs, want):
    with pytest.raises(spikehdl.OptionError) as e:
        chip.simulate(EXAMPLES / "dvs_3layer_events.csv", **kwargs)
    assert want in str(e.value)


def test_neuron_access_outside_the_chip_or_the_map(chip):
    cases = [
        (lambda: chip.read_neuron(9, 0, 0, 0), "read_neuron: field layer = 9 is out of range 0..=8"),
        (lambda: chip.read_neuron(5, 0, 0, 0), "read_neuron: core 5 has no layer in this configuration"),
        (lambda: chip.read_neuron(0, 2000, 0, 0), "read_neuron: field f = 2000 is out of range 0..=1023"),
        (lambda: chip.read_neuron(0, 8, 0, 0), "read_neuron: neuron (f=8, x=0, y=0) is outside core 0's output map of 8 features"),
        (lambda: chip.write_neuron(0, 0, 0, 0, 40000), "write_neuron: field value = 40000 is out of range -32768..=32767"),
        (lambda: chip.write_neuron(0, 0, 64, 0, 1), "write_neuron: field x = 64 is out of range 0..=63"),
        (lambda: chip.write_neuron(0, 0, 40, 0, 1), "write_neuron: neuron (f=0, x=40, y=0) is outside core 0's output map of 8 features × 32 × 32 (x < 32, y < 32)"),
        (lambda: chip.neuron_states(-1), "neuron_states: field layer = -1 is out of range 0..=8"),
    ]
    for call, want in cases:
        with pytest.raises(spikehdl.EventError) as e:
            call()
        assert want in str(e.value)


def test_eval_errors(eval_config, tmp_path):
    chip = spikehdl.Chip.from_json(eval_config)
    with pytest.raises(spikehdl.OptionError, match=r"readout_core=2: core 2 has no layer in this configuration \(cores 0\.\.=2\)"):
        spikehdl.eval(chip, [], readout_core=2)
    with pytest.raises(spikehdl.OptionError, match=r'label "7" has no readout neuron: the readout has 4 neurons \(labels 0\.\.=3\)'):
        spikehdl.eval(chip, [(tonic_array([(0, 1, 1, 1)]), 7)])
    with pytest.raises(spikehdl.OptionError, match=r"3 labels \(a, b, c\) but the readout has 4 neurons"):
        spikehdl.eval(chip, [(tonic_array([]), s) for s in "abc"])
    with pytest.raises(spikehdl.OptionError, match=r"samples\[1\]: expected \(events, label\)"):
        spikehdl.eval(chip, [(tonic_array([]), 0), 5])
    with pytest.raises(spikehdl.OptionError, match=r"labels: 1 labels for 2 samples"):
        spikehdl.eval(chip, [tonic_array([]), tonic_array([])], labels=[0])
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1,1,1\n1,1,999,1\n")
    with pytest.raises(spikehdl.EventError) as e:
        spikehdl.eval(chip, [(tonic_array([(0, 1, 1, 1)]), 0), (bad, 1), (tonic_array([(0, 500, 1, 1)]), 2)])
    msg = str(e.value)
    assert "2 of 3 samples could not be run (no accuracy is reported with samples missing)" in msg
    assert "bad.csv: line 2: dvs: field y = 999 is out of range 0..=127" in msg
    assert "samples[2]: record 1: dvs: field x = 500" in msg
