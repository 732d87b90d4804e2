//! N-MNIST / N-Caltech101 binary event files (`.bin`, Orchard et al. 2015),
//! read as tonic's `read_mnist_file` reads them.
//!
//! Layout: no header; 5-byte (40-bit) records, one per event:
//!
//! | byte | bits |
//! |---|---|
//! | 0 | x (8 bits) |
//! | 1 | y (8 bits) |
//! | 2 | bit 7: polarity; bits 6..0: timestamp bits 22..16 |
//! | 3 | timestamp bits 15..8 |
//! | 4 | timestamp bits 7..0 (µs, big-endian 23-bit field) |
//!
//! A record with y = 240 is not an event but a timestamp overflow marker:
//! like tonic, it adds 2^13 µs to the timestamps of every later record and
//! is itself dropped. (tonic applies the increment from the marker's index
//! on; the marker's own event is removed, so "later records" is the same.)
//!
//! Errors name the file and the 1-based record number (counting every
//! 5-byte record, overflow markers included, so that `record n` is at byte
//! offset 5·(n − 1)); a trailing partial record is an error, never dropped.

use crate::events::{HostInput, Timed};
use crate::io::{EventFileError, ReadOptions, TimeOrdered};

/// Bytes per record.
pub const RECORD: usize = 5;
/// The y value that marks a timestamp overflow.
pub const OVERFLOW_Y: u8 = 240;
/// What an overflow marker adds to later timestamps (µs), as tonic does.
pub const OVERFLOW_INCREMENT: u64 = 1 << 13;

/// Parses an N-MNIST `.bin` file's bytes into DVS host items.
pub fn parse(bytes: &[u8], name: &str, opts: impl Into<ReadOptions>) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    let mut out = TimeOrdered::new(opts);
    let mut offset = 0u64;
    let records = bytes.chunks_exact(RECORD);
    let rest = records.remainder().len();
    let n_full = bytes.len() / RECORD;
    for (i, r) in records.enumerate() {
        let err = |message: String| EventFileError::Record { path: name.to_string(), record: i + 1, message };
        if r[1] == OVERFLOW_Y {
            offset += OVERFLOW_INCREMENT;
            continue;
        }
        let p = r[2] >> 7;
        let ts = (u64::from(r[2] & 0x7f) << 16) | (u64::from(r[3]) << 8) | u64::from(r[4]);
        let item = out.dvs(r[0].into(), r[1].into(), p.into()).map_err(&err)?;
        out.push(ts + offset, item).map_err(err)?;
    }
    if rest != 0 {
        return Err(EventFileError::Record {
            path: name.to_string(),
            record: n_full + 1,
            message: format!("truncated: {rest} of {RECORD} bytes (the file is {} bytes, not a multiple of {RECORD})", bytes.len()),
        });
    }
    Ok(out.items)
}

/// Encodes events `(t, x, y, p)` as N-MNIST records, inserting an overflow
/// marker whenever t crosses a multiple of 2^13 µs beyond the 23-bit field
/// would need it. For tests and tools that write their own files: times must
/// be non-decreasing; x, y < 240 (x, y fit 8 bits).
pub fn encode(events: &[(u64, u8, u8, u8)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(events.len() * RECORD);
    let mut offset = 0u64;
    for &(t, x, y, p) in events {
        // Keep the stored timestamp within 23 bits by emitting markers.
        while t - offset >= 1 << 23 {
            b.extend_from_slice(&[0, OVERFLOW_Y, 0, 0, 0]);
            offset += OVERFLOW_INCREMENT;
        }
        let ts = t - offset;
        b.extend_from_slice(&[x, y, ((p & 1) << 7) | ((ts >> 16) as u8 & 0x7f), (ts >> 8) as u8, ts as u8]);
    }
    b
}
