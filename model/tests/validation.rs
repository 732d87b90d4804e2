//! Spec §2, §5, §7: every invalid configuration gets an error whose path
//! names the field and whose message names the value and the limit; all
//! errors are reported together; and no JSON input makes validation panic.

use proptest::prelude::*;
use serde_json::{json, Value};
use spikehdl_model::validate::ConfigError;
use spikehdl_model::{parse_and_validate, ChipModel, HostInput};

fn ones(dims: &[usize]) -> Value {
    match dims {
        [] => json!(1),
        [n, rest @ ..] => Value::Array(vec![ones(rest); *n]),
    }
}

fn zeros(dims: &[usize]) -> Value {
    match dims {
        [] => json!(0),
        [n, rest @ ..] => Value::Array(vec![zeros(rest); *n]),
    }
}

fn dest(layer: i64, pooling: i64, feature_shift: i64) -> Value {
    json!({"layer": layer, "enable": true, "pooling": pooling, "feature_shift": feature_shift})
}

/// A layer JSON with its output shape from the formula; unit weights; given destinations.
#[allow(clippy::too_many_arguments)]
fn layer(c: usize, w: usize, h: usize, f: usize, k: usize, s: usize, p: usize, dests: Value) -> Value {
    let (wo, ho) = ((w + 2 * p - k) / s + 1, (h + 2 * p - k) / s + 1);
    json!({
        "input_shape": {"features": c, "x": w, "y": h},
        "output_shape": {"features": f, "x": wo, "y": ho},
        "kernel_size": k,
        "stride": {"x": s, "y": s},
        "padding": {"x": p, "y": p},
        "weights": ones(&[f, c, k, k]),
        "threshold_high": 10,
        "threshold_low": -10,
        "destinations": dests,
    })
}

fn no_dests() -> Value {
    json!([{"layer": 12, "enable": true}, {"enable": false}])
}

/// A valid configuration exercising every section:
/// DVS (pooled by 4, cropped to 16×16, 2 channels) → core 0 (2→4, 16×16, k 3, pad 1) → core 1 (pooled by 2)
/// and the host; core 1 (4→3, 8×8 → 4×4, k 2, stride 2) → core 3 and the host (pooling 4);
/// core 3 (3→2, 4×4, k 1) → host and core 4 (pooling 2, feature_shift 1); core 4 (4→2, 2×2 → 1×1).
fn base() -> Value {
    let mut l0 = layer(2, 16, 16, 4, 3, 1, 1, json!([dest(1, 2, 0), dest(12, 1, 0)]));
    l0["biases"] = json!([0, 1, -1, 5]);
    l0["neurons_initial_value"] = zeros(&[4, 16, 16]);
    l0["monitor_enable"] = json!(true);
    let l1 = layer(4, 8, 8, 3, 2, 2, 0, json!([dest(3, 1, 0), dest(12, 4, 0)]));
    let l3 = layer(3, 4, 4, 2, 1, 1, 0, json!([dest(12, 1, 0), dest(4, 2, 1)]));
    let l4 = layer(4, 2, 2, 2, 2, 1, 0, no_dests());
    json!({
        "chip": {"preset": "chip_reference"},
        "dvs_layer": {
            "pooling": {"x": 4, "y": 4},
            "cut": {"x": 15, "y": 15},
            "monitor_enable": true,
            "destinations": [{"layer": 0, "enable": true}]
        },
        "cnn_layers": [l0, l1, null, l3, l4]
    })
}

fn errors(v: &Value) -> Vec<ConfigError> {
    match parse_and_validate(&v.to_string()) {
        Ok(_) => vec![],
        Err(e) => e.0,
    }
}

/// Errors after setting the JSON pointer `ptr` of the base config to `val`.
fn with(ptr: &str, val: Value) -> Vec<ConfigError> {
    let mut v = base();
    *v.pointer_mut(ptr).unwrap_or_else(|| panic!("no {ptr} in the base config")) = val;
    errors(&v)
}

/// Exactly one error, at `path`, whose message contains every part.
#[track_caller]
fn one(errs: Vec<ConfigError>, path: &str, parts: &[&str]) {
    assert_eq!(errs.len(), 1, "expected one error at {path}, got {errs:#?}");
    has(&errs, path, parts);
}

