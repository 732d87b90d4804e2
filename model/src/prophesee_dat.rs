//! Prophesee `.dat` event files with CD (change detection) events, as in the
//! N-CARS and Gen1 automotive datasets, read as Prophesee's `psee_loader`
//! (`dat_events_tools.py`) and tonic read them.
//!
//! Layout:
//! - a text header of lines starting with `"% "` (e.g. `% Version 2`,
//!   `% Date ...`, `% Height 240`, `% Width 304`); `Width` and `Height`, when
//!   both are present, give the sensor size;
//! - if there was at least one header line: one byte event type and one byte
//!   event size; without header lines the type is 0 and the size 8;
//! - records of `size` bytes, little-endian: `t: u32` (µs), then a 32-bit word
//!   with x in bits 13..0, y in bits 27..14 and the polarity in bit 28.
//!
//! Supported event types: 0 (2D / TD events, N-CARS) and 12 (CD events,
//! Gen1), both of size 8. Other types (e.g. external triggers, 2D events of
//! other sizes) are an error naming the type, never reinterpreted.
//!
//! Errors name the file and the 1-based record number; a trailing partial
//! record is an error (psee_loader silently ignores it).

use crate::events::{HostInput, Timed};
use crate::io::{EventFileError, ReadOptions, TimeOrdered};

/// Bytes per CD event record.
pub const RECORD: usize = 8;
/// Event types read: 0 (`Event2D`, N-CARS) and 12 (`EventCD`, Gen1).
pub const CD_TYPES: [u8; 2] = [0, 12];

/// Parses a `.dat` file's bytes into DVS host items.
pub fn parse(bytes: &[u8], name: &str, opts: impl Into<ReadOptions>) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    let invalid = |message: String| EventFileError::Invalid { path: name.to_string(), message };
    let mut pos = 0usize;
    let mut header_lines = 0usize;
    let (mut width, mut height) = (None, None);
    while bytes[pos..].starts_with(b"% ") {
        let end = bytes[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .ok_or_else(|| invalid(format!("header line {} has no end of line", header_lines + 1)))?;
        let line = String::from_utf8_lossy(&bytes[pos..pos + end]);
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [_, key, value, ..] = words[..] {
            let num = || value.parse::<u32>().map_err(|_| invalid(format!("header line {}: {key} {value:?} is not a whole number", header_lines + 1)));
            match key {
                "Width" | "width" => width = Some(num()?),
                "Height" | "height" => height = Some(num()?),
                _ => {}
            }
        }
        header_lines += 1;
        pos += end + 1;
    }
    let (ev_type, ev_size) = if header_lines > 0 {
        let b = bytes.get(pos..pos + 2).ok_or_else(|| invalid("the event type and size bytes after the header are missing".into()))?;
        pos += 2;
        (b[0], b[1])
    } else {
        (0, RECORD as u8)
    };
    if !CD_TYPES.contains(&ev_type) {
        return Err(invalid(format!("event type {ev_type} is not a CD event type ({CD_TYPES:?}); only CD event files are read")));
    }
    if usize::from(ev_size) != RECORD {
        return Err(invalid(format!("event size {ev_size} bytes; CD events are {RECORD} bytes")));
    }
    let mut out = TimeOrdered::new(opts);
    if let (Some(w), Some(h)) = (width, height) {
        out.set_sensor(w, h);
    }
    let data = &bytes[pos..];
    let records = data.chunks_exact(RECORD);
    let rest = records.remainder().len();
    for (i, r) in records.enumerate() {
        let err = |message: String| EventFileError::Record { path: name.to_string(), record: i + 1, message };
        let t = u32::from_le_bytes(r[0..4].try_into().expect("8-byte record"));
        let w = u32::from_le_bytes(r[4..8].try_into().expect("8-byte record"));
        let (x, y, p) = (w & 0x3fff, (w & 0x0fff_c000) >> 14, (w & 0x1000_0000) >> 28);
        let item = out.dvs(x.into(), y.into(), p.into()).map_err(&err)?;
        out.push(t.into(), item).map_err(err)?;
    }
    if rest != 0 {
        return Err(EventFileError::Record {
            path: name.to_string(),
            record: data.len() / RECORD + 1,
            message: format!("truncated: {rest} of {RECORD} bytes"),
        });
    }
    Ok(out.items)
}

/// Writes a `.dat` file: header lines (each must start with `"% "`), the
/// type/size bytes when there is a header, and CD records `(t, x, y, p)`.
pub fn encode(header: &[&str], ev_type: u8, events: &[(u32, u16, u16, u8)]) -> Vec<u8> {
    let mut b = Vec::new();
    for h in header {
        b.extend_from_slice(h.as_bytes());
        b.push(b'\n');
    }
    if !header.is_empty() {
        b.extend_from_slice(&[ev_type, RECORD as u8]);
    }
    for &(t, x, y, p) in events {
        b.extend_from_slice(&t.to_le_bytes());
        let w = (u32::from(x) & 0x3fff) | ((u32::from(y) & 0x3fff) << 14) | ((u32::from(p) & 1) << 28);
        b.extend_from_slice(&w.to_le_bytes());
    }
    b
}
