//! Daisy-chained chips (`spikehdl_model::chain`): a chain gives exactly the
//! outputs of the same network on one chip with all the cores (an explicit
//! `cores` chip, cores numbered chip by chip), for chains and graphs with
//! fan-in and fan-out, edges across chips in both directions, leak ticks,
//! reads and writes; events crossing chips keep their timestamps; bad chains
//! get one error each naming the chip, layer and field.

mod common;

use common::{dest, dvs_dest, dvs_layer, layer, off, set_weights, to_host};
use proptest::prelude::*;
use spikehdl_model::config::{ChipConfig, ChipSpec, CnnLayerConfig, Xy};
use spikehdl_model::presets::{CoreCapacity, HOST_LAYER};
use spikehdl_model::rng::Rng;
use spikehdl_model::{parse_chain, validate, validate_chain, ChainConfig, ChainModel, ChipModel, HostInput, HostOutput, Timed};

const BIG: CoreCapacity = CoreCapacity { kernel_words: 65536, neuron_words: 65536, bias_words: 1024 };

/// A destination on another chip.
fn remote(chip: i64, layer: i64) -> spikehdl_model::config::DestinationConfig {
    spikehdl_model::config::DestinationConfig { chip: Some(chip), ..dest(layer, 1, 0) }
}

fn chip(n: usize, layers: Vec<Option<CnnLayerConfig>>) -> ChipConfig {
    ChipConfig { chip: ChipSpec { preset: None, cores: Some(vec![BIG; n]) }, allow_cycles: false, dvs_layer: None, cnn_layers: layers }
}

/// A random network over 2 or 3 chips and the host items to run on it:
/// layers on random cores of random chips, every layer the same C = F and
/// map size (so that any edge is shape-compatible), edges from each layer
/// to up to two later layers of a random global order (so across chips in
/// both directions) or the host, keeping the link rule (one sending core
/// per chip, one remote source into each chip).
fn random_chain(seed: u64) -> (Vec<ChipConfig>, Vec<(u8, HostInput)>) {
    let mut r = Rng::new(seed);
    let k = 2 + r.below(2) as usize;
    let sizes: Vec<usize> = (0..k).map(|_| 2 + r.below(3) as usize).collect();
    let (cf, s) = (1 + r.below(3) as i64, 3 + r.below(4) as i64);
    let mut placed: Vec<(usize, usize)> = Vec::new();
    let n_layers = k + r.below((sizes.iter().sum::<usize>() - k) as u64 + 1) as usize;
    while placed.len() < n_layers {
        let c = r.below(k as u64) as usize;
        let core = r.below(sizes[c] as u64) as usize;
        if !placed.contains(&(c, core)) {
            placed.push((c, core));
        }
    }
    // `placed` is also the global order of the layers (random, so edges go either way between chips).
    let mut chips: Vec<Vec<Option<CnnLayerConfig>>> = sizes.iter().map(|&n| vec![None; n]).collect();
    let mut sender: Vec<Option<usize>> = vec![None; k];
    let mut source_into: Vec<Option<(usize, usize)>> = vec![None; k];
    for (p, &(c, core)) in placed.iter().enumerate() {
        let kern = if r.chance(50) { 1 } else { 3 };
        let mut l = layer(cf, s, s, cf, kern, (1, 1), ((kern - 1) / 2, (kern - 1) / 2));
        let ws: Vec<i64> = (0..cf * cf * kern * kern).map(|_| r.below(100) as i64 - 30).collect();
        set_weights(&mut l, |f, c, ky, kx| ws[((f * cf as usize + c) * kern as usize + ky) * kern as usize + kx]);
        l.threshold_high = 1 + r.below(150) as i64;
        l.threshold_low = -(r.below(200) as i64);
        l.leak_enable = r.chance(30);
        if l.leak_enable {
            l.biases = Some((0..cf).map(|_| r.below(40) as i64 - 10).collect());
        }
        l.monitor_enable = r.chance(20);
        let mut ds = Vec::new();
        for _ in 0..1 + r.below(2) {
            let later: Vec<usize> = (p + 1..placed.len()).collect();
            if later.is_empty() || r.chance(25) {
                ds.push(to_host(1, 0));
                continue;
            }
            let (tc, tcore) = placed[later[r.below(later.len() as u64) as usize]];
            if tc == c {
                ds.push(dest(tcore as i64, 1, 0));
            } else if sender[c].is_none_or(|x| x == core) && source_into[tc].is_none_or(|x| x == (c, core)) {
                sender[c] = Some(core);
                source_into[tc] = Some((c, core));
                ds.push(remote(tc as i64, tcore as i64));
            } else {
                ds.push(to_host(1, 0));
            }
        }
        ds.resize(2, off());
        l.destinations = ds;
        chips[c][core] = Some(l);
    }
    let mut cfgs: Vec<ChipConfig> = sizes.iter().zip(chips).map(|(&n, layers)| chip(n, layers)).collect();
    // The sensor on chip 0, into its first layer (if it has one), merged when C = 1.
    if let Some(&(_, core)) = placed.iter().find(|p| p.0 == 0) {
        let mut d = dvs_layer();
        d.cut = Some(Xy { x: s - 1, y: s - 1 });
        d.merge = cf == 1;
        d.monitor_enable = r.chance(30);
        d.destinations = vec![dvs_dest(core as i64)];
        cfgs[0].dvs_layer = Some(d);
    }
    let mut items = Vec::new();
    for _ in 0..40 + r.below(80) {
        let c = r.below(k as u64) as u8;
        let n_c = sizes[usize::from(c)] as u64;
        let it = match r.below(10) {
            0..=4 => HostInput::Dvs { x: r.below(s as u64 + 1) as u16, y: r.below(s as u64 + 1) as u16, p: r.below(2) as u8 },
            5 | 6 => HostInput::Spike { layer: r.below(n_c) as u8, c: r.below(cf as u64 + 1) as u16, x: r.below(s as u64) as u16, y: r.below(s as u64) as u16 },
            7 => HostInput::LeakTick,
            8 => HostInput::WriteNeuron { layer: r.below(n_c) as u8, f: 0, x: r.below(s as u64) as u16, y: 0, value: r.below(300) as i16 - 100 },
            _ => HostInput::ReadNeuron { layer: r.below(n_c) as u8, f: r.below(cf as u64) as u16, x: r.below(s as u64) as u16, y: r.below(s as u64) as u16 },
        };
        // DVS events have only chip 0's sensor.
        items.push((if matches!(it, HostInput::Dvs { .. }) { 0 } else { c }, it));
    }
    (cfgs, items)
}

