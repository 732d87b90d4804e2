#!/usr/bin/env python3
"""Generates the board examples: examples/icebreaker.json, examples/ulx3s.json
and their event files (.jsonl: DVS events, leak ticks, a few neuron reads).

Deterministic (fixed seed), standard library only. Small on purpose: the
configuration goes over the UART (every kernel and neuron word is one
configuration frame), and the PTY round trip runs in the default test suite.

icebreaker (chip preset chip_icebreaker: 1 core, the chip of the iCEBreaker board top):
  DVS 128x128, pooling 4, crop to 16 x 16 -> 2 x 16 x 16 (events mostly in the cropped 64 x 64 pixels)
  core 0: conv 2->4, 3x3, pad 1 -> 4 x 16 x 16, leak on, monitor on -> host readout (pool 4: 4 x 4 x 4)
ulx3s-85f (chip preset chip_ulx3s: 9 cores, 3 used):
  DVS 128x128, pooling 4, crop to 8 x 8 -> 2 x 8 x 8 (events mostly in the cropped 32 x 32 pixels)
  core 0: conv 2->4, 3x3, pad 1 -> 4 x 8 x 8, monitor on -> core 1 (pool 2)
  core 1: conv 4->8, 3x3, pad 1 -> 8 x 4 x 4, leak on -> core 2
  core 2: conv 8->4, 4x4        -> 4 x 1 x 1 -> host readout
"""
import json, os, random, re

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "examples")


def weights(rnd, f, c, k, lo, hi, zero_frac=0.2):
    return [[[[0 if rnd.random() < zero_frac else rnd.randint(lo, hi) for _ in range(k)] for _ in range(k)]
             for _ in range(c)] for _ in range(f)]


def dest(layer=0, enable=False, pooling=1, shift=0):
    return {"layer": layer, "enable": enable, "pooling": pooling, "feature_shift": shift}


def layer(rnd, c, w, h, f, k, pad, wo, ho, lo, hi, th, dests, **kw):
    d = {
        "input_shape": {"features": c, "x": w, "y": h},
        "output_shape": {"features": f, "x": wo, "y": ho},
        "kernel_size": k,
        "stride": {"x": 1, "y": 1},
        "padding": {"x": pad, "y": pad},
        "weights": weights(rnd, f, c, k, lo, hi),
        "threshold_high": th,
        "threshold_low": -th,
        "destinations": dests,
    }
    d.update(kw)
    return d


def write_config(name, cfg):
    text = json.dumps(cfg, indent=2)
    text = re.sub(r"\[\s+(-?\d+(?:,\s+-?\d+)*)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    with open(os.path.join(out_dir, name), "w") as fh:
        fh.write(text + "\n")


def write_events(name, rnd, n, leak_every_us, reads, span):
    """A bar sweeping left to right plus noise; a leak tick item every leak_every_us; neuron reads at the end."""
    lines, t, next_leak = [], 0, leak_every_us
    for i in range(n):
        t += rnd.randint(5, 40)
        while t >= next_leak:
            lines.append({"t": next_leak, "kind": "leak_tick"})
            next_leak += leak_every_us
            # one item per timestamp: `fpga run` lists each timestamp's outputs by source layer
            t = max(t, lines[-1]["t"] + 1)
        if rnd.random() < 0.8:
            x = max(0, min(span - 1, (i * span) // n + rnd.randint(-2, 2)))
            y = rnd.randint(0, span - 1)
        else:
            x, y = rnd.randint(0, 127), rnd.randint(0, 127)
        lines.append({"t": t, "kind": "dvs", "x": x, "y": y, "p": rnd.randint(0, 1)})
    for (layer_, f, x, y) in reads:
        t += 10
        lines.append({"t": t, "kind": "read_neuron", "layer": layer_, "f": f, "x": x, "y": y})
    with open(os.path.join(out_dir, name), "w") as fh:
        for l in lines:
            fh.write(json.dumps(l, separators=(",", ":")) + "\n")


rnd = random.Random(11)
write_config("icebreaker.json", {
    "chip": {"preset": "chip_icebreaker"},
    "dvs_layer": {"pooling": {"x": 4, "y": 4}, "origin": {"x": 0, "y": 0}, "cut": {"x": 15, "y": 15},
                  "merge": False, "monitor_enable": False,
                  "destinations": [{"layer": 0, "enable": True}, {"layer": 0, "enable": False}]},
    "cnn_layers": [
        layer(rnd, 2, 16, 16, 4, 3, 1, 16, 16, -10, 40, 60, [dest(12, True, 4), dest()],
              biases=[-1] * 4, leak_enable=True, monitor_enable=True),
    ],
})
write_events("icebreaker.jsonl", rnd, 300, 1000, [(0, 0, 3, 4), (0, 3, 15, 15), (0, 1, 8, 8)], 64)

rnd = random.Random(12)
write_config("ulx3s.json", {
    "chip": {"preset": "chip_ulx3s"},
    "dvs_layer": {"pooling": {"x": 4, "y": 4}, "origin": {"x": 0, "y": 0}, "cut": {"x": 7, "y": 7},
                  "merge": False, "monitor_enable": False,
                  "destinations": [{"layer": 0, "enable": True}, {"layer": 0, "enable": False}]},
    "cnn_layers": [
        layer(rnd, 2, 8, 8, 4, 3, 1, 8, 8, -10, 40, 50, [dest(1, True, 2), dest()], monitor_enable=True),
        layer(rnd, 4, 4, 4, 8, 3, 1, 4, 4, -10, 30, 60, [dest(2, True, 1), dest()],
              biases=[-1] * 8, leak_enable=True),
        layer(rnd, 8, 4, 4, 4, 4, 0, 1, 1, -10, 20, 80, [dest(12, True, 1), dest()], return_to_zero=True),
    ],
})
write_events("ulx3s.jsonl", rnd, 250, 1000, [(0, 1, 2, 3), (1, 7, 3, 3), (2, 3, 0, 0)], 32)