/// Some error at `path` whose message contains every part.
#[track_caller]
fn has(errs: &[ConfigError], path: &str, parts: &[&str]) {
    let e = errs.iter().find(|e| e.path == path).unwrap_or_else(|| panic!("no error at {path}: {errs:#?}"));
    for p in parts {
        assert!(e.message.contains(p), "error at {path}: message {:?} does not contain {p:?}", e.message);
    }
}

#[test]
fn base_config_is_valid() {
    let v = parse_and_validate(&base().to_string()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.n_cores(), 9);
    assert!(v.layers[0].is_some() && v.layers[2].is_none() && v.layers[4].is_some());
    assert_eq!(v.dvs.unwrap().output_shape(), (2, 16, 16));
}

#[test]
fn scalar_limits_of_a_layer() {
    let p = "cnn_layers[0]";
    for (field, val, limit) in [
        ("input_shape/features", 0, "1..=1024"),
        ("input_shape/features", 1025, "1..=1024"),
        ("input_shape/x", 0, "1..=128"),
        ("input_shape/x", 129, "1..=128"),
        ("input_shape/y", 0, "1..=128"),
        ("input_shape/y", 129, "1..=128"),
        ("output_shape/features", 0, "1..=1024"),
        ("output_shape/features", 1025, "1..=1024"),
        ("kernel_size", 0, "1..=16"),
        ("kernel_size", 17, "1..=16"),
        ("padding/x", 8, "0..=7"),
        ("padding/y", 8, "0..=7"),
        ("padding/x", -1, "0..=7"),
        ("threshold_high", 0, "1..=32767"),
        ("threshold_high", 32768, "1..=32767"),
        ("threshold_low", 10, "-32768..=9"),
        ("threshold_low", 11, "-32768..=9"),
        ("threshold_low", -32769, "-32768..=9"),
        ("destinations/0/feature_shift", 1024, "0..=1023"),
        ("destinations/1/feature_shift", -1, "0..=1023"),
    ] {
        let path = format!("{p}.{}", field.replace('/', ".").replace(".0.", "[0].").replace(".1.", "[1]."));
        one(with(&format!("/cnn_layers/0/{field}"), json!(val)), &path, &[&format!("value {val} "), limit]);
    }
    for (field, val, allowed) in [
        ("stride/x", 3, "[1, 2, 4, 8]"),
        ("stride/y", 3, "[1, 2, 4, 8]"),
        ("stride/x", 0, "[1, 2, 4, 8]"),
        ("destinations/0/pooling", 3, "[1, 2, 4]"),
        ("destinations/1/pooling", 8, "[1, 2, 4]"),
    ] {
        let path = format!("{p}.{}", field.replace('/', ".").replace(".0.", "[0].").replace(".1.", "[1]."));
        one(with(&format!("/cnn_layers/0/{field}"), json!(val)), &path, &[&format!("value {val} "), allowed]);
    }
    // Output sizes beyond 64: a 65-wide input with a 1×1 kernel.
    let cfg = json!({"cnn_layers": [layer(1, 65, 3, 1, 1, 1, 0, no_dests())]});
    one(errors(&cfg), "cnn_layers[0].output_shape.x", &["value 65 ", "1..=64"]);
    let cfg = json!({"cnn_layers": [layer(1, 3, 100, 1, 1, 1, 0, no_dests())]});
    one(errors(&cfg), "cnn_layers[0].output_shape.y", &["value 100 ", "1..=64"]);
    // threshold_high at both ends is valid.
    assert!(with("/cnn_layers/0/threshold_high", json!(32767)).is_empty());
    assert!(with("/cnn_layers/4/threshold_high", json!(1)).is_empty());
}