/// The same network on one chip: chip k's core i becomes core off[k] + i.
fn flatten(chips: &[ChipConfig]) -> (ChipConfig, Vec<usize>) {
    let mut off = vec![0];
    for c in chips {
        off.push(off.last().unwrap() + c.chip.cores.as_ref().unwrap().len());
    }
    let mut layers = Vec::new();
    for (k, c) in chips.iter().enumerate() {
        let n = c.chip.cores.as_ref().unwrap().len();
        for i in 0..n {
            let mut l = c.cnn_layers.get(i).cloned().flatten();
            if let Some(l) = l.as_mut() {
                for d in l.destinations.iter_mut() {
                    if d.enable && d.layer != i64::from(HOST_LAYER) {
                        d.layer += off[d.chip.map_or(k, |t| t as usize)] as i64;
                    }
                    d.chip = None;
                }
            }
            layers.push(l);
        }
    }
    let mut big = chip(*off.last().unwrap(), layers);
    big.dvs_layer = chips[0].dvs_layer.clone();
    if let Some(d) = big.dvs_layer.as_mut() {
        for x in d.destinations.iter_mut() {
            x.layer += off[0] as i64;
        }
    }
    (big, off)
}

/// The one-chip item for a chain item addressed to chip `c`.
fn big_item(off: &[usize], c: u8, it: &HostInput) -> HostInput {
    let g = |layer: u8| (off[usize::from(c)] + usize::from(layer)) as u8;
    match *it {
        HostInput::Spike { layer, c, x, y } => HostInput::Spike { layer: g(layer), c, x, y },
        HostInput::WriteNeuron { layer, f, x, y, value } => HostInput::WriteNeuron { layer: g(layer), f, x, y, value },
        HostInput::ReadNeuron { layer, f, x, y } => HostInput::ReadNeuron { layer: g(layer), f, x, y },
        other => other,
    }
}

fn relabel(off: &[usize], chip: u8, o: HostOutput) -> HostOutput {
    let g = |layer: u8| if layer == spikehdl_model::presets::DVS_LAYER { layer } else { (off[usize::from(chip)] + usize::from(layer)) as u8 };
    match o {
        HostOutput::Spike { layer, f, x, y } => HostOutput::Spike { layer: g(layer), f, x, y },
        HostOutput::Monitor { layer, f, x, y } => HostOutput::Monitor { layer: g(layer), f, x, y },
        HostOutput::NeuronValue { layer, f, x, y, value } => HostOutput::NeuronValue { layer: g(layer), f, x, y, value },
    }
}

