//! DVS events in AEDAT4 files (iniVation DV software, DV cameras).
//!
//! Layout: the text `#!AER-DAT4.0\r\n`; a u32 (little-endian) length and an
//! `IOHeader` flatbuffer (`compression`: 0 none, 1 LZ4, 2 LZ4_HIGH, 3 ZSTD,
//! 4 ZSTD_HIGH; `dataTablePosition`: file offset of the trailing data table
//! or −1; `infoNode`: XML describing the streams); then packets, each an
//! i32 stream id, an i32 byte size and that many bytes: a size-prefixed
//! flatbuffer, compressed as a whole (LZ4 frame or Zstandard frame) when the
//! header says so. Event packets carry the identifier `EVTS` and a vector
//! of `Event { t: i64, x: i16, y: i16, on: bool }` structs (16 bytes).
//!
//! Supported: all five compression settings (LZ4 via `lz4_flex`, Zstandard
//! via the pure-Rust `ruzstd` decoder). Packets of other streams (frames,
//! IMU, triggers) are skipped by their identifier; every event stream of
//! the file is read (one DVS camera per file, as the chip has one DVS
//! input). Reading stops at the data table. Of the XML stream description
//! only the event stream's `sizeX` / `sizeY` are read ([`sensor_size`]): an
//! event outside 128 × 128 is then reported with the camera's size and the
//! `--downsample` / `--crop` flags that fit it.
//!
//! Errors name the packet (1-based, with its byte offset) or the event
//! (1-based index over the whole file).

use std::io::Read;

use crate::events::{HostInput, Timed};
use crate::io::{EventFileError, ReadOptions, TimeOrdered};

const MAGIC: &[u8] = b"#!AER-DAT4.0\r\n";

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn i64_at(b: &[u8], i: usize) -> Option<i64> {
    Some(i64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

/// Position of field `id` of the flatbuffer table at `table`, if present.
fn field(b: &[u8], table: usize, id: usize) -> Option<usize> {
    let soff = u32_at(b, table)? as i32;
    let vt = (table as i64 - i64::from(soff)) as usize;
    let vt_size = usize::from(u16_at(b, vt)?);
    let slot = 4 + 2 * id;
    if slot + 2 > vt_size {
        return None;
    }
    match u16_at(b, vt + slot)? {
        0 => None,
        off => Some(table + usize::from(off)),
    }
}

/// Follows the uoffset stored at `pos`.
fn deref(b: &[u8], pos: usize) -> Option<usize> {
    Some(pos + u32_at(b, pos)? as usize)
}

/// Compression of the packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Zstd,
}

struct Header {
    compression: Compression,
    data_table: i64,
    body: usize,
    /// (sizeX, sizeY) of the event stream, from the XML stream description.
    sensor: Option<(u32, u32)>,
}

/// The sensor size of the first event stream in the XML stream description
/// (`infoNode`): DV writes, per output stream, a node holding
/// `<attr key="typeIdentifier" type="string">EVTS</attr>` and a child node
/// `info` with `<attr key="sizeX" type="int">320</attr>` and `sizeY`.
/// A plain text search suffices for this fixed layout; None when absent.
pub fn sensor_size(xml: &str) -> Option<(u32, u32)> {
    let attr = |s: &str, key: &str| -> Option<u32> {
        let pat = format!("key=\"{key}\"");
        let at = s.find(&pat)? + pat.len();
        let rest = &s[at..];
        let open = rest.find('>')? + 1;
        let close = rest[open..].find('<')? + open;
        rest[open..close].trim().parse().ok()
    };
    let mut rest = xml;
    while let Some(i) = rest.find(">EVTS<") {
        // The stream's attributes end where the next stream's type starts.
        let stream = &rest[i..];
        let end = stream[1..].find("typeIdentifier").map_or(stream.len(), |j| j + 1);
        let stream = &stream[..end];
        if let (Some(w), Some(h)) = (attr(stream, "sizeX"), attr(stream, "sizeY")) {
            return Some((w, h));
        }
        rest = &rest[i + 1..];
    }
    None
}

fn header(bytes: &[u8]) -> Result<Header, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not an AEDAT4 file (no #!AER-DAT4.0 line)".into());
    }
    let len = u32_at(bytes, MAGIC.len()).ok_or("header length is truncated")? as usize;
    let start = MAGIC.len() + 4;
    let fb = bytes.get(start..start + len).ok_or("IOHeader is truncated")?;
    let table = deref(fb, 0).ok_or("IOHeader: bad root offset")?;
    let compression = match field(fb, table, 0) {
        None => 0,
        Some(p) => u32_at(fb, p).ok_or("IOHeader: compression is truncated")? as i32,
    };
    let compression = match compression {
        0 => Compression::None,
        1 | 2 => Compression::Lz4,
        3 | 4 => Compression::Zstd,
        c => return Err(format!("IOHeader: unknown compression {c}")),
    };
    let data_table = match field(fb, table, 1) {
        None => -1,
        Some(p) => i64_at(fb, p).ok_or("IOHeader: dataTablePosition is truncated")?,
    };
    let sensor = field(fb, table, 2)
        .and_then(|p| deref(fb, p))
        .and_then(|s| {
            let n = u32_at(fb, s)? as usize;
            fb.get(s + 4..s + 4 + n)
        })
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(sensor_size);
    Ok(Header { compression, data_table, body: start + len, sensor })
}

