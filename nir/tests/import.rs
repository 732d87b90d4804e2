//! The importer end to end: NIR files written here, read back, imported,
//! validated and simulated on the golden model.

use spikehdl_model::{ChipModel, HostInput, HostOutput, Timed};
use spikehdl_nir::build::{self, affine, chain, conv2d, flatten, if_node, input, output, pool};
use spikehdl_nir::{import_file, import_graph, read, write, ImportError, MinVMem, Node, Options, Tensor, Value};

fn opts(chip: &str) -> Options {
    Options { chip: chip.into(), min_v_mem: MinVMem::NegThreshold, ..Options::default() }
}

fn err(r: Result<spikehdl_nir::Imported, ImportError>) -> String {
    match r {
        Ok(_) => panic!("import unexpectedly succeeded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn hdf5_round_trip_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lenet.nir");
    let g = build::lenet(1);
    write(&p, &g).unwrap();
    let back = read(&p).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.version.as_deref(), Some("1.0"));
    assert_eq!(back.edges.len(), 11);
    assert_eq!(back.nodes["conv1"].tensor("weight").unwrap().shape, vec![6, 2, 5, 5]);
    // ints stay ints, floats stay floats
    assert!(!back.nodes["conv1"].tensor("stride").unwrap().float);
    assert!(back.nodes["if1"].tensor("v_threshold").unwrap().float);
}

#[test]
fn not_a_nir_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.nir");
    std::fs::write(&p, b"not hdf5").unwrap();
    let e = err(import_file(&p, &opts("chip_reference")));
    assert!(e.contains("x.nir") && e.contains("HDF5"), "{e}");
}

#[test]
fn lenet_imports_validates_and_simulates() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lenet.nir");
    write(&p, &build::lenet(7)).unwrap();
    let imp = import_file(&p, &opts("chip_reference")).unwrap();
    // three layers on the first three cores, DVS pooling 2 into core 0
    let cores: Vec<usize> = imp.layers.iter().map(|l| l.core).collect();
    assert_eq!(cores, vec![0, 1, 2]);
    assert!(imp.dvs);
    let dvs = imp.config.dvs_layer.as_ref().unwrap();
    assert_eq!(dvs.pooling.unwrap().x, 2);
    assert_eq!(dvs.cut.unwrap().x, 31);
    assert!(!dvs.merge);
    let l = &imp.layers;
    assert_eq!((l[0].input, l[0].output, l[0].destinations[0].pooling), ([2, 32, 32], [6, 28, 28], 2));
    assert_eq!((l[1].input, l[1].output, l[1].rescale_factor), ([6, 14, 14], [16, 10, 10], 0.25));
    assert_eq!((l[2].input, l[2].output, l[2].kernel), ([16, 5, 5], [10, 1, 1], 5));
    let c0 = imp.config.cnn_layers[0].as_ref().unwrap();
    assert_eq!(c0.destinations[0].layer, 1);
    assert_eq!(c0.destinations[0].pooling, 2);
    assert!(c0.leak_enable, "layer 0 has biases");
    let c2 = imp.config.cnn_layers[2].as_ref().unwrap();
    assert_eq!(c2.destinations[0].layer, 12);

    // the config text is what `import --out` writes; it must parse and validate
    let text = serde_json::to_string_pretty(&imp.config).unwrap();
    let valid = spikehdl_model::parse_and_validate(&text).unwrap();

    // simulate: a dense blob of DVS events in the middle of the sensor
    let mut items = Vec::new();
    for rep in 0..6u64 {
        for y in 16..48u16 {
            for x in 16..48u16 {
                items.push(Timed { t: rep * 1000 + u64::from(y), item: HostInput::Dvs { x, y, p: ((x + y) % 2) as u8 } });
            }
        }
    }
    let mut chip = ChipModel::new(&valid);
    let out = chip.run(&items).unwrap();
    for core in 0..3 {
        assert!(chip.core_counters(core).spikes_out > 0, "core {core} never spiked");
    }
    let readout: Vec<&Timed<HostOutput>> = out.iter().filter(|o| o.item.kind() == "spike").collect();
    assert!(!readout.is_empty());
    for o in readout {
        match o.item {
            HostOutput::Spike { layer, f, x, y } => assert!(layer == 2 && f < 10 && x == 0 && y == 0, "{o:?}"),
            _ => unreachable!(),
        }
    }
}