fn compare(seed: u64) -> Result<(usize, usize), String> {
    let (chips, items) = random_chain(seed);
    let chain = validate_chain(&ChainConfig::Chain(spikehdl_model::chain::ChainFile { chips: chips.clone() }))
        .map_err(|e| format!("generated chain is invalid: {e}"))?;
    let (big, off) = flatten(&chips);
    let big = validate(&big).map_err(|e| format!("flattened chip is invalid: {e}"))?;
    let mut a = ChainModel::new(&chain);
    let mut b = ChipModel::new(&big);
    let (mut oa, mut ob) = (Vec::new(), Vec::new());
    let mut crossing = 0;
    for (n, (c, it)) in items.iter().enumerate() {
        oa.clear();
        ob.clear();
        let ra = a.accept(*c, it, &mut oa);
        let rb = b.accept(&big_item(&off, *c, it), &mut ob);
        if ra.is_err() != rb.is_err() {
            return Err(format!("item {n} {it:?} on chip {c}: chain {ra:?}, one chip {rb:?}"));
        }
        let got: Vec<HostOutput> = oa.iter().map(|o| relabel(&off, o.chip, o.item)).collect();
        if got != ob {
            let i = got.iter().zip(&ob).position(|(x, y)| x != y).unwrap_or(got.len().min(ob.len()));
            return Err(format!(
                "seed {seed}: item {n} ({it:?} on chip {c}): output {i} differs: chain {:?}, one chip {:?}\nchain: {chips:#?}",
                got.get(i),
                ob.get(i)
            ));
        }
    }
    for (k, _) in chips.iter().enumerate() {
        for i in 0..chain.chips[k].n_cores() {
            let (x, y) = (a.chip(k).core_counters(i), b.core_counters(off[k] + i));
            if x != y {
                return Err(format!("seed {seed}: chip {k} core {i}: counters {x:?} vs one chip {y:?}"));
            }
        }
        crossing += a.link_counters(k).received as usize;
    }
    Ok((crossing, chain.links().len()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_chain_equals_one_chip_with_all_the_cores(seed in any::<u64>()) {
        let r = compare(seed);
        prop_assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
    }
}

#[test]
fn the_generator_reaches_links_both_ways_three_chips_and_traffic_across() {
    let (mut both_ways, mut three, mut traffic) = (false, false, 0);
    for seed in 0..200 {
        let (chips, _) = random_chain(seed);
        let chain = validate_chain(&ChainConfig::Chain(spikehdl_model::chain::ChainFile { chips: chips.clone() })).unwrap();
        let links = chain.links();
        both_ways |= links.iter().any(|l| l.0 < l.3) && links.iter().any(|l| l.0 > l.3);
        three |= chips.len() == 3 && links.len() >= 2;
        if compare(seed).unwrap().0 > 0 {
            traffic += 1;
        }
    }
    assert!(both_ways && three, "both ways {both_ways}, three chips with two links {three}");
    assert!(traffic > 50, "only {traffic} of 200 cases sent events across chips");
}

/// A 12-layer chain over two reference-sized chips (9 + 3 cores) against one 12-core chip.
#[test]
fn a_twelve_layer_chain_over_two_chips_keeps_every_timestamp() {
    let mut layers: Vec<Vec<Option<CnnLayerConfig>>> = vec![vec![None; 9], vec![None; 3]];
    for g in 0..12usize {
        let mut l = layer(2, 6, 6, 2, 3, (1, 1), (1, 1));
        set_weights(&mut l, |f, c, ky, kx| if (f + c + ky + kx) % 3 == 0 { 40 } else { -5 });
        l.threshold_high = 60;
        l.threshold_low = -60;
        l.destinations = vec![
            match g {
                11 => to_host(1, 0),
                8 => remote(1, 0),
                _ if g < 8 => dest(g as i64 + 1, 1, 0),
                _ => dest(g as i64 - 9 + 1, 1, 0),
            },
            off(),
        ];
        let (k, i) = if g < 9 { (0, g) } else { (1, g - 9) };
        layers[k][i] = Some(l);
    }
    let mut chips: Vec<ChipConfig> = layers.into_iter().map(|l| { let n = l.len(); chip(n, l) }).collect();
    let mut d = dvs_layer();
    d.cut = Some(Xy { x: 5, y: 5 });
    d.destinations = vec![dvs_dest(0)];
    chips[0].dvs_layer = Some(d);
    let text = serde_json::to_string(&serde_json::json!({ "chips": chips })).unwrap();
    let chain = parse_chain(&text).unwrap();
    assert_eq!(chain.links(), vec![(0, 8, 0, 1, 0)]);
    let mut items = Vec::new();
    let mut r = Rng::new(5);
    for i in 0..400u64 {
        items.push(Timed { t: 1000 + 7 * i, item: HostInput::Dvs { x: r.below(6) as u16, y: r.below(6) as u16, p: r.below(2) as u8 } });
    }
    let out = ChainModel::new(&chain).run(0, &items).unwrap();
    let (big, _) = flatten(&chips);
    let want = ChipModel::new(&validate(&big).unwrap()).run(&items).unwrap();
    assert!(out.iter().any(|o| o.item.chip == 1), "the readout is on chip 1");
    assert_eq!(out.len(), want.len());
    for (a, b) in out.iter().zip(&want) {
        assert_eq!(a.t, b.t, "an output's timestamp is its cause's");
        assert_eq!((a.item.chip, a.item.item.layer()), (1, 2));
        assert_eq!(b.item.layer(), 11);
    }
}

/// The validation errors of a chain, as text.
fn chain_errors(chips: Vec<ChipConfig>) -> String {
    match validate_chain(&ChainConfig::Chain(spikehdl_model::chain::ChainFile { chips })) {
        Ok(_) => panic!("the chain unexpectedly validated"),
        Err(e) => e.to_string(),
    }
}

fn two_chips() -> Vec<ChipConfig> {
    let mut a = layer(1, 4, 4, 2, 1, (1, 1), (0, 0));
    a.destinations = vec![remote(1, 0), off()];
    let mut b = layer(2, 4, 4, 1, 1, (1, 1), (0, 0));
    b.destinations = vec![to_host(1, 0), off()];
    vec![chip(2, vec![Some(a), None]), chip(2, vec![Some(b), None])]
}

#[test]
fn bad_chains_get_one_error_each_naming_chip_layer_and_field() {
    validate_chain(&ChainConfig::Chain(spikehdl_model::chain::ChainFile { chips: two_chips() })).unwrap();

    let mut c = two_chips();
    c[0].cnn_layers[0].as_mut().unwrap().destinations[0].chip = Some(2);
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[0].destinations[0].chip: value 2 names no chip: the chain has chips 0..=1"), "{e}");

    let mut c = two_chips();
    c[0].cnn_layers[0].as_mut().unwrap().destinations[0].layer = 1;
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[0].destinations[0].layer: value 1 names core 1 of chip 1, which has no layer configured"), "{e}");

    let mut c = two_chips();
    c[1].cnn_layers[0] = Some(layer(2, 2, 2, 1, 1, (1, 1), (0, 0)));
    c[1].cnn_layers[0].as_mut().unwrap().destinations = vec![to_host(1, 0), off()];
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[0].destinations[0].pooling: output 4x4 of chip 0 layer 0 pooled by 1 is 4x4 (x by y), but core 0 of chip 1 has input_shape 2x2"), "{e}");

    let mut c = two_chips();
    c[0].cnn_layers[0].as_mut().unwrap().destinations[0].feature_shift = 1;
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[0].destinations[0].feature_shift: feature_shift 1 + 2 features = 3 exceeds the 2 input features of core 0 of chip 1"), "{e}");

    // a cycle across chips: chip 1's layer back to chip 0's
    let mut c = two_chips();
    c[1].cnn_layers[0] = Some(layer(2, 4, 4, 1, 1, (1, 1), (0, 0)));
    c[1].cnn_layers[0].as_mut().unwrap().destinations = vec![remote(0, 0), off()];
    let e = chain_errors(c);
    assert!(e.contains("destination cycle across chips: chip 0 core 0 -> chip 1 core 0 -> chip 0 core 0"), "{e}");

    // the host readout on another chip
    let mut c = two_chips();
    c[0].cnn_layers[0].as_mut().unwrap().destinations[1] = remote(1, 12);
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[0].destinations[1].layer: value 12 (the host readout) on chip 1"), "{e}");

    // two cores of one chip on the link
    let mut c = two_chips();
    let mut a2 = layer(1, 4, 4, 2, 1, (1, 1), (0, 0));
    a2.destinations = vec![remote(1, 0), off()];
    c[0].cnn_layers[1] = Some(a2);
    let e = chain_errors(c);
    assert!(e.contains("chips[0].cnn_layers[1].destinations[0].chip: core 1 of chip 0 sends to chip 1, but core 0 of chip 0 already sends to another chip"), "{e}");

    // a single-chip file naming another chip
    let mut one = two_chips().remove(0);
    one.cnn_layers[0].as_mut().unwrap().destinations[0].chip = Some(1);
    let e = validate(&one).unwrap_err().to_string();
    assert!(e.contains("cnn_layers[0].destinations[0].chip: value 1 names no chip: a single-chip configuration has only chip 0"), "{e}");
}

#[test]
fn a_single_chip_file_is_a_chain_of_one_unchanged() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/dvs_3layer.json")).unwrap();
    let chain = parse_chain(&text).unwrap();
    assert_eq!(chain.single(), Some(&spikehdl_model::parse_and_validate(&text).unwrap()));
    let e = parse_chain(r#"{"chips": [{"cnn_layers": [], "bogus": 1}]}"#).unwrap_err().to_string();
    assert!(e.contains("chips[0]") && e.contains("bogus"), "{e}");
    let e = parse_chain(r#"{"chips": []}"#).unwrap_err().to_string();
    assert!(e.contains("chips: 0 chips given; a chain has 1..=4"), "{e}");
}
