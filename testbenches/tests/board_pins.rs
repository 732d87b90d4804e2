//! Pin-level co-simulation of the board tops (`rtl/board_*.v` under
//! Verilator, a bit-level UART at `uart_rx` / `uart_tx` at the board's real
//! baud divider) against the golden model:
//!
//! - `<board>_example_matches_model`: reset, configuration writes and the
//!   example's events in as UART bytes, outputs out as UART bytes, decoded
//!   and compared with `ChipModel::run` per source layer and kind, in order,
//!   with timestamps; the whole sequence in `fpga run`'s order; the counter
//!   dump equals the model's error and drop counters; the host ran out of
//!   input credits at least once (it sends faster than the chip consumes).
//! - `noise_and_malformed_frames_are_counted_exactly`: malformed frames,
//!   random line noise and a UART break between good frames; every good
//!   frame goes through, the bad-frame counter equals the reference
//!   decoder's count over the same bytes, the framing counter is 1.
//! - `host_that_stops_reading_stalls_the_chip_without_loss`: the host stops
//!   reading (and granting); the board sends at most the granted frames,
//!   then the link and the chip stall; after the host resumes every output
//!   arrives once, equal to the model.
//! - `host_that_ignores_credits_loses_exactly_the_counted_frames`: 300
//!   neuron reads sent at once into a stalled chip: the reads answered are
//!   exactly the first ones, the overflow counter is the number sent minus
//!   the number answered, and after a reset the link works normally.

use std::collections::BTreeMap;
use std::path::PathBuf;

use spikehdl_hdl::boards::{board, Board};
use spikehdl_hdl::chip_regmap::chip_config_writes;
use spikehdl_model::host_link::{self as hl, counter, encode_host, frame_bytes, Decoder, HostFrame, END};
use spikehdl_model::link_host::{source_rank, LinkHost};
use spikehdl_model::{ChipModel, HostInput, HostOutput, Timed, ValidConfig};
use spikehdl_testbenches::board_dut::BoardSim;
use spikehdl_testbenches::Rng;

fn example(stem: &str) -> (ValidConfig, Vec<Timed<HostInput>>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let text = std::fs::read_to_string(dir.join(format!("{stem}.json"))).expect("example config");
    let cfg = spikehdl_model::parse_and_validate(&text).expect("valid example");
    let items = spikehdl_model::io::read_inputs(&dir.join(format!("{stem}.jsonl")), cfg.n_cores()).expect("example events");
    (cfg, items)
}

fn host(b: &'static Board) -> LinkHost<BoardSim> {
    let sim = BoardSim::new(b, None).expect("verilated board top");
    LinkHost::new(sim)
}

/// Per (source layer, kind) sequences must be equal, timestamps included; the first difference is reported.
fn compare(want: &[Timed<HostOutput>], got: &[Timed<HostOutput>]) -> Result<(), String> {
    let split = |v: &[Timed<HostOutput>]| {
        let mut m: BTreeMap<(u8, &'static str), Vec<Timed<HostOutput>>> = BTreeMap::new();
        for o in v {
            m.entry((o.item.layer(), o.item.kind())).or_default().push(*o);
        }
        m
    };
    let (w, g) = (split(want), split(got));
    for key in w.keys().chain(g.keys()) {
        let (a, b) = (w.get(key).map_or(&[][..], |v| &v[..]), g.get(key).map_or(&[][..], |v| &v[..]));
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            return Err(format!(
                "source layer {} {}: output {i} differs: model {:?}, board {:?} ({} vs {} outputs of this source)",
                key.0,
                key.1,
                a.get(i),
                b.get(i),
                a.len(),
                b.len()
            ));
        }
    }
    Ok(())
}

fn by_source(v: &[Timed<HostOutput>]) -> Vec<Timed<HostOutput>> {
    let mut v = v.to_vec();
    v.sort_by_key(|o| (o.t, source_rank(&o.item)));
    v
}

fn counters_map(c: &[(u8, u32)]) -> BTreeMap<u8, u32> {
    c.iter().copied().collect()
}

