//! .npy (tonic) and .aedat4 event files, written by the tests themselves and
//! read through the single entry point `io::read_inputs`.

use std::io::Write;
use std::path::PathBuf;

use spikehdl_model::aedat;
use spikehdl_model::io::{read_inputs, write_outputs, EventFileError};
use spikehdl_model::npy;
use spikehdl_model::{HostInput, Timed};

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikehdl-evfmt-{}", std::process::id()));
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

#[test]
fn npy_tonic_layout_round_trips() {
    let ev = [(0u64, 3u16, 4u16, 1u8), (5, 127, 0, 0), (5, 0, 127, 1), (1_000_000, 64, 65, 0)];
    let mut b = Vec::new();
    npy::write_events(&mut b, &ev).unwrap();
    assert_eq!((b.len() - ev.len() * 32) % 64, 0, "data starts on a 64-byte boundary");
    let got = read_inputs(&tmp("tonic.npy", &b), 1).unwrap();
    let want: Vec<_> = ev.iter().map(|&(t, x, y, p)| dvs(t, x, y, p)).collect();
    assert_eq!(got, want);
}

fn npy_file(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let h = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}\n");
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn npy_mixed_field_types_orders_and_endianness() {
    // fields in another order, big-endian x, unsigned y, bool p, u4 t
    let descr = "[('p', '|b1'), ('x', '>i2'), ('y', '|u1'), ('t', '<u4')]";
    let mut d = Vec::new();
    for (p, x, y, t) in [(1u8, 5i16, 6u8, 10u32), (0, 127, 0, 11)] {
        d.push(p);
        d.extend_from_slice(&x.to_be_bytes());
        d.push(y);
        d.extend_from_slice(&t.to_le_bytes());
    }
    let got = read_inputs(&tmp("mixed.npy", &npy_file(descr, "(2,)", &d)), 1).unwrap();
    assert_eq!(got, vec![dvs(10, 5, 6, 1), dvs(11, 127, 0, 0)]);
    // a plain (N, 4) int32 array t, x, y, p; format version 2
    let mut d = Vec::new();
    for v in [7i32, 1, 2, 0, 9, 3, 4, 1] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = npy_file("'<i4'", "(2, 4)", &d);
    let hl = u16::from_le_bytes([f[8], f[9]]) as u32;
    f.splice(6..10, [2u8, 0].into_iter().chain(hl.to_le_bytes()));
    assert_eq!(read_inputs(&tmp("plain.npy", &f), 1).unwrap(), vec![dvs(7, 1, 2, 0), dvs(9, 3, 4, 1)]);
}

#[test]
fn npy_errors_name_the_record_or_the_header() {
    let descr = "[('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')]";
    let mut d = Vec::new();
    for v in [1i64, 2, 0, 1, 200, 3, 5, 0] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    let p = tmp("bad.npy", &npy_file(descr, "(2,)", &d));
    let e = err_text(read_inputs(&p, 1));
    assert!(e.ends_with("bad.npy: record 2: dvs: field x = 200 is out of range 0..=127; fit a larger sensor to the 128×128 DVS input with --downsample N and/or --crop X,Y"), "{e}");
    let p = tmp("nofield.npy", &npy_file("[('x', '<i8'), ('y', '<i8'), ('t', '<i8')]", "(0,)", &[]));
    let e = err_text(read_inputs(&p, 1));
    assert!(e.contains("header: no field \"p\" (fields: [\"x\", \"y\", \"t\"])"), "{e}");
    let p = tmp("short.npy", &npy_file(descr, "(3,)", &d));
    assert!(err_text(read_inputs(&p, 1)).contains("3 records of 32 bytes announced but only 64 data bytes"));
    let p = tmp("time.npy", &npy_file(descr, "(2,)", &[&d[..32], &[1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0][..]].concat()));
    assert!(err_text(read_inputs(&p, 1)).contains("record 2: timestamp -1 is not a whole number of microseconds"));
    assert!(err_text(read_inputs(&tmp("x.npy", b"PK\x03\x04 zip"), 1)).contains("not a .npy file"));
}

/// A Zstandard frame made of raw (stored) blocks: valid input for any decoder.
fn zstd_stored(data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]; // magic, descriptor, window 128 KiB
    let chunks: Vec<&[u8]> = data.chunks(1000).collect();
    for (i, c) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        let h = last | ((c.len() as u32) << 3); // block type 0 = raw
        f.extend_from_slice(&h.to_le_bytes()[..3]);
        f.extend_from_slice(c);
    }
    f
}

fn lz4(data: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn aedat4_uncompressed_lz4_and_zstd() {
    let a: Vec<(i64, i16, i16, bool)> = (0..100).map(|i| (1_700_000_000_000_000 + i * 7, (i % 128) as i16, (i * 3 % 128) as i16, i % 2 == 0)).collect();
    let b: Vec<(i64, i16, i16, bool)> = vec![(1_700_000_000_001_000, 127, 127, false)];
    let want: Vec<_> = a.iter().chain(&b).map(|&(t, x, y, p)| dvs(t as u64, x as u16, y as u16, u8::from(p))).collect();
    // a non-event packet (a frame stream) in between must be skipped
    let mut frame = aedat::event_packet(&[]);
    frame[8..12].copy_from_slice(b"FRME");
    let packets = [aedat::event_packet(&a), frame, aedat::event_packet(&b)];
    for (compression, enc) in [(0, None), (1, Some(lz4 as fn(&[u8]) -> Vec<u8>)), (2, Some(lz4)), (3, Some(zstd_stored)), (4, Some(zstd_stored))] {
        let ps: Vec<Vec<u8>> = packets.iter().map(|p| enc.map_or_else(|| p.clone(), |f| f(p))).collect();
        let p = tmp(&format!("c{compression}.aedat4"), &aedat::file(compression, &ps, -1));
        assert_eq!(read_inputs(&p, 1).unwrap(), want, "compression {compression}");
    }
}

#[test]
fn aedat4_stops_at_the_data_table_and_names_bad_events() {
    let good = aedat::event_packet(&[(10, 1, 2, true)]);
    let bad = aedat::event_packet(&[(20, 3, 4, false), (30, 5, 300, true)]);
    // the data table position points at the second packet: it is not read
    let head = aedat::file(0, std::slice::from_ref(&good), 0).len() as i64;
    let f = aedat::file(0, &[good.clone(), bad.clone()], head);
    assert_eq!(read_inputs(&tmp("table.aedat4", &f), 1).unwrap(), vec![dvs(10, 1, 2, 1)]);
    let f = aedat::file(0, &[good, bad], -1);
    let e = err_text(read_inputs(&tmp("bad.aedat4", &f), 1));
    assert!(e.ends_with("bad.aedat4: record 3: (packet 2) dvs: field y = 300 is out of range 0..=127; fit a larger sensor to the 128×128 DVS input with --downsample N and/or --crop X,Y"), "{e}");
    let e = err_text(read_inputs(&tmp("lz.aedat4", &aedat::file(1, &[vec![1, 2, 3]], -1)), 1));
    assert!(e.contains("packet 1 (byte") && e.contains("LZ4"), "{e}");
    let e = err_text(read_inputs(&tmp("old.aedat4", b"#!AER-DAT3.1\r\n"), 1));
    assert!(e.contains("not an AEDAT4 file"), "{e}");
    let e = write_outputs(&tmp("o.npy", b""), &[]).unwrap_err().to_string();
    assert!(e.contains(".npy is an input format"), "{e}");
}