#[test]
fn affine_weights_become_a_full_map_convolution_in_pytorch_flatten_order() {
    // input (2, 3, 3) -> conv 1x1 (identity-like) -> IF -> flatten -> affine 18 -> 2
    let mut w = vec![0.0; 2 * 18];
    w[5] = 1.0; // out 0, in 5 = c 0, y 1, x 2
    w[18 + 13] = -0.5; // out 1, in 13 = c 1, y 1, x 1
    let g = chain(vec![
        ("in", input([2, 3, 3])),
        ("c", conv2d(2, 2, 1, vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.0], 1, 0)),
        ("s", if_node(&[2, 3, 3], 1.0)),
        ("fl", flatten([2, 3, 3])),
        ("fc", affine(2, 18, w, vec![0.0, 0.0])),
        ("s2", if_node(&[2], 1.0)),
        ("out", output(&[2])),
    ]);
    let imp = import_graph(&g, &opts("chip_tiny")).unwrap();
    let fc = imp.config.cnn_layers[imp.layers[1].core].as_ref().unwrap();
    assert_eq!(fc.kernel_size, 3);
    assert_eq!(fc.weights[0][0][1][2], 127);
    assert_eq!(fc.weights[1][1][1][1], -64); // -0.5 * 127 = -63.5 -> -64
    let nonzero: usize = fc.weights.iter().flatten().flatten().flatten().filter(|&&v| v != 0).count();
    assert_eq!(nonzero, 2);
}

#[test]
fn avg_pooling_divides_the_next_weights_like_sinabs() {
    let net = |avg: bool| {
        chain(vec![
            ("in", input([1, 8, 8])),
            ("c1", conv2d(1, 1, 1, vec![1.0], vec![0.0], 1, 0)),
            ("s1", if_node(&[1, 8, 8], 1.0)),
            ("p", pool(2, avg)),
            ("c2", conv2d(1, 1, 1, vec![1.0], vec![0.0], 1, 0)),
            ("s2", if_node(&[1, 4, 4], 1.0)),
            ("out", output(&[1, 4, 4])),
        ])
    };
    // sum: scale 127 -> threshold 127; avg: weight 1/4 -> scale 508 -> threshold 508
    let sum = import_graph(&net(false), &opts("chip_tiny")).unwrap();
    let avg = import_graph(&net(true), &opts("chip_tiny")).unwrap();
    assert_eq!(sum.layers[1].threshold_high, 127);
    assert_eq!(avg.layers[1].threshold_high, 508);
    assert_eq!(avg.layers[1].rescale_factor, 0.25);
    assert_eq!(avg.layers[0].destinations[0].pooling, 2);
}

fn one_layer(thr: f64, neuron: Node) -> spikehdl_nir::Graph {
    let _ = thr;
    chain(vec![
        ("in", input([1, 4, 4])),
        ("c", conv2d(1, 1, 1, vec![0.01], vec![0.0], 1, 0)),
        ("s", neuron),
        ("out", output(&[1, 4, 4])),
    ])
}

#[test]
fn missing_min_v_mem_is_warned_and_caps_the_scale() {
    let o = Options { chip: "chip_tiny".into(), min_v_mem: MinVMem::Missing, ..Options::default() };
    let imp = import_graph(&one_layer(2.0, if_node(&[1, 4, 4], 2.0)), &o).unwrap();
    let l = &imp.layers[0];
    assert_eq!(l.scales.chosen, 1.0);
    assert_eq!((l.threshold_high, l.threshold_low), (2, -32768));
    let w = imp.warnings.join("\n");
    assert!(w.contains("IF node \"s\": no min_v_mem") && w.contains("limits it to 1 (weights alone would allow 12700)"), "{w}");
    assert!(w.contains("every weight rounds to 0"), "{w}");
    // with -v_threshold (sinabs.from_nir) the weights survive
    let imp = import_graph(&one_layer(2.0, if_node(&[1, 4, 4], 2.0)), &opts("chip_tiny")).unwrap();
    assert_eq!(imp.layers[0].scales.chosen, 12700.0);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    // a threshold that rounds to 0 is an error naming the node
    let e = err(import_graph(&one_layer(0.02, if_node(&[1, 4, 4], 0.02)), &o));
    assert!(e.contains("IF node \"s\": the threshold 0.02 becomes 0 at scale 1"), "{e}");
}

