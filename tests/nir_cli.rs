//! `import` and `plot` end to end: a LeNet-like NIR file written here,
//! imported, checked, simulated on the model and plotted.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_spikehdl")).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn import_check_simulate_plot() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    spikehdl_nir::write(dir.path().join("lenet.nir").as_path(), &spikehdl_nir::build::lenet(7)).unwrap();
    let (code, out, err) = run(&["import", &d("lenet.nir"), "--out", &d("chip.json"), "--monitor", "--min-v-mem", "neg-threshold", "--report-json", &d("report.json")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 layers on chip \"chip_reference\""), "{out}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d("report.json")).unwrap()).unwrap();
    assert_eq!(report["layers"][1]["rescale_factor"], 0.25);
    let (code, out, _) = run(&["check", &d("chip.json")]);
    assert_eq!(code, 0, "{out}");
    // a blob of DVS events, as .npy (tonic layout)
    let mut ev = Vec::new();
    for rep in 0..4u64 {
        for y in 16..48u16 {
            for x in 16..48u16 {
                ev.push((rep * 1000 + u64::from(y), x, y, ((x + y) % 2) as u8));
            }
        }
    }
    let mut b = Vec::new();
    spikehdl_model::npy::write_events(&mut b, &ev).unwrap();
    std::fs::write(d("ev.npy"), b).unwrap();
    let (code, out, err) = run(&["simulate", "--config", &d("chip.json"), "--events", &d("ev.npy"), "--out", &d("out.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["plot", "--events", &d("out.jsonl"), "--out", &d("plots"), "--config", &d("chip.json")]);
    assert_eq!(code, 0, "{out}{err}");
    for l in 0..3 {
        assert!(out.contains(&format!("core {l} (monitor):")), "{out}");
    }
    for f in ["raster.png", "rates.png"] {
        let bytes = std::fs::read(dir.path().join("plots").join(f)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5000, "{f}");
    }
    for f in ["raster.svg", "rates.svg"] {
        let s = std::fs::read_to_string(dir.path().join("plots").join(f)).unwrap();
        assert!(s.contains("<svg") && s.contains("firing rate (Hz)") | s.contains("neuron"), "{f}");
    }
}

#[test]
fn import_errors_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lenet.nir");
    spikehdl_nir::write(&p, &spikehdl_nir::build::lenet(7)).unwrap();
    let out = dir.path().join("c.json");
    let (code, _, err) = run(&["import", p.to_str().unwrap(), "--out", out.to_str().unwrap(), "--chip", "chip_tiny"]);
    assert_eq!(code, 2);
    assert!(err.contains("no core assignment exists") && err.contains("kernel words needed 8192 > 1024 available"), "{err}");
    assert!(!out.exists());
    // A chip preset name from before the chip_<x> scheme names its replacement.
    let (code, _, err) = run(&["import", p.to_str().unwrap(), "--out", out.to_str().unwrap(), "--chip", "tiny"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"tiny\"") && err.contains("use \"chip_tiny\""), "{err}");
    assert!(!out.exists());
    let (code, _, err) = run(&["import", p.to_str().unwrap(), "--out", out.to_str().unwrap(), "--input-shape", "2,64"]);
    assert_eq!(code, 2);
    assert!(err.contains("--input-shape"), "{err}");
}

/// The ResNet-style example (a residual block: two edges into one
/// convolution) with default flags: import, `check` shows the fan-in,
/// `simulate` gives readout spikes, `cosim` on the 9-core reference chip
/// prints MATCH.
#[test]
fn a_residual_network_imports_checks_simulates_and_cosimulates() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    spikehdl_nir::write(dir.path().join("resnet.nir").as_path(), &spikehdl_nir::build::resnet(11)).unwrap();
    let (code, out, err) = run(&["import", &d("resnet.nir"), "--out", &d("chip.json")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(DVS layer feeds core 0); 4 layers"), "{out}");
    // conv3 (core 2) sums conv1 (core 0, the skip connection) and conv2 (core 1)
    let row = out.lines().find(|l| l.contains("conv3 + if3")).unwrap_or_default();
    assert!(row.contains("core 0 + core 1") && row.contains("core 3 (pool 2)"), "{out}");
    let row = out.lines().find(|l| l.contains("conv1 + if1")).unwrap_or_default();
    assert!(row.contains("core 1, core 2"), "{out}");
    let (code, out, _) = run(&["check", &d("chip.json")]);
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.trim_start().starts_with("2 ")).unwrap_or_default();
    assert!(row.contains("core 0 (pool 1, shift 0), core 1 (pool 1, shift 0)"), "{out}");
    let (code, out, _) = run(&["check", &d("chip.json"), "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["layers"][0]["sources"], serde_json::json!(["dvs"]));
    assert_eq!(j["layers"][2]["sources"].as_array().map(Vec::len), Some(2));

    let mut csv = String::from("t,x,y,p\n");
    let mut rng = spikehdl_model::rng::Rng::new(3);
    for i in 0..300 {
        csv += &format!("{},{},{},{}\n", i * 10, 4 + rng.below(24), 4 + rng.below(24), rng.below(2));
    }
    std::fs::write(d("ev.csv"), csv).unwrap();
    let (code, out, err) = run(&["simulate", "--config", &d("chip.json"), "--events", &d("ev.csv"), "--out", &d("out.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    let readout = std::fs::read_to_string(d("out.jsonl")).unwrap().lines().filter(|l| l.contains("\"spike\"")).count();
    assert!(readout > 0, "no readout spikes:\n{out}");
    let (code, out, err) = run(&["cosim", "--config", &d("chip.json"), "--events", &d("ev.csv")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chip chip_reference (9 cores)") && out.contains("MATCH"), "{out}");
}

/// A 12-layer chain (more layers than the reference chip's 9 cores) with
/// default options lands on two daisy-chained reference chips; `check`
/// accepts the chain; `simulate` gives readout spikes from chip 1, exactly
/// those of the same network on one 12-core chip.
#[test]
fn a_twelve_layer_chain_imports_onto_two_chips_and_simulates_as_one_big_chip() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    spikehdl_nir::write(dir.path().join("deep.nir").as_path(), &spikehdl_nir::build::deep_chain(3, 12)).unwrap();
    let (code, out, err) = run(&["import", &d("deep.nir"), "--out", &d("chain.json")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("12 layers on 2 daisy-chained \"chip_reference\" chips"), "{out}");
    assert!(out.contains("do not fit one \"chip_reference\" (9 cores)"), "{out}");
    let (code, out, _) = run(&["check", &d("chain.json")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid (a chain of 2 chips, 12 layers)") && out.contains("link: chip 0 core"), "{out}");
    // Forcing one chip names the limit.
    let (code, _, err) = run(&["import", &d("deep.nir"), "--out", &d("one.json"), "--chips", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("the network has 12 layers but the chip has only 9 cores"), "{err}");

    let mut csv = String::from("t,x,y,p\n");
    let mut rng = spikehdl_model::rng::Rng::new(9);
    for i in 0..1500 {
        csv += &format!("{},{},{},{}\n", i * 10, rng.below(16), rng.below(16), rng.below(2));
    }
    std::fs::write(d("ev.csv"), csv).unwrap();
    let (code, out, err) = run(&["simulate", "--config", &d("chain.json"), "--events", &d("ev.csv"), "--out", &d("out.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chain of 2 chips"), "{out}");
    let got: Vec<serde_json::Value> = std::fs::read_to_string(d("out.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!got.is_empty() && got.iter().all(|o| o["chip"] == 1 && o["kind"] == "spike"), "readout from chip 1 only");

    // The same network on one chip with 18 explicit cores: chip 1's core i is core 9 + i.
    let text = std::fs::read_to_string(d("chain.json")).unwrap();
    let chain: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut layers = Vec::new();
    for (k, c) in chain["chips"].as_array().unwrap().iter().enumerate() {
        let mut ls = c["cnn_layers"].as_array().unwrap().clone();
        ls.resize(9, serde_json::Value::Null);
        for l in ls.iter_mut().filter(|l| !l.is_null()) {
            for dst in l["destinations"].as_array_mut().unwrap() {
                let remote = dst.get("chip").and_then(|x| x.as_u64());
                if dst["enable"] == true && dst["layer"] != 12 {
                    let chip = remote.unwrap_or(k as u64);
                    dst["layer"] = (dst["layer"].as_u64().unwrap() + 9 * chip).into();
                }
                dst.as_object_mut().unwrap().remove("chip");
            }
        }
        layers.extend(ls);
    }
    // ids 12 and 13 are the host and the DVS layer: 12 cores at most on one chip, so move chip 1 down to 9..11.
    let used: Vec<usize> = (9..18).filter(|&i| !layers[i].is_null()).collect();
    assert!(used.len() <= 3, "chip 1 holds {used:?}");
    let mut big_layers: Vec<serde_json::Value> = layers[..9].to_vec();
    let remap: std::collections::BTreeMap<u64, u64> = used.iter().enumerate().map(|(n, &i)| (i as u64, 9 + n as u64)).collect();
    for &i in &used {
        big_layers.push(layers[i].clone());
    }
    for l in big_layers.iter_mut().filter(|l| !l.is_null()) {
        for dst in l["destinations"].as_array_mut().unwrap() {
            if let Some(&n) = dst["layer"].as_u64().and_then(|x| remap.get(&x)) {
                dst["layer"] = n.into();
            }
        }
    }
    let cores: Vec<serde_json::Value> = (0..big_layers.len()).map(|_| serde_json::json!({"kernel_words": 65536, "neuron_words": 65536, "bias_words": 1024})).collect();
    let big = serde_json::json!({"chip": {"cores": cores}, "dvs_layer": chain["chips"][0]["dvs_layer"], "cnn_layers": big_layers});
    std::fs::write(d("big.json"), big.to_string()).unwrap();
    let (code, out, err) = run(&["simulate", "--config", &d("big.json"), "--events", &d("ev.csv"), "--out", &d("big.jsonl"), "--threads", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    let want: Vec<serde_json::Value> = std::fs::read_to_string(d("big.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g["t"], &g["f"]), (&w["t"], &w["f"]));
        assert_eq!(remap[&(g["layer"].as_u64().unwrap() + 9)], w["layer"].as_u64().unwrap());
    }
}
