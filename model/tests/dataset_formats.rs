//! N-MNIST `.bin` and Prophesee `.dat` files (and a 320×240 AEDAT4
//! recording), written by the tests themselves, including corrupt and
//! truncated ones, read through `io::read_inputs`; sensor coordinates and the
//! input transform.

use std::path::PathBuf;

use spikehdl_model::io::{read_inputs, DvsBounds, EventFileError, ReadOptions};
use spikehdl_model::transform::InputTransform;
use spikehdl_model::{aedat, nmnist_bin, npy, prophesee_dat};
use spikehdl_model::{HostInput, Timed};

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikehdl-dsfmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn dvs(t: u64, x: u16, y: u16, p: u8) -> Timed<HostInput> {
    Timed { t, item: HostInput::Dvs { x, y, p } }
}

fn err_text(r: Result<Vec<Timed<HostInput>>, EventFileError>) -> String {
    r.expect_err("expected an error").to_string()
}

const SENSOR: ReadOptions = ReadOptions { n_cores: 1, dvs: DvsBounds::Sensor };

fn npy_of(ev: &[(u64, u16, u16, u8)]) -> Vec<Timed<HostInput>> {
    let mut b = Vec::new();
    npy::write_events(&mut b, ev).unwrap();
    read_inputs(&tmp(&format!("ref{}.npy", ev.len()), &b), 1).unwrap()
}

#[test]
fn nmnist_bin_reads_like_tonic_and_equals_the_npy() {
    // Hand-made records: x, y, p|t[22:16], t[15:8], t[7:0].
    let bytes = [
        3, 4, 0x80, 0x00, 0x05, // x 3, y 4, p 1, t 5
        33, 0, 0x01, 0x02, 0x03, // x 33, y 0, p 0, t 0x010203 = 66051
        0, 240, 0, 0, 0, // overflow marker: +8192 from here on
        7, 9, 0x81, 0x02, 0x03, // p 1, t 66051 + 8192
    ];
    let got = read_inputs(&tmp("a.bin", &bytes), 1).unwrap();
    assert_eq!(got, vec![dvs(5, 3, 4, 1), dvs(66051, 33, 0, 0), dvs(74243, 7, 9, 1)]);
    assert_eq!(got, npy_of(&[(5, 3, 4, 1), (66051, 33, 0, 0), (74243, 7, 9, 1)]));
    // The encoder used by the CLI tests round-trips, markers included (t beyond 23 bits).
    let ev: Vec<(u64, u8, u8, u8)> = vec![(0, 0, 0, 0), (1000, 33, 33, 1), (8_400_000, 12, 30, 1), (9_000_000, 127, 127, 0)];
    let b = nmnist_bin::encode(&ev);
    assert_eq!(b.len() % 5, 0);
    assert!(b.len() > ev.len() * 5, "markers were written");
    let want: Vec<(u64, u16, u16, u8)> = ev.iter().map(|&(t, x, y, p)| (t, x.into(), y.into(), p)).collect();
    assert_eq!(read_inputs(&tmp("b.bin", &b), 1).unwrap(), npy_of(&want));
    assert!(read_inputs(&tmp("empty.bin", &[]), 1).unwrap().is_empty());
}

#[test]
fn nmnist_bin_errors_name_the_record() {
    let mut b = nmnist_bin::encode(&[(1, 1, 1, 0), (2, 2, 2, 1), (3, 3, 3, 0)]);
    b.extend_from_slice(&[1, 2, 3]);
    let e = err_text(read_inputs(&tmp("trunc.bin", &b), 1));
    assert!(e.ends_with("trunc.bin: record 4: truncated: 3 of 5 bytes (the file is 18 bytes, not a multiple of 5)"), "{e}");
    // x = 200 is beyond the chip's input: the error says how to fit it.
    let b = nmnist_bin::encode(&[(1, 1, 1, 0), (2, 200, 2, 1)]);
    let e = err_text(read_inputs(&tmp("wide.bin", &b), 1));
    assert!(e.contains("wide.bin: record 2: dvs: field x = 200 is out of range 0..=127; fit a larger sensor"), "{e}");
    assert!(e.contains("--downsample N and/or --crop X,Y"), "{e}");
    // ... and is read in sensor coordinates.
    assert_eq!(read_inputs(&tmp("wide.bin", &b), SENSOR).unwrap()[1], dvs(2, 200, 2, 1));
    // Time going backwards (a corrupt timestamp) names the record.
    let b = nmnist_bin::encode(&[(500, 1, 1, 0)]).into_iter().chain(nmnist_bin::encode(&[(20, 2, 2, 0)])).collect::<Vec<_>>();
    let e = err_text(read_inputs(&tmp("order.bin", &b), 1));
    assert!(e.contains("order.bin: record 2: timestamp 20 is before the previous item's 500"), "{e}");
}