#[test]
fn unsupported_nodes_are_named_with_the_reason() {
    let lif = Node::new("LIF")
        .with("tau", Value::Tensor(Tensor::float(&[1], vec![0.01])))
        .with("v_threshold", Value::Tensor(Tensor::float(&[1], vec![1.0])));
    let e = err(import_graph(&one_layer(1.0, lif), &opts("chip_tiny")));
    assert!(e.starts_with("node \"s\" (LIF): leaky neurons are not supported"), "{e}");
    let per_neuron = Node::new("IF").with("v_threshold", Value::Tensor(Tensor::float(&[2], vec![1.0, 2.0])));
    let e = err(import_graph(&one_layer(1.0, per_neuron), &opts("chip_tiny")));
    assert!(e.contains("node \"s\" (IF): v_threshold differs between neurons (1 and 2)"), "{e}");
    // a conv followed by a conv without IF
    let g = chain(vec![
        ("in", input([1, 4, 4])),
        ("c", conv2d(1, 1, 1, vec![1.0], vec![0.0], 1, 0)),
        ("c2", conv2d(1, 1, 1, vec![1.0], vec![0.0], 1, 0)),
        ("out", output(&[1, 4, 4])),
    ]);
    let e = err(import_graph(&g, &opts("chip_tiny")));
    assert!(e.contains("node \"c2\" (Conv2d): follows \"c\" without an IF node"), "{e}");
    // a branch to a second output is a second destination (graphs: tests/graphs.rs)
    let mut g = one_layer(1.0, if_node(&[1, 4, 4], 1.0));
    g.nodes.insert("out2".into(), output(&[1, 4, 4]));
    g.edges.push(("s".into(), "out2".into()));
    let imp = import_graph(&g, &opts("chip_tiny")).unwrap();
    let d: Vec<(i64, bool)> = imp.config.cnn_layers[0].as_ref().unwrap().destinations.iter().map(|d| (d.layer, d.enable)).collect();
    assert_eq!(d, vec![(12, true), (12, true)]);
}

#[test]
fn a_network_too_big_for_the_chip_reports_each_constraint() {
    let e = err(import_graph(&build::lenet(3), &opts("chip_tiny")));
    assert!(e.contains("chip \"chip_tiny\": no core assignment exists"), "{e}");
    // conv2: C = 6, F = 16, k = 5: kernel 6 * 2^(5+4) = 3072 > 1024; neuron 16 * 2^(4+4) = 4096 > 1024
    assert!(e.contains("layer 1 (conv2 6x14x14 -> 16x10x10 k5): needs kernel 3072 / neuron 4096 / bias 16 words; fits no core"), "{e}");
    assert!(e.contains("core 2: kernel words needed 3072 > 1024 available; neuron words needed 4096 > 1024 available"), "{e}");
}