fn model_counters(m: &ChipModel) -> BTreeMap<u8, u32> {
    let mut e = BTreeMap::new();
    for i in 0..m.n_cores() {
        e.insert(counter::CORE_ERRORS + i as u8, m.core_counters(i).errors as u32);
    }
    for (s, d) in m.router_counters().drops.iter().enumerate() {
        e.insert(counter::ROUTER_DROPS + s as u8, *d as u32);
    }
    e
}

fn run_example(board_name: &str, stem: &str) {
    let b = board(board_name).unwrap();
    let chip = b.chip_preset();
    let (cfg, items) = example(stem);
    let mut h = host(b);
    let st = h.reset().expect("STATUS after reset");
    assert_eq!(st.n_cores as usize, chip.n_cores());
    assert_eq!(st.depth as usize, spikehdl_hdl::host_link::QUEUE_DEPTH);
    let writes = chip_config_writes(&cfg, chip).expect("config fits the board's chip");
    h.run(&writes, &items, &mut |_| {}).unwrap_or_else(|e| panic!("{board_name}: {e}"));
    let got = h.take_outputs();
    let counters = h.read_counters().expect("counter dump");

    let mut model = ChipModel::new(&cfg);
    let want = model.run(&items).expect("model run");
    if let Err(e) = compare(&want, &got) {
        panic!("{board_name} ({stem}, {} items, {} configuration writes): {e}", items.len(), writes.len());
    }
    assert_eq!(got, by_source(&want), "{board_name}: full order (by source inside each timestamp)");
    assert_eq!(by_source(&want), want, "{stem}: the example's model order is already by source (what the PTY test relies on)");
    assert!(!want.is_empty());
    let c = counters_map(&counters);
    let ids = hl::counter_ids(chip.n_cores());
    assert_eq!(counters.iter().map(|c| c.0).collect::<Vec<_>>(), ids, "counter dump order");
    for (id, v) in model_counters(&model) {
        assert_eq!(c[&id], v, "{}", hl::counter_name(id, chip.n_cores()));
    }
    for id in [counter::LINK_BAD_FRAMES, counter::LINK_OVERFLOW, counter::LINK_FRAMING] {
        assert_eq!(c[&id], 0, "{}", hl::counter_name(id, chip.n_cores()));
    }
    assert!(h.credit_waits > 0, "the host never ran out of input credits: flow control not exercised");
    eprintln!(
        "{board_name}: {} writes + {} items, {} outputs, {} cycles ({} per bit), {} credit waits",
        writes.len(),
        items.len(),
        got.len(),
        h.transport.cycles(),
        h.transport.divider,
        h.credit_waits
    );
}

#[test]
fn icebreaker_example_matches_model() {
    run_example("icebreaker", "icebreaker");
}

#[test]
fn ulx3s_example_matches_model() {
    run_example("ulx3s-85f", "ulx3s");
}

/// Resets and configures the icebreaker board with its example.
fn icebreaker_configured(window: u32) -> (LinkHost<BoardSim>, ValidConfig, Vec<Timed<HostInput>>) {
    let b = board("icebreaker").unwrap();
    let (cfg, items) = example("icebreaker");
    let mut h = host(b);
    h.window = window;
    h.reset().unwrap();
    let writes = chip_config_writes(&cfg, b.chip_preset()).unwrap();
    h.run(&writes, &[], &mut |_| {}).unwrap();
    (h, cfg, items)
}