const GEN1_HEADER: [&str; 5] = ["% Data file containing 2D events.", "% Version 2", "% Date 2026-01-01 12:00:00", "% Height 240", "% Width 304"];

#[test]
fn prophesee_dat_reads_like_psee_loader_and_equals_the_npy() {
    let ev = [(10u32, 5u16, 6u16, 1u8), (11, 127, 0, 0), (20, 0, 127, 1), (4_000_000_000, 64, 65, 0)];
    let want = npy_of(&ev.map(|(t, x, y, p)| (u64::from(t), x, y, p)));
    for (name, header, ty) in [("cd.dat", &GEN1_HEADER[..], 12u8), ("td.dat", &GEN1_HEADER[..2], 0), ("bare.dat", &[][..], 0)] {
        let b = prophesee_dat::encode(header, ty, &ev);
        assert_eq!(read_inputs(&tmp(name, &b), 1).unwrap(), want, "{name}");
    }
    // The bit layout, by hand: x 14 bits, y 14 bits from bit 14, p bit 28.
    let mut b = b"% Width 640\n% Height 480\n".to_vec();
    b.extend_from_slice(&[12, 8]);
    b.extend_from_slice(&7u32.to_le_bytes());
    b.extend_from_slice(&(3u32 | (100 << 14) | (1 << 28) | (0b111 << 29)).to_le_bytes());
    assert_eq!(read_inputs(&tmp("bits.dat", &b), SENSOR).unwrap(), vec![dvs(7, 3, 100, 1)]);
}

#[test]
fn prophesee_dat_errors_name_the_record_or_the_header() {
    let ev = [(1u32, 1u16, 1u16, 0u8), (2, 300, 2, 1)];
    let b = prophesee_dat::encode(&GEN1_HEADER, 12, &ev);
    // Beyond 128: the sensor size from the header is named.
    let e = err_text(read_inputs(&tmp("big.dat", &b), 1));
    assert!(e.contains("big.dat: record 2: dvs: field x = 300 is out of range 0..=127 (the file's sensor is 304×240); fit a larger sensor"), "{e}");
    // In sensor coordinates it is read; beyond the declared sensor it is not.
    assert_eq!(read_inputs(&tmp("big.dat", &b), SENSOR).unwrap()[1], dvs(2, 300, 2, 1));
    let b = prophesee_dat::encode(&GEN1_HEADER, 12, &[(1, 1, 240, 0)]);
    let e = err_text(read_inputs(&tmp("out.dat", &b), SENSOR));
    assert!(e.contains("out.dat: record 1: dvs: field y = 240 is out of range 0..=239 (outside the 304×240 sensor the file declares)"), "{e}");
    // Truncated record.
    let mut b = prophesee_dat::encode(&GEN1_HEADER, 12, &ev[..1]);
    b.extend_from_slice(&[1, 2, 3, 4, 5]);
    let e = err_text(read_inputs(&tmp("trunc.dat", &b), 1));
    assert!(e.ends_with("trunc.dat: record 2: truncated: 5 of 8 bytes"), "{e}");
    // Other event types and sizes are refused, not reinterpreted.
    let b = prophesee_dat::encode(&GEN1_HEADER, 14, &ev[..1]);
    assert!(err_text(read_inputs(&tmp("trig.dat", &b), 1)).contains("trig.dat: event type 14 is not a CD event type ([0, 12])"));
    let mut b = prophesee_dat::encode(&GEN1_HEADER, 12, &[]);
    *b.last_mut().unwrap() = 16;
    assert!(err_text(read_inputs(&tmp("size.dat", &b), 1)).contains("event size 16 bytes; CD events are 8 bytes"));
    // Header problems.
    assert!(err_text(read_inputs(&tmp("nohdr.dat", b"% Version 2\n"), 1)).contains("the event type and size bytes after the header are missing"));
    assert!(err_text(read_inputs(&tmp("eol.dat", b"% Version 2"), 1)).contains("header line 1 has no end of line"));
    assert!(err_text(read_inputs(&tmp("w.dat", b"% Width abc\n\x0c\x08"), 1)).contains("header line 1: Width \"abc\" is not a whole number"));
}

fn recording_320x240() -> Vec<u8> {
    let packet = aedat::event_packet(&[(100, 154, 3, true), (101, 319, 239, false), (102, 10, 200, true)]);
    aedat::file_with_info(0, &[packet], -1, &aedat::info_xml(320, 240))
}