#[test]
fn huge_and_negative_scalars_are_errors_not_panics() {
    for (ptr, path) in [
        ("/cnn_layers/0/input_shape/x", "cnn_layers[0].input_shape.x"),
        ("/cnn_layers/0/input_shape/y", "cnn_layers[0].input_shape.y"),
        ("/cnn_layers/0/kernel_size", "cnn_layers[0].kernel_size"),
        ("/cnn_layers/0/padding/x", "cnn_layers[0].padding.x"),
        ("/cnn_layers/0/output_shape/x", "cnn_layers[0].output_shape.x"),
        ("/cnn_layers/0/threshold_high", "cnn_layers[0].threshold_high"),
    ] {
        for val in [i64::MAX, i64::MIN] {
            let errs = with(ptr, json!(val));
            has(&errs, path, &[&val.to_string()]);
        }
    }
    // Numbers beyond i64 are JSON errors.
    let text = base().to_string().replace("\"kernel_size\":3", "\"kernel_size\":18446744073709551616");
    let errs = parse_and_validate(&text).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "cnn_layers[0].kernel_size");
}

#[test]
fn stated_output_shape_must_match_the_formula() {
    one(
        with("/cnn_layers/0/output_shape/x", json!(15)),
        "cnn_layers[0].output_shape.x",
        &["value 15 ", "floor((16 + 2*1 - 3)/1) + 1 = 16"],
    );
    one(
        with("/cnn_layers/1/output_shape/y", json!(5)),
        "cnn_layers[1].output_shape.y",
        &["value 5 ", "floor((8 + 2*0 - 2)/2) + 1 = 4"],
    );
    // A kernel larger than the padded input.
    let cfg = json!({"cnn_layers": [{
        "input_shape": {"features": 1, "x": 2, "y": 9}, "output_shape": {"features": 1, "x": 1, "y": 1},
        "kernel_size": 9, "stride": {"x": 1, "y": 1}, "padding": {"x": 1, "y": 0},
        "weights": ones(&[1, 1, 9, 9]), "threshold_high": 1, "threshold_low": 0, "destinations": no_dests()
    }]});
    one(errors(&cfg), "cnn_layers[0].kernel_size", &["kernel 9", "input_shape.x 2", "padding 1"]);
}

#[test]
fn weight_array_shape_at_each_depth() {
    // Layer 0: weights [F 4][C 2][k 3][k 3].
    one(with("/cnn_layers/0/weights", ones(&[3, 2, 3, 3])), "cnn_layers[0].weights", &["length 3", "F = 4"]);
    one(with("/cnn_layers/0/weights/1", ones(&[1, 3, 3])), "cnn_layers[0].weights[1]", &["length 1", "C = 2"]);
    one(with("/cnn_layers/0/weights/1/0", ones(&[2, 3])), "cnn_layers[0].weights[1][0]", &["length 2", "k = 3"]);
    one(with("/cnn_layers/0/weights/1/0/2", ones(&[4])), "cnn_layers[0].weights[1][0][2]", &["length 4", "k = 3"]);
    one(with("/cnn_layers/0/weights/3/1/2", ones(&[0])), "cnn_layers[0].weights[3][1][2]", &["length 0", "k = 3"]);
}

#[test]
fn weight_and_bias_values_and_lengths() {
    one(with("/cnn_layers/0/weights/2/1/0/2", json!(128)), "cnn_layers[0].weights[2][1][0][2]", &["value 128 ", "-128..=127"]);
    one(with("/cnn_layers/0/weights/0/0/0/0", json!(-129)), "cnn_layers[0].weights[0][0][0][0]", &["value -129 ", "-128..=127"]);
    one(with("/cnn_layers/0/biases", json!([1, 2, 3])), "cnn_layers[0].biases", &["length 3", "F = 4"]);
    one(with("/cnn_layers/0/biases", json!([1, 2, 3, 4, 5])), "cnn_layers[0].biases", &["length 5", "F = 4"]);
    one(with("/cnn_layers/0/biases/2", json!(32768)), "cnn_layers[0].biases[2]", &["value 32768 ", "-32768..=32767"]);
    one(with("/cnn_layers/0/biases/0", json!(-32769)), "cnn_layers[0].biases[0]", &["value -32769 ", "-32768..=32767"]);
    // The extreme int8 and int16 values are valid.
    assert!(with("/cnn_layers/0/weights/2/1/0/2", json!(-128)).is_empty());
    assert!(with("/cnn_layers/0/biases/2", json!(-32768)).is_empty());
}