/// A network as Sinabs' `to_nir` writes it (IF with per-neuron `r`,
/// `v_threshold` and `v_reset` arrays holding one value each, Conv2d with
/// bias, SumPool2d, Flatten, Affine), imported with DEFAULT options, gives the
/// integers `DynapcnnNetwork(discretize=True)` puts on the chip for the
/// network `sinabs.from_nir` builds (min_v_mem = −v_threshold). The expected
/// integers are computed by hand from discretize.py's rules (f32 arithmetic):
/// - conv: weights ∈ {−0.03..0.03 step 0.01}, no bias, threshold 1:
///   scale = 127 / 0.03 = 4233.333 (weights; thresholds allow 32767):
///   0.01 → 42.33 → 42, 0.02 → 84.67 → 85, 0.03 → 127; thresholds ±4233.
/// - affine: weights ∈ {−0.2..0.2 step 0.1}, bias (0.05, −0.05, 0), threshold 2:
///   scale = min(127 / 0.2 = 635, bias 127 / 0.05 = 2540, 32767 / 2) = 635:
///   0.1 → 63.5 → 64 (half to even), 0.2 → 127, bias ±31.75 → ±32, thresholds ±1270.
#[test]
fn sinabs_exported_file_imports_with_default_flags_to_sinabs_integers() {
    let conv_w: Vec<f64> = (0..4 * 2 * 3 * 3).map(|i| ((i % 7) as f64 - 3.0) * 0.01).collect();
    let fc_w: Vec<f64> = (0..3 * 64).map(|i| ((i % 5) as f64 - 2.0) * 0.1).collect();
    let g = chain(vec![
        ("input", input([2, 8, 8])),
        ("0", conv2d(4, 2, 3, conv_w.clone(), vec![0.0; 4], 1, 1)),
        ("1", if_node(&[4, 8, 8], 1.0)),
        ("2", pool(2, false)),
        ("3", flatten([4, 4, 4])),
        ("4", affine(3, 64, fc_w.clone(), vec![0.05, -0.05, 0.0])),
        ("5", if_node(&[3], 2.0)),
        ("output", output(&[3])),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sinabs.nir");
    write(&p, &g).unwrap();
    let imp = import_file(&p, &Options::default()).unwrap();
    assert!(imp.warnings.is_empty(), "default import warns: {:?}", imp.warnings);

    let conv_int = |w: f64| -> i64 {
        match (w * 100.0).round() as i64 {
            -3 => -127,
            -2 => -85,
            -1 => -42,
            0 => 0,
            1 => 42,
            2 => 85,
            3 => 127,
            o => unreachable!("{o}"),
        }
    };
    let l0 = imp.config.cnn_layers[imp.layers[0].core].as_ref().unwrap();
    assert_eq!((l0.threshold_high, l0.threshold_low), (4233, -4233));
    let flat0: Vec<i64> = l0.weights.iter().flatten().flatten().flatten().copied().collect();
    assert_eq!(flat0, conv_w.iter().map(|&w| conv_int(w)).collect::<Vec<_>>());
    assert_eq!(l0.biases.as_deref(), Some(&[0i64, 0, 0, 0][..]));

    let l1 = imp.config.cnn_layers[imp.layers[1].core].as_ref().unwrap();
    assert_eq!((l1.threshold_high, l1.threshold_low), (1270, -1270));
    assert_eq!(l1.biases.as_deref(), Some(&[32i64, -32, 0][..]));
    // PyTorch flatten order (c, y, x) = the chip's [f][c][y][x] kernel order.
    let flat1: Vec<i64> = l1.weights.iter().flatten().flatten().flatten().copied().collect();
    let want1: Vec<i64> = fc_w.iter().map(|&w| [-127, -64, 0, 64, 127][((w * 10.0).round() as i64 + 2) as usize]).collect();
    assert_eq!(flat1, want1);

    // The old rule, now opt-in, kills this network (every weight rounds to 0) and says so.
    let old = import_file(&p, &Options { min_v_mem: MinVMem::Missing, ..Options::default() }).unwrap();
    let l0 = old.config.cnn_layers[old.layers[0].core].as_ref().unwrap();
    assert!(l0.weights.iter().flatten().flatten().flatten().all(|&w| w == 0));
    assert!(old.warnings.iter().any(|w| w.contains("no min_v_mem")), "{:?}", old.warnings);
}

#[test]
fn per_neuron_thresholds_holding_one_value_are_accepted_mixed_ones_name_the_node() {
    let uniform = Node::new("IF").with("v_threshold", Value::Tensor(Tensor::float(&[4, 4], vec![1.5; 16])));
    let imp = import_graph(&one_layer(1.5, uniform), &Options { chip: "chip_tiny".into(), ..Options::default() }).unwrap();
    // weights 0.01 -> scale 12700; threshold 1.5 -> 19050
    assert_eq!((imp.layers[0].threshold_high, imp.layers[0].threshold_low), (19050, -19050));
    let mut v = vec![1.5; 16];
    v[9] = 1.25;
    let mixed = Node::new("IF").with("v_threshold", Value::Tensor(Tensor::float(&[4, 4], v)));
    let e = err(import_graph(&one_layer(1.5, mixed), &Options { chip: "chip_tiny".into(), ..Options::default() }));
    assert!(e.contains("node \"s\" (IF): v_threshold differs between neurons (1.5 and 1.25)"), "{e}");
}
