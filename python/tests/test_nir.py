"""Chip.from_nir on a graph written by the `nir` package (as Sinabs users
export theirs): the same configuration as `spikehdl import`, the same
outputs as the CLI, the same options and errors.

This needs a build with NIR import. The project's test run builds it
(tests/python.rs sets SPIKEHDL_NIR=1); a build without it fails here,
saying so, unless SPIKEHDL_EXPECT_NIR=0 declares that build intended, in
which case the FeatureMissing error is what is tested."""

import json
import os

import nir
import numpy as np
import pytest

import spikehdl
from conftest import as_rows, cli_outputs, nmnist_bin, nmnist_like, tonic_array

EXPECT_NIR = os.environ.get("SPIKEHDL_EXPECT_NIR", "1") != "0"


def graph(seed=1):
    """input 2x34x34 -> conv 8 3x3 -> IF -> sum-pool 2 -> flatten -> affine 10 -> IF -> output."""
    rng = np.random.default_rng(seed)
    w1 = rng.uniform(-0.1, 0.5, (8, 2, 3, 3)).astype(np.float32)
    w2 = rng.uniform(-0.2, 0.3, (10, 8 * 16 * 16)).astype(np.float32)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([2, 34, 34])}),
        "conv1": nir.Conv2d(input_shape=(34, 34), weight=w1, stride=1, padding=0, dilation=1, groups=1, bias=np.zeros(8, dtype=np.float32)),
        "if1": nir.IF(r=np.ones((8, 32, 32)), v_threshold=np.full((8, 32, 32), 1.0), v_reset=np.zeros((8, 32, 32))),
        "pool1": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flatten": nir.Flatten(input_type={"input": np.array([8, 16, 16])}, start_dim=0),
        "fc": nir.Affine(weight=w2, bias=np.zeros(10, dtype=np.float32)),
        "if2": nir.IF(r=np.ones(10), v_threshold=np.full(10, 2.0), v_reset=np.zeros(10)),
        "output": nir.Output(output_type={"output": np.array([10])}),
    }
    order = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(order, order[1:])))


@pytest.fixture
def net(tmp_path):
    p = tmp_path / "net.nir"
    nir.write(p, graph())
    return p


@pytest.fixture
def needs_nir():
    if spikehdl.FEATURES["nir"]:
        return
    if EXPECT_NIR:
        pytest.fail("this build of spikehdl has no NIR import (FEATURES['nir'] is False): install libhdf5-dev and rebuild, or set SPIKEHDL_EXPECT_NIR=0")
    pytest.skip("SPIKEHDL_EXPECT_NIR=0: a build without NIR import (test_a_build_without_nir_says_what_to_install covers it)")


def test_a_build_without_nir_says_what_to_install(net):
    if spikehdl.FEATURES["nir"]:
        assert EXPECT_NIR, "SPIKEHDL_EXPECT_NIR=0 but this build has NIR import"
        return
    with pytest.raises(spikehdl.FeatureMissing, match="libhdf5-dev"):
        spikehdl.Chip.from_nir(net)


@pytest.mark.parametrize("flags, kwargs", [([], {}), (["--reset", "zero", "--monitor"], {"reset": "zero", "monitor": True}), (["--min-v-mem", "missing"], {"min_v_mem": "missing"})])
def test_the_import_equals_the_cli_and_so_do_the_outputs(needs_nir, cli, net, tmp_path, flags, kwargs):
    cli_cfg = tmp_path / "cli.json"
    cli("import", net, "--out", cli_cfg, *flags)
    if kwargs.get("min_v_mem") == "missing":
        with pytest.warns(UserWarning, match="min_v_mem"):
            chip = spikehdl.Chip.from_nir(net, **kwargs)
    else:
        chip = spikehdl.Chip.from_nir(net, **kwargs)
    py_cfg = tmp_path / "py.json"
    chip.to_json(py_cfg)
    assert py_cfg.read_text() == cli_cfg.read_text()
    assert chip.config == json.loads(cli_cfg.read_text())
    assert [l["core"] for l in chip.import_report["layers"]] == chip.memory_summary()["cores"]
    ev = nmnist_like(11, n=3000)
    f = tmp_path / "s.bin"
    f.write_bytes(nmnist_bin(ev))
    _, want = cli_outputs(cli, cli_cfg, f, tmp_path)
    if "min_v_mem" not in kwargs:  # (with "missing" every scale is capped at 1 and the weights round to 0)
        assert any(r[1] == "spike" for r in want), "the network answers"
    assert as_rows(chip.simulate(tonic_array(ev))) == want


def test_import_errors_are_the_clis(needs_nir, cli, net, tmp_path):
    r = cli("import", net, "--out", tmp_path / "c.json", "--chip", "chip_tiny", ok=False)
    assert r.returncode == 2
    with pytest.raises(spikehdl.NirError) as e:
        spikehdl.Chip.from_nir(net, chip="chip_tiny")
    assert "no core assignment exists" in str(e.value)
    assert str(e.value) in r.stderr
    with pytest.raises(spikehdl.NirError, match=r"unknown chip preset"):
        spikehdl.Chip.from_nir(net, chip="nope")
    with pytest.raises(spikehdl.OptionError, match=r'min_v_mem: "x" is not one of missing, neg-threshold'):
        spikehdl.Chip.from_nir(net, min_v_mem="x")
    with pytest.raises(spikehdl.OptionError, match=r'reset: "x" is not one of subtract, zero'):
        spikehdl.Chip.from_nir(net, reset="x")
    with pytest.raises(spikehdl.OptionError, match=r"input_shape: \(0, 34, 34\) is not \(C, H, W\) with three positive numbers"):
        spikehdl.Chip.from_nir(net, input_shape=(0, 34, 34))
    with pytest.raises(spikehdl.NirError, match=r"missing\.nir"):
        spikehdl.Chip.from_nir(tmp_path / "missing.nir")
    g = graph()
    g.nodes["if1"] = nir.LIF(tau=np.ones((8, 32, 32)), r=np.ones((8, 32, 32)), v_leak=np.zeros((8, 32, 32)), v_threshold=np.ones((8, 32, 32)))
    p = tmp_path / "lif.nir"
    nir.write(p, g)
    with pytest.raises(spikehdl.NirError, match=r'node "if1" \(LIF\): leaky neurons are not supported'):
        spikehdl.Chip.from_nir(p)