#[test]
fn neurons_initial_value_shape_and_values() {
    // [F 4][H_out 16][W_out 16].
    one(with("/cnn_layers/0/neurons_initial_value", zeros(&[3, 16, 16])), "cnn_layers[0].neurons_initial_value", &["length 3", "F = 4"]);
    one(
        with("/cnn_layers/0/neurons_initial_value/1", zeros(&[15, 16])),
        "cnn_layers[0].neurons_initial_value[1]",
        &["length 15", "H_out = 16"],
    );
    one(
        with("/cnn_layers/0/neurons_initial_value/1/2", zeros(&[17])),
        "cnn_layers[0].neurons_initial_value[1][2]",
        &["length 17", "W_out = 16"],
    );
    one(
        with("/cnn_layers/0/neurons_initial_value/3/15/14", json!(40000)),
        "cnn_layers[0].neurons_initial_value[3][15][14]",
        &["value 40000 ", "-32768..=32767"],
    );
}

#[test]
fn memory_footprint_must_fit_the_core() {
    // F 17 on a 32×32 output needs 17 · 2^(5+5) = 17408 neuron words: fits core 0 (64 Ki), not core 7 (16 Ki).
    let l = layer(1, 32, 32, 17, 1, 1, 0, no_dests());
    assert!(errors(&json!({"cnn_layers": [l.clone()]})).is_empty());
    let cfg = json!({"cnn_layers": [null, null, null, null, null, null, null, l]});
    one(errors(&cfg), "cnn_layers[7]", &["needs 17408 neuron words", "core 7 has 16384"]);

    // C 9, F 64, k 5: 9 · 2^(5+6) = 18432 kernel words: not core 0 (16 Ki), fits core 5 (64 Ki).
    let l = layer(9, 5, 5, 64, 5, 1, 0, no_dests());
    one(errors(&json!({"cnn_layers": [l.clone()]})), "cnn_layers[0]", &["needs 18432 kernel words", "core 0 has 16384"]);
    assert!(errors(&json!({"cnn_layers": [null, null, null, null, null, l]})).is_empty());

    // Bias words: F 65 on the tiny chip's 64-word bias memory.
    let l = layer(1, 1, 1, 65, 1, 1, 0, no_dests());
    one(errors(&json!({"chip": {"preset": "chip_tiny"}, "cnn_layers": [null, l]})), "cnn_layers[1]", &["needs 65 bias words", "core 1 has 64"]);

    // Explicit capacities: both kernel and neuron too small → two errors.
    let l = layer(2, 8, 8, 2, 3, 1, 1, no_dests());
    let cfg = json!({
        "chip": {"cores": [{"kernel_words": 63, "neuron_words": 127, "bias_words": 2}]},
        "cnn_layers": [l]
    });
    let errs = errors(&cfg);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs[0].path == "cnn_layers[0]" && errs[0].message.contains("needs 64 kernel words but core 0 has 63"), "{errs:#?}");
    assert!(errs[1].path == "cnn_layers[0]" && errs[1].message.contains("needs 128 neuron words but core 0 has 127"), "{errs:#?}");
}

#[test]
fn destination_compatibility() {
    // Core 3 → core 4 pooled by 4: 4×4 / 4 = 1×1, but core 4 takes 2×2.
    one(
        with("/cnn_layers/3/destinations/1/pooling", json!(4)),
        "cnn_layers[3].destinations[1].pooling",
        &["4x4", "pooled by 4", "1x1", "core 4", "2x2"],
    );
    // feature_shift 3 + 2 features = 5 > core 4's 4 channels.
    one(
        with("/cnn_layers/3/destinations/1/feature_shift", json!(3)),
        "cnn_layers[3].destinations[1].feature_shift",
        &["feature_shift 3", "2 features", "= 5", "core 4", "4 input features"],
    );
    assert!(with("/cnn_layers/3/destinations/1/feature_shift", json!(2)).is_empty());
    // To core 2, which has no layer.
    one(with("/cnn_layers/3/destinations/1/layer", json!(2)), "cnn_layers[3].destinations[1].layer", &["value 2", "core 2", "no layer"]);
    // To a core id the chip does not have, or a special id that is not a destination.
    for bad in [9, 13, 99, -1] {
        one(
            with("/cnn_layers/3/destinations/1/layer", json!(bad)),
            "cnn_layers[3].destinations[1].layer",
            &[&format!("value {bad} "), "0..=8", "12"],
        );
    }
    // A disabled destination is not checked for compatibility.
    let mut v = base();
    v["cnn_layers"][3]["destinations"][1] = json!({"layer": 4, "enable": false, "pooling": 4, "feature_shift": 3});
    assert!(errors(&v).is_empty());
    // Exactly two destinations.
    one(with("/cnn_layers/4/destinations", json!([{"layer": 12, "enable": true}])), "cnn_layers[4].destinations", &["1 entries", "exactly 2"]);
}