/// Parses an AEDAT4 file's bytes into DVS host items.
pub fn parse(bytes: &[u8], name: &str, opts: impl Into<ReadOptions>) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    let invalid = |message: String| EventFileError::Invalid { path: name.to_string(), message };
    let h = header(bytes).map_err(invalid)?;
    let end = if h.data_table >= 0 { (h.data_table as usize).min(bytes.len()) } else { bytes.len() };
    let mut pos = h.body;
    let mut out = TimeOrdered::new(opts);
    if let Some((w, h)) = h.sensor {
        out.set_sensor(w, h);
    }
    let mut packet_no = 0usize;
    let mut buf = Vec::new();
    while pos < end {
        packet_no += 1;
        let at = pos;
        let perr = |m: String| invalid(format!("packet {packet_no} (byte {at}): {m}"));
        let size = u32_at(bytes, pos + 4).ok_or_else(|| perr("packet header is truncated".into()))? as usize;
        let raw = bytes.get(pos + 8..pos + 8 + size).ok_or_else(|| perr(format!("{size} bytes announced, {} left", end.saturating_sub(pos + 8))))?;
        let data: &[u8] = match h.compression {
            Compression::None => raw,
            Compression::Lz4 => {
                buf.clear();
                lz4_flex::frame::FrameDecoder::new(raw).read_to_end(&mut buf).map_err(|e| perr(format!("LZ4: {e}")))?;
                &buf
            }
            Compression::Zstd => {
                buf.clear();
                let mut d = ruzstd::StreamingDecoder::new(raw).map_err(|e| perr(format!("Zstandard: {e}")))?;
                d.read_to_end(&mut buf).map_err(|e| perr(format!("Zstandard: {e}")))?;
                &buf
            }
        };
        pos += 8 + size;
        // size-prefixed flatbuffer: [size][root uoffset][identifier]...
        let fb = data.get(4..).ok_or_else(|| perr("empty packet".into()))?;
        if fb.get(4..8) != Some(b"EVTS") {
            continue; // frames, IMU, triggers: not DVS events
        }
        let table = deref(fb, 0).ok_or_else(|| perr("bad root offset".into()))?;
        let Some(vf) = field(fb, table, 0) else { continue };
        let vec = deref(fb, vf).ok_or_else(|| perr("bad vector offset".into()))?;
        let n = u32_at(fb, vec).ok_or_else(|| perr("vector length is truncated".into()))? as usize;
        let evs = fb.get(vec + 4..vec + 4 + 16 * n).ok_or_else(|| perr(format!("{n} events announced but the packet is shorter")))?;
        for e in evs.chunks_exact(16) {
            let record = out.items.len() + 1;
            let err = |message: String| EventFileError::Record { path: name.to_string(), record, message: format!("(packet {packet_no}) {message}") };
            let t = i64::from_le_bytes(e[0..8].try_into().expect("16-byte chunk"));
            let x = i16::from_le_bytes([e[8], e[9]]);
            let y = i16::from_le_bytes([e[10], e[11]]);
            let p = e[12];
            let t = u64::try_from(t).map_err(|_| err(format!("timestamp {t} is negative")))?;
            let item = out.dvs(x.into(), y.into(), p.into()).map_err(&err)?;
            out.push(t, item).map_err(err)?;
        }
    }
    Ok(out.items)
}