#[test]
fn a_320x240_aedat4_recording_names_its_sensor_and_runs_with_downsample() {
    let p = tmp("dvx.aedat4", &recording_320x240());
    let e = err_text(read_inputs(&p, 1));
    assert!(e.contains("record 1: (packet 1) dvs: field x = 154 is out of range 0..=127 (the file's sensor is 320×240)"), "{e}");
    assert!(e.contains("--downsample N and/or --crop X,Y"), "{e}");
    let raw = read_inputs(&p, SENSOR).unwrap();
    assert_eq!(raw, vec![dvs(100, 154, 3, 1), dvs(101, 319, 239, 0), dvs(102, 10, 200, 1)]);
    // --downsample 2: 320x240 -> 160x120; the window at (0, 0) keeps x < 128.
    let mut tr = InputTransform::new(2, None);
    assert_eq!(tr.apply_all(raw.clone()), vec![dvs(100, 77, 1, 1), dvs(102, 5, 100, 1)]);
    assert_eq!((tr.kept, tr.dropped), (2, 1));
    // --downsample 2 --crop 32,0 keeps the right part instead.
    let mut tr = InputTransform::new(2, Some((32, 0)));
    assert_eq!(tr.apply_all(raw), vec![dvs(100, 45, 1, 1), dvs(101, 127, 119, 0)]);
    assert_eq!((tr.kept, tr.dropped), (2, 1));
    assert_eq!(aedat::sensor_size(&aedat::info_xml(346, 260)), Some((346, 260)));
    // A description without an event stream size gives none (and the plain hint).
    let plain = aedat::file(0, &[aedat::event_packet(&[(1, 130, 0, true)])], -1);
    let e = err_text(read_inputs(&tmp("plain.aedat4", &plain), 1));
    assert!(e.contains("x = 130 is out of range 0..=127; fit a larger sensor"), "{e}");
}

/// The streaming reader (`io::open_inputs`) takes the same options as
/// `read_inputs` and gives the same items and the same errors, for every
/// format: the streamed ones (CSV, JSON Lines, .npy) and the ones loaded whole
/// (.bin, .dat, AEDAT4).
#[test]
fn open_inputs_streams_what_read_inputs_reads_in_chip_and_sensor_coordinates() {
    use spikehdl_model::io::open_inputs;
    let streamed = |p: &PathBuf, o: ReadOptions| -> Result<Vec<Timed<HostInput>>, EventFileError> { open_inputs(p, o)?.collect() };
    let ev = [(1u64, 5u16, 6u16, 1u8), (2, 300, 2, 0), (3, 127, 239, 1)];
    let mut npy_bytes = Vec::new();
    npy::write_events(&mut npy_bytes, &ev).unwrap();
    let csv: String = ev.iter().map(|(t, x, y, p)| format!("{t},{x},{y},{p}\n")).collect();
    let jsonl: String = ev.iter().map(|(t, x, y, p)| format!("{{\"t\":{t},\"kind\":\"dvs\",\"x\":{x},\"y\":{y},\"p\":{p}}}\n")).collect();
    let dat_ev = ev.map(|(t, x, y, p)| (t as u32, x, y, p));
    let files = [
        tmp("wide.csv", csv.as_bytes()),
        tmp("wide.jsonl", jsonl.as_bytes()),
        tmp("wide.npy", &npy_bytes),
        tmp("wide.dat", &prophesee_dat::encode(&GEN1_HEADER, 12, &dat_ev)),
        tmp("wide.aedat4", &recording_320x240()),
        tmp("small.bin", &nmnist_bin::encode(&[(0, 1, 2, 1), (9_000_000, 33, 33, 0)])),
    ];
    for p in &files {
        for o in [ReadOptions::from(1), SENSOR] {
            let whole = read_inputs(p, o).map_err(|e| e.to_string());
            let s = streamed(p, o).map_err(|e| e.to_string());
            assert_eq!(s, whole, "{} {o:?}", p.display());
        }
        // x = 300 / 154 does not fit the chip: the error names the record and the flags.
        if !p.to_string_lossy().ends_with(".bin") {
            let e = err_text(streamed(p, 1.into()));
            assert!(e.contains("is out of range 0..=127") && e.contains("--downsample N and/or --crop X,Y"), "{e}");
            assert!(streamed(p, SENSOR).unwrap().len() == 3, "{}", p.display());
        }
    }
    // The sensor size a .dat declares bounds the stream too.
    let b = prophesee_dat::encode(&GEN1_HEADER, 12, &[(1, 1, 240, 0)]);
    let e = err_text(streamed(&tmp("out2.dat", &b), SENSOR));
    assert!(e.contains("field y = 240 is out of range 0..=239 (outside the 304×240 sensor the file declares)"), "{e}");
}