#[test]
fn more_layers_than_cores() {
    let mut v = base();
    v["cnn_layers"].as_array_mut().unwrap().resize(10, Value::Null);
    one(errors(&v), "cnn_layers", &["10 layers", "9 cores", "0..=8"]);
    let mut v = json!({"chip": {"preset": "chip_tiny"}, "cnn_layers": [null, null, null, layer(1, 2, 2, 1, 1, 1, 0, no_dests())]});
    has(&errors(&v), "cnn_layers", &["4 layers", "3 cores"]);
    v["cnn_layers"].as_array_mut().unwrap().pop();
    assert!(errors(&v).is_empty());
}

#[test]
fn chip_selection() {
    one(with("/chip", json!({"preset": "huge"})), "chip.preset", &["\"huge\"", "chip_reference", "chip_tiny", "chip_fpga"]);
    // A chip preset name from before the chip_<x> scheme: the error names the replacement.
    one(with("/chip", json!({"preset": "fpga-up5k"})), "chip.preset", &["\"fpga-up5k\"", "use \"chip_fpga\""]);
    one(with("/chip", json!({"preset": "tiny"})), "chip.preset", &["\"tiny\"", "use \"chip_tiny\""]);
    one(
        with("/chip", json!({"preset": "chip_reference", "cores": [{"kernel_words": 1, "neuron_words": 1, "bias_words": 1}]})),
        "chip",
        &["preset", "cores", "not both"],
    );
    let cores: Vec<Value> = (0..13).map(|_| json!({"kernel_words": 65536, "neuron_words": 65536, "bias_words": 1024})).collect();
    has(&with("/chip", json!({"cores": cores})), "chip.cores", &["13 cores", "1..=12"]);
    // An empty core list is an error, not a panic (even with destinations naming cores).
    let errs = with("/chip", json!({"cores": []}));
    has(&errs, "chip.cores", &["0 cores", "1..=12"]);
    has(&errs, "cnn_layers", &["5 layers", "0 cores"]);
}

fn dvs_only(dvs: Value) -> Vec<ConfigError> {
    errors(&json!({"dvs_layer": dvs, "cnn_layers": []}))
}

#[test]
fn dvs_layer_limits() {
    assert!(dvs_only(json!({"origin": {"x": 3, "y": 4}, "cut": {"x": 3, "y": 127}})).is_empty());
    one(dvs_only(json!({"origin": {"x": 10, "y": 4}, "cut": {"x": 9, "y": 20}})), "dvs_layer.cut.x", &["value 9 ", "10..=127"]);
    one(dvs_only(json!({"origin": {"x": 1, "y": 40}, "cut": {"x": 9, "y": 20}})), "dvs_layer.cut.y", &["value 20 ", "40..=127"]);
    // Limits are in pooled coordinates.
    one(
        dvs_only(json!({"pooling": {"x": 4, "y": 2}, "cut": {"x": 32, "y": 63}})),
        "dvs_layer.cut.x",
        &["value 32 ", "0..=31"],
    );
    one(dvs_only(json!({"pooling": {"x": 2, "y": 2}, "origin": {"x": 64, "y": 0}})), "dvs_layer.origin.x", &["value 64 ", "0..=63"]);
    one(dvs_only(json!({"origin": {"x": 0, "y": -1}})), "dvs_layer.origin.y", &["value -1 ", "0..=127"]);
    one(dvs_only(json!({"pooling": {"x": 3, "y": 1}})), "dvs_layer.pooling.x", &["value 3 ", "[1, 2, 4]"]);
    one(dvs_only(json!({"pooling": {"x": 1, "y": 8}})), "dvs_layer.pooling.y", &["value 8 ", "[1, 2, 4]"]);
    one(
        dvs_only(json!({"destinations": [{"layer": 0, "enable": false}, {"layer": 0, "enable": false}, {"layer": 0, "enable": false}]})),
        "dvs_layer.destinations",
        &["3 entries", "at most 2"],
    );
    one(dvs_only(json!({"destinations": [{"layer": 9, "enable": true}]})), "dvs_layer.destinations[0].layer", &["value 9 ", "0..=8"]);
    one(dvs_only(json!({"destinations": [{"layer": 12, "enable": true}]})), "dvs_layer.destinations[0].layer", &["value 12 ", "0..=8"]);
    one(dvs_only(json!({"destinations": [{"enable": false}, {"layer": 3, "enable": true}]})), "dvs_layer.destinations[1].layer", &["value 3", "no layer"]);
}