#[test]
fn noise_and_malformed_frames_are_counted_exactly() {
    let (mut h, cfg, items) = icebreaker_configured(64);
    let items = &items[..120];
    let mut rng = Rng::new(0x5eed);
    let malformed: Vec<Vec<u8>> = vec![
        {
            let mut f = encode_host(&HostFrame::Input(HostInput::LeakTick)).unwrap();
            let n = f.len();
            f[n - 2] ^= 0x10; // CRC
            f
        },
        frame_bytes(hl::host_kind::DVS, &[1, 2]),                // short
        frame_bytes(hl::host_kind::SPIKE, &[0, 0, 0, 0, 0, 0]),  // long
        frame_bytes(0x33, &[]),                                  // unknown kind
        frame_bytes(hl::host_kind::DVS, &[200, 3, 1]),           // x outside 7 bits
        frame_bytes(hl::host_kind::WRITE_NEURON, &[16, 0, 0, 0, 0, 0, 0]), // layer outside 4 bits
        vec![END, 0x01, 0xDB, 0x42, 0x07, END],                  // bad escape
        vec![END, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, END],   // too long
        vec![END, 0xDB, END],                                    // escape at the end
    ];
    // every byte the board receives, to count with the reference decoder
    let mut stream: Vec<u8> = Vec::new();
    let mut reference = Decoder::host();
    let mut sent_frames = Vec::new();
    let send = |h: &mut LinkHost<BoardSim>, stream: &mut Vec<u8>, bytes: &[u8]| {
        stream.extend_from_slice(bytes);
        h.send_raw(bytes).unwrap();
    };
    let mut break_at = None;
    for (i, it) in items.iter().enumerate() {
        match i % 4 {
            0 => {
                let m = &malformed[(i / 4) % malformed.len()];
                send(&mut h, &mut stream, m);
            }
            1 => {
                let n = (rng.below(12)) as usize;
                let noise: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                send(&mut h, &mut stream, &noise);
            }
            2 if i == 42 => {
                // a UART break (line low for 3 byte times): one framing error
                h.transport.driver.level(false, h.transport.divider * 30);
                h.transport.driver.level(true, h.transport.divider * 2);
                break_at = Some(stream.len());
            }
            _ => {}
        }
        let f = HostFrame::Input(it.item);
        sent_frames.push(f);
        let bytes = encode_host(&f).unwrap();
        send(&mut h, &mut stream, &bytes);
        let bar = HostFrame::Barrier(h.expect_barrier(it.t));
        sent_frames.push(bar);
        send(&mut h, &mut stream, &encode_host(&bar).unwrap());
    }
    // what the reference decoder makes of the same bytes (the break marks the body it falls into)
    let mut decoded = Vec::new();
    for (k, &b) in stream.iter().enumerate() {
        if break_at == Some(k) {
            reference.push_framing_error();
        }
        if let Some(Ok(f)) = reference.push(b) {
            decoded.push(f);
        }
    }
    assert_eq!(decoded, sent_frames, "precondition: the noise forms no valid frame and every good frame decodes");
    assert!(sent_frames.len() <= 256, "precondition: within the initial credits");
    h.drain().unwrap_or_else(|e| panic!("{e}"));
    let got = h.take_outputs();
    let counters = counters_map(&h.read_counters().unwrap());
    let mut model = ChipModel::new(&cfg);
    let want = model.run(items).unwrap();
    compare(&want, &got).unwrap_or_else(|e| panic!("with noise: {e}"));
    assert_eq!(counters[&counter::LINK_BAD_FRAMES] as u64, reference.bad_frames, "bad frames");
    assert!(reference.bad_frames >= malformed.len() as u64);
    assert_eq!(counters[&counter::LINK_FRAMING], 1, "framing errors (one break)");
    assert_eq!(counters[&counter::LINK_OVERFLOW], 0);
    eprintln!("noise: {} bytes, {} bad frames counted", stream.len(), reference.bad_frames);
}