/// Builds an `EVTS` event packet payload (size-prefixed flatbuffer, uncompressed).
pub fn event_packet(events: &[(i64, i16, i16, bool)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&16u32.to_le_bytes()); // root uoffset -> table at 16
    b.extend_from_slice(b"EVTS");
    b.extend_from_slice(&[6, 0, 8, 0, 4, 0, 0, 0]); // vtable at 8: size 6, table size 8, field 0 at +4
    b.extend_from_slice(&8i32.to_le_bytes()); // table at 16: vtable = 16 - 8
    b.extend_from_slice(&8u32.to_le_bytes()); // field 0 at 20 -> vector at 28
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(events.len() as u32).to_le_bytes()); // at 28; elements from 32
    for &(t, x, y, on) in events {
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
        b.extend_from_slice(&[u8::from(on), 0, 0, 0]);
    }
    let mut out = (b.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&b);
    out
}

/// Builds a whole AEDAT4 file around already-encoded (and, for `compression`
/// 1–4, already-compressed) packet payloads of stream 0. `data_table` is
/// stored as the header's dataTablePosition (−1 = none).
pub fn file(compression: i32, packets: &[Vec<u8>], data_table: i64) -> Vec<u8> {
    let xml = "<dv version=\"2.0\"><node name=\"outInfo\" path=\"/mainloop/Recorder/outInfo/\"><node name=\"0\" path=\"/mainloop/Recorder/outInfo/0/\"><attr key=\"typeIdentifier\" type=\"string\">EVTS</attr></node></node></dv>";
    file_with_info(compression, packets, data_table, xml)
}

/// The XML stream description DV writes for one event stream of a
/// `width` × `height` camera (stream 0), for [`file_with_info`].
pub fn info_xml(width: u32, height: u32) -> String {
    format!(
        "<dv version=\"2.0\"><node name=\"outInfo\" path=\"/mainloop/Recorder/outInfo/\"><node name=\"0\" path=\"/mainloop/Recorder/outInfo/0/\"><attr key=\"compression\" type=\"string\">NONE</attr><attr key=\"typeIdentifier\" type=\"string\">EVTS</attr><node name=\"info\" path=\"/mainloop/Recorder/outInfo/0/info/\"><attr key=\"sizeX\" type=\"int\">{width}</attr><attr key=\"sizeY\" type=\"int\">{height}</attr><attr key=\"source\" type=\"string\">DVXplorer_test</attr></node></node></node></dv>"
    )
}

/// [`file`] with a given XML stream description (`infoNode`).
pub fn file_with_info(compression: i32, packets: &[Vec<u8>], data_table: i64, xml: &str) -> Vec<u8> {
    let mut fb = Vec::new();
    fb.extend_from_slice(&16u32.to_le_bytes()); // root -> table at 16
    fb.extend_from_slice(&[10, 0, 24, 0, 4, 0, 16, 0, 8, 0, 0, 0]); // vtable at 4
    fb.extend_from_slice(&12i32.to_le_bytes()); // table at 16: vtable = 16 - 12
    fb.extend_from_slice(&compression.to_le_bytes()); // 20: compression
    fb.extend_from_slice(&16u32.to_le_bytes()); // 24: infoNode -> string at 40
    fb.extend_from_slice(&[0; 4]); // 28
    fb.extend_from_slice(&data_table.to_le_bytes()); // 32: dataTablePosition
    fb.extend_from_slice(&(xml.len() as u32).to_le_bytes()); // 40
    fb.extend_from_slice(xml.as_bytes());
    fb.push(0);
    while fb.len() % 4 != 0 {
        fb.push(0);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(fb.len() as u32).to_le_bytes());
    out.extend_from_slice(&fb);
    for p in packets {
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}