#[test]
fn dvs_output_must_match_its_destination() {
    // Cropping to 32×16 after pooling 4.
    one(
        with("/dvs_layer/cut", json!({"x": 31, "y": 15})),
        "dvs_layer.destinations[0].layer",
        &["32x16", "core 0", "16x16"],
    );
    // No crop after pooling by 2: 64×64.
    let mut v = base();
    v["dvs_layer"]["pooling"] = json!({"x": 2, "y": 2});
    v["dvs_layer"].as_object_mut().unwrap().remove("cut");
    one(errors(&v), "dvs_layer.destinations[0].layer", &["64x64", "core 0", "16x16"]);
    // Cropping to 16×8.
    one(
        with("/dvs_layer/cut", json!({"x": 15, "y": 7})),
        "dvs_layer.destinations[0].layer",
        &["16x8", "core 0", "16x16"],
    );
    // The diagonal swap exchanges the sizes: 8 wide, 16 high in, 16 wide, 8 high out.
    let mut v = base();
    v["dvs_layer"]["cut"] = json!({"x": 7, "y": 15});
    v["dvs_layer"]["mirror_diagonal"] = json!(true);
    v["cnn_layers"][0]["input_shape"]["y"] = json!(8);
    v["cnn_layers"][0]["output_shape"]["y"] = json!(8);
    v["cnn_layers"][0]["neurons_initial_value"] = zeros(&[4, 8, 16]);
    v["cnn_layers"][0]["destinations"][0] = json!({"layer": 12, "enable": true});
    assert!(errors(&v).is_empty(), "{:#?}", errors(&v));
    v["dvs_layer"]["mirror_diagonal"] = json!(false);
    one(errors(&v), "dvs_layer.destinations[0].layer", &["8x16", "core 0", "16x8"]);
    // Two channels into a one-channel core.
    let l = layer(1, 128, 128, 1, 1, 2, 0, no_dests());
    let cfg = json!({"dvs_layer": {"destinations": [{"layer": 0, "enable": true}]}, "cnn_layers": [l.clone()]});
    one(errors(&cfg), "dvs_layer.destinations[0].layer", &["2 channels", "core 0", "1"]);
    let cfg = json!({"dvs_layer": {"merge": true, "destinations": [{"layer": 0, "enable": true}]}, "cnn_layers": [l]});
    assert!(errors(&cfg).is_empty());
}