#[test]
fn host_that_stops_reading_stalls_the_chip_without_loss() {
    let (mut h, cfg, items) = icebreaker_configured(8);
    let items = &items[..100];
    let mut model = ChipModel::new(&cfg);
    let want = model.run(items).unwrap();
    assert!(want.len() > 4 * h.window as usize, "precondition: many more outputs than the host's window");
    // send everything the credits allow without reading
    for it in items {
        h.send_raw(&encode_host(&HostFrame::Input(it.item)).unwrap()).unwrap();
        let s = h.expect_barrier(it.t);
        h.send_raw(&encode_host(&HostFrame::Barrier(s)).unwrap()).unwrap();
    }
    let granted = h.granted();
    // the host does not read for a long time: the board may only send `granted` data frames
    let byte = h.transport.byte_cycles();
    while !h.transport.driver.idle() {
        h.transport.step(byte * 100);
    }
    h.transport.step(byte * 4000);
    let buffered = h.transport.received.len();
    let before = h.transport.monitor.busy_cycles;
    h.transport.step(byte * 500);
    assert_eq!(h.transport.monitor.busy_cycles, before, "the board kept sending while the host did not grant");
    let frames = {
        let mut d = Decoder::board();
        h.transport.received.iter().filter_map(|&b| d.push(b)).filter(|f| !matches!(f, Ok(hl::BoardFrame::Credit(_)))).count()
    };
    assert!(frames as u32 <= granted, "{frames} data frames sent with {granted} output credits");
    // resume reading
    h.drain().unwrap_or_else(|e| panic!("{e}"));
    let got = h.take_outputs();
    compare(&want, &got).unwrap_or_else(|e| panic!("after the stall: {e}"));
    let c = counters_map(&h.read_counters().unwrap());
    assert_eq!(c[&counter::LINK_OVERFLOW], 0);
    eprintln!("stall: {buffered} bytes buffered while not reading, {} outputs", got.len());
}

#[test]
fn host_that_ignores_credits_loses_exactly_the_counted_frames() {
    // no output credits: the chip's output stalls, then its input, then the queue fills
    let (mut h, cfg, items) = icebreaker_configured(0);
    let reads: Vec<HostInput> =
        (0..400u16).map(|i| HostInput::ReadNeuron { layer: 0, f: i % 4, x: (i / 4) % 16, y: (i / 64) % 16 }).collect();
    for r in &reads {
        h.send_raw(&encode_host(&HostFrame::Input(*r)).unwrap()).unwrap();
    }
    let byte = h.transport.byte_cycles();
    while !h.transport.driver.idle() {
        h.transport.step(byte * 100);
    }
    h.transport.step(byte * 2000);
    // now read (and grant) again until the board is quiet, then close the group with a barrier
    h.window = 64;
    let mut quiet = 0;
    while quiet < 5 {
        quiet = if h.poll().unwrap() == 0 { quiet + 1 } else { 0 };
    }
    let s = h.expect_barrier(7);
    h.send_raw(&encode_host(&HostFrame::Barrier(s)).unwrap()).unwrap();
    h.drain().unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<HostOutput> = h.take_outputs().into_iter().map(|o| o.item).collect();
    let c = counters_map(&h.read_counters().unwrap());
    let answered = got.len();
    assert!(answered >= spikehdl_hdl::host_link::QUEUE_DEPTH, "the queue held fewer than its depth: {answered}");
    assert!(answered < reads.len(), "precondition: the host overran the queue");
    assert_eq!(c[&counter::LINK_OVERFLOW] as usize, reads.len() - answered, "overflow counter vs reads lost");
    let mut model = ChipModel::new(&cfg);
    let mut want = Vec::new();
    for r in &reads[..answered] {
        model.accept(r, &mut want).unwrap();
    }
    assert_eq!(got, want, "the answered reads are exactly the first ones, once each");
    // the link recovers: a reset and a normal run
    h.reset().unwrap();
    let b = board("icebreaker").unwrap();
    let writes = chip_config_writes(&cfg, b.chip_preset()).unwrap();
    h.run(&writes, &items[..40], &mut |_| {}).unwrap();
    let got = h.take_outputs();
    let want = ChipModel::new(&cfg).run(&items[..40]).unwrap();
    compare(&want, &got).unwrap_or_else(|e| panic!("after recovery: {e}"));
    let c = counters_map(&h.read_counters().unwrap());
    assert_eq!(c[&counter::LINK_OVERFLOW], 0, "reset clears the counters");
    eprintln!("overrun: {} reads sent, {answered} answered, {} counted as overflow", reads.len(), reads.len() - answered);
}
