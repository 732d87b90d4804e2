//! Real recordings through the CLI: the same events as N-MNIST `.bin`,
//! Prophesee `.dat` and `.npy` give the same outputs; a 320×240 AEDAT4
//! recording is refused with a hint, then runs with `--downsample`.

use std::path::Path;
use std::process::{Command, Output};

use spikehdl_model::transform::InputTransform;
use spikehdl_model::{aedat, nmnist_bin, npy, prophesee_dat, HostInput, Timed};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikehdl")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("spawn spikehdl")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Deterministic pseudo-random DVS events (t, x, y, p) with x < w, y < h, time non-decreasing.
fn events(n: usize, w: u32, h: u32) -> Vec<(u64, u16, u16, u8)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut t = 0u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            t += state % 3;
            (t, ((state >> 8) % u64::from(w)) as u16, ((state >> 24) % u64::from(h)) as u16, ((state >> 40) & 1) as u8)
        })
        .collect()
}

fn simulate(events: &Path, out: &Path, extra: &[&str]) -> (String, String) {
    let mut a = vec!["simulate", "--config", "examples/dvs_3layer.json", "--events", s(events), "--leak-period-us", "50", "--out", s(out)];
    a.extend_from_slice(extra);
    let o = run(&a);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{events:?}\nstdout: {so}\nstderr: {se}");
    (so, se)
}

#[test]
fn bin_and_dat_samples_give_the_outputs_of_the_same_events_as_npy() {
    let dir = tempfile::tempdir().unwrap();
    let ev = events(3000, 128, 128);
    let mut b = Vec::new();
    npy::write_events(&mut b, &ev).unwrap();
    let npy_p = dir.path().join("s.npy");
    std::fs::write(&npy_p, b).unwrap();
    let bin_p = dir.path().join("s.bin");
    let bin: Vec<(u64, u8, u8, u8)> = ev.iter().map(|&(t, x, y, p)| (t, x as u8, y as u8, p)).collect();
    std::fs::write(&bin_p, nmnist_bin::encode(&bin)).unwrap();
    let dat_p = dir.path().join("s.dat");
    let dat: Vec<(u32, u16, u16, u8)> = ev.iter().map(|&(t, x, y, p)| (t as u32, x, y, p)).collect();
    std::fs::write(&dat_p, prophesee_dat::encode(&["% Version 2", "% Height 128", "% Width 128"], 12, &dat)).unwrap();
    let outs: Vec<Vec<u8>> = [&npy_p, &bin_p, &dat_p]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let o = dir.path().join(format!("out{i}.jsonl"));
            simulate(p, &o, &[]);
            std::fs::read(&o).unwrap()
        })
        .collect();
    assert!(outs[0].len() > 1000, "the example network produces outputs");
    assert_eq!(outs[1], outs[0], ".bin differs from .npy");
    assert_eq!(outs[2], outs[0], ".dat differs from .npy");
}

#[test]
fn a_320x240_aedat4_recording_runs_with_downsample() {
    let dir = tempfile::tempdir().unwrap();
    let ev = events(2000, 320, 240);
    let packets: Vec<Vec<u8>> = ev
        .chunks(500)
        .map(|c| aedat::event_packet(&c.iter().map(|&(t, x, y, p)| (t as i64 + 1_700_000_000_000_000, x as i16, y as i16, p == 1)).collect::<Vec<_>>()))
        .collect();
    let rec = dir.path().join("dvxplorer.aedat4");
    std::fs::write(&rec, aedat::file_with_info(0, &packets, -1, &aedat::info_xml(320, 240))).unwrap();
    let out = dir.path().join("out.jsonl");
    // Without flags: refused at the first event beyond 127, naming the sensor and the flags.
    let o = run(&["simulate", "--config", "examples/dvs_3layer.json", "--events", s(&rec)]);
    let (_, se) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{se}");
    let first = ev.iter().position(|&(_, x, y, _)| x > 127 || y > 127).unwrap() + 1;
    assert!(se.contains(&format!("record {first}: (packet 1) dvs: field")), "{se}");
    assert!(se.contains("(the file's sensor is 320×240); fit a larger sensor to the 128×128 DVS input with --downsample N and/or --crop X,Y"), "{se}");

    // --downsample 2: 160x120, the 128x128 window at (0, 0) drops x >= 128 (x >= 256 on the sensor).
    let sj = dir.path().join("summary.json");
    let (so, _) = simulate(&rec, &out, &["--downsample", "2", "--summary-json", s(&sj)]);
    let mut tr = InputTransform::new(2, None);
    let kept: Vec<(u64, u16, u16, u8)> = ev
        .iter()
        .filter_map(|&(t, x, y, p)| tr.apply(Timed { t, item: HostInput::Dvs { x, y, p } }))
        .map(|it| match it.item {
            HostInput::Dvs { x, y, p } => (it.t + 1_700_000_000_000_000, x, y, p),
            _ => unreachable!(),
        })
        .collect();
    assert!(tr.dropped > 100 && tr.kept > 1000, "{tr:?}");
    assert!(so.contains(&format!("input transform: downsample 2 then 128x128 window at (0, 0): {} DVS events kept, {} dropped outside the window", tr.kept, tr.dropped)), "{so}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sj).unwrap()).unwrap();
    assert_eq!(summary["input_transform"]["dropped"], tr.dropped);
    assert_eq!(summary["input_transform"]["kept"], tr.kept);
    // The outputs are those of the transformed events given directly.
    let mut b = Vec::new();
    npy::write_events(&mut b, &kept).unwrap();
    let direct = dir.path().join("direct.npy");
    std::fs::write(&direct, b).unwrap();
    let out2 = dir.path().join("out2.jsonl");
    simulate(&direct, &out2, &[]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());

    // --crop moves the window: with --downsample 2 --crop 32,0 the right part of the sensor is kept.
    let (so, _) = simulate(&rec, &out, &["--downsample", "2", "--crop", "32,0"]);
    let mut tr = InputTransform::new(2, Some((32, 0)));
    for &(t, x, y, p) in &ev {
        let _ = tr.apply(Timed { t, item: HostInput::Dvs { x, y, p } });
    }
    assert!(so.contains(&format!("window at (32, 0): {} DVS events kept, {} dropped", tr.kept, tr.dropped)), "{so}");
}