#[test]
fn unknown_fields_are_rejected() {
    // The error's path is the unknown field's own path.
    for (ptr, name, path) in [
        ("", "colour", "colour"),
        ("/chip", "speed", "chip.speed"),
        ("/dvs_layer", "mirror_z", "dvs_layer.mirror_z"),
        ("/dvs_layer/destinations/0", "pooling", "dvs_layer.destinations[0].pooling"),
        ("/cnn_layers/0", "bias", "cnn_layers[0].bias"),
        ("/cnn_layers/0/destinations/1", "poolng", "cnn_layers[0].destinations[1].poolng"),
        ("/cnn_layers/1/stride", "z", "cnn_layers[1].stride.z"),
        ("/cnn_layers/3/input_shape", "channels", "cnn_layers[3].input_shape.channels"),
    ] {
        let mut v = base();
        v.pointer_mut(ptr).unwrap().as_object_mut().unwrap().insert(name.into(), json!(1));
        one(errors(&v), path, &[&format!("unknown field `{name}`")]);
    }
    // Syntax errors carry a position and the path reached.
    let errs = parse_and_validate("{\"cnn_layers\": [}").unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "cnn_layers[0]");
    // Before any field there is no path: `<json>`.
    let errs = parse_and_validate("\"a string\"").unwrap_err().0;
    assert_eq!(errs[0].path, "<json>");
    let errs = parse_and_validate("{\"cnn_layers\": []} trailing").unwrap_err().0;
    assert_eq!(errs[0].path, "<json>");
    assert!(errs[0].message.contains("trailing characters"), "{}", errs[0].message);
    let errs = parse_and_validate("{\"cnn_layers\": [}").unwrap_err().0;
    assert!(errs[0].message.contains("line 1"), "{}", errs[0].message);
}

#[test]
fn all_errors_are_reported_together() {
    let mut v = base();
    v["cnn_layers"][0]["padding"]["y"] = json!(8);
    v["cnn_layers"][3]["destinations"][0]["feature_shift"] = json!(2000);
    v["dvs_layer"]["pooling"]["y"] = json!(3);
    let errs = errors(&v);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    has(&errs, "cnn_layers[0].padding.y", &["value 8 ", "0..=7"]);
    has(&errs, "cnn_layers[3].destinations[0].feature_shift", &["value 2000 ", "0..=1023"]);
    has(&errs, "dvs_layer.pooling.y", &["value 3 ", "[1, 2, 4]"]);
    // Several fields of one layer, plus values in arrays of another.
    let mut v = base();
    v["cnn_layers"][1]["kernel_size"] = json!(0);
    v["cnn_layers"][1]["stride"]["y"] = json!(5);
    v["cnn_layers"][4]["weights"][1][2][0][1] = json!(200);
    v["cnn_layers"][4]["weights"][0][0][0][0] = json!(-200);
    v["cnn_layers"][4]["biases"] = json!([1]);
    let errs = errors(&v);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    has(&errs, "cnn_layers[1].kernel_size", &["value 0 "]);
    has(&errs, "cnn_layers[1].stride.y", &["value 5 "]);
    // The first out-of-range weight is named, with a count of the others.
    has(&errs, "cnn_layers[4].weights[0][0][0][0]", &["value -200 ", "(1 more out of range)"]);
    has(&errs, "cnn_layers[4].biases", &["length 1", "F = 2"]);
    // The Display form lists them all.
    let text = parse_and_validate(&v.to_string()).unwrap_err().to_string();
    assert!(text.starts_with("4 error(s)"), "{text}");
    assert!(text.contains("cnn_layers[1].stride.y: value 5 is not one of [1, 2, 4, 8]"), "{text}");
}

/// The valid base config as compact text, without its big arrays of initial values.
fn fuzz_base() -> String {
    let mut v = base();
    v["cnn_layers"][0].as_object_mut().unwrap().remove("neurons_initial_value");
    v.to_string()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    /// Replace the n-th number (of those that are object values when `scalar`) by a string.
    Number(usize, bool, &'static str),
}

const HUGE: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "99999999999999999999999",
    "1e300",
    "-1e300",
    "-1",
    "0",
    "65536",
    "-32769",
    "4294967296",
    "2147483648",
    "1.5",
    "-0",
    "128",
    "1024",
    "13",
    "12",
    "null",
    "\"3\"",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = proptest::sample::select(vec!['{', '}', '[', ']', ',', ':', '"', '0', '9', '-', 'a', 'e', '.', '\\', ' ', 'é', 'n', '1']);
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::Delete),
        2 => (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        2 => (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Replace(i, c)),
        5 => (any::<usize>(), any::<bool>(), proptest::sample::select(HUGE)).prop_map(|(i, s, h)| Mutation::Number(i, s, h)),
    ]
}

