#!/usr/bin/env python3
"""Generates the bundled example: examples/dvs_3layer.json and its event file.

Deterministic (fixed seed), standard library only. The network:
DVS 128x128, pooling 4 -> 2 x 32 x 32
core 0: conv 2->8, 3x3, pad 1           -> 8 x 32 x 32, leak on, -> core 1 (pool 2), monitor on
core 1: conv 8->16, 3x3, pad 1          -> 16 x 16 x 16, -> core 2 (pool 2)
core 2: conv 16->10, 8x8 (classifier)   -> 10 x 1 x 1, -> host readout (12)
Events: a bright bar sweeping across the sensor plus background noise.
"""
import json, random, os, re

rnd = random.Random(7)
here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "examples")

def conv_weights(f, c, k, lo, hi, zero_frac=0.2):
    return [[[[0 if rnd.random() < zero_frac else rnd.randint(lo, hi) for _ in range(k)] for _ in range(k)]
             for _ in range(c)] for _ in range(f)]

def dest(layer=0, enable=False, pooling=1, shift=0):
    return {"layer": layer, "enable": enable, "pooling": pooling, "feature_shift": shift}

def layer(c, w, h, f, k, pad, wo, ho, lo, hi, th, dests, **kw):
    d = {
        "input_shape": {"features": c, "x": w, "y": h},
        "output_shape": {"features": f, "x": wo, "y": ho},
        "kernel_size": k,
        "stride": {"x": 1, "y": 1},
        "padding": {"x": pad, "y": pad},
        "weights": conv_weights(f, c, k, lo, hi),
        "threshold_high": th,
        "threshold_low": -th,
        "destinations": dests,
    }
    d.update(kw)
    return d

cfg = {
    "chip": {"preset": "chip_reference"},
    "dvs_layer": {
        "pooling": {"x": 4, "y": 4},
        "merge": False,
        "monitor_enable": False,
        "destinations": [{"layer": 0, "enable": True}, {"layer": 0, "enable": False}],
    },
    "cnn_layers": [
        layer(2, 32, 32, 8, 3, 1, 32, 32, -10, 40, 80, [dest(1, True, 2), dest()],
              biases=[-1] * 8, leak_enable=True, monitor_enable=True),
        layer(8, 16, 16, 16, 3, 1, 16, 16, -15, 30, 250, [dest(2, True, 2), dest()]),
        layer(16, 8, 8, 10, 8, 0, 1, 1, -10, 20, 1500, [dest(12, True, 1), dest()], return_to_zero=True),
    ],
}

with open(os.path.join(out_dir, "dvs_3layer.json"), "w") as fh:
    text = json.dumps(cfg, indent=2)
    # keep innermost number lists (kernel rows) on one line: readable and compact
    text = re.sub(r"\[\s+(-?\d+(?:,\s+-?\d+)*)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    fh.write(text + "\n")

events = []
t = 0
for step in range(4000):
    t += rnd.randint(5, 40)
    if rnd.random() < 0.8:
        # a vertical bar sweeping left to right, 6 px wide
        cx = int((step / 4000) * 120) + 4
        x = min(127, max(0, cx + rnd.randint(-3, 3)))
        y = rnd.randint(0, 127)
        p = 1 if rnd.random() < 0.7 else 0
    else:
        x, y, p = rnd.randint(0, 127), rnd.randint(0, 127), rnd.randint(0, 1)
    events.append((t, x, y, p))

with open(os.path.join(out_dir, "dvs_3layer_events.csv"), "w") as fh:
    fh.write("t,x,y,p\n")
    for e in events:
        fh.write("%d,%d,%d,%d\n" % e)