/// Byte spans of the numbers in `text`; `scalar` keeps only those right after a ':'.
fn numbers(text: &str, scalar: bool) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'+' | b'-')) {
                i += 1;
            }
            if !scalar || text[..start].trim_end().ends_with(':') {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

fn apply(text: &mut String, m: &Mutation) {
    let boundary = |t: &str, i: usize| {
        let mut i = i % (t.len() + 1);
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match *m {
        Mutation::Delete(_) | Mutation::Replace(..) if text.is_empty() => {}
        Mutation::Delete(i) => {
            let i = boundary(text, i % text.len());
            text.remove(i);
        }
        Mutation::Insert(i, c) => {
            let i = boundary(text, i);
            text.insert(i, c);
        }
        Mutation::Replace(i, c) => {
            let i = boundary(text, i % text.len());
            text.remove(i);
            text.insert(i, c);
        }
        Mutation::Number(i, scalar, s) => {
            let spans = numbers(text, scalar);
            if !spans.is_empty() {
                let (a, b) = spans[i % spans.len()];
                text.replace_range(a..b, s);
            }
        }
    }
}

/// Validation must return; a valid result must also build a chip that takes a spike per core.
fn must_not_panic(text: &str) {
    if let Ok(v) = parse_and_validate(text) {
        let mut chip = ChipModel::new(&v);
        chip.max_items_per_input = 10_000;
        let mut out = Vec::new();
        for layer in 0..v.n_cores() as u8 {
            let _ = chip.accept(&HostInput::Spike { layer, c: 0, x: 0, y: 0 }, &mut out);
        }
        let _ = chip.accept(&HostInput::Dvs { x: 5, y: 5, p: 1 }, &mut out);
        let _ = chip.accept(&HostInput::LeakTick, &mut out);
    }
}

#[test]
fn fuzz_helpers_find_numbers() {
    let t = r#"{"a":12,"b":[1,-2],"c": 3.5e2}"#;
    assert_eq!(numbers(t, false).iter().map(|&(a, b)| &t[a..b]).collect::<Vec<_>>(), vec!["12", "1", "-2", "3.5e2"]);
    assert_eq!(numbers(t, true).iter().map(|&(a, b)| &t[a..b]).collect::<Vec<_>>(), vec!["12", "3.5e2"]);
    let mut s = fuzz_base();
    assert!(parse_and_validate(&s).is_ok());
    apply(&mut s, &Mutation::Number(0, true, "9223372036854775807"));
    assert!(parse_and_validate(&s).is_err());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        must_not_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_json_like_text_never_panics(
        s in proptest::collection::vec(
            proptest::sample::select(vec!["{", "}", "[", "]", ",", ":", "\"cnn_layers\"", "\"chip\"", "\"dvs_layer\"", "null", "0", "-1", "1e999", "\"x\"", "true"]),
            0..40,
        )
    ) {
        must_not_panic(&s.concat());
    }

    #[test]
    fn mutated_configs_never_panic(muts in proptest::collection::vec(mutation(), 1..=6)) {
        let mut text = fuzz_base();
        for m in &muts {
            apply(&mut text, m);
        }
        must_not_panic(&text);
    }
}

#[test]
fn json_type_errors_name_the_field_path() {
    // The message a user got before was only "invalid type: string \"3\", expected i64 at line 1 column 333".
    for (ptr, val, path, want) in [
        ("/cnn_layers/3/kernel_size", json!("3"), "cnn_layers[3].kernel_size", "invalid type: string \"3\", expected i64"),
        ("/cnn_layers/0/weights/1/0/2/2", json!(1.5), "cnn_layers[0].weights[1][0][2][2]", "invalid type: floating point `1.5`"),
        ("/cnn_layers/1/destinations/0/enable", json!("yes"), "cnn_layers[1].destinations[0].enable", "expected a boolean"),
        ("/dvs_layer/pooling/x", json!(null), "dvs_layer.pooling.x", "invalid type: null"),
        ("/chip/preset", json!(7), "chip.preset", "invalid type: integer `7`"),
    ] {
        let errs = with(ptr, val);
        one(errs.clone(), path, &[want]);
        // line and column stay in the message
        assert!(errs[0].message.contains("line 1 column"), "{:?}", errs[0].message);
    }
}
