//! DVS events in NumPy `.npy` files, as tonic stores them: a 1-D structured
//! array with fields `x`, `y`, `t` (or `timestamp`/`ts`) and `p` (or
//! `polarity`/`pol`), in any order and of any integer or boolean type
//! (floats are accepted when they hold whole numbers), little- or big-endian;
//! or a plain 2-D integer array of shape (N, 4) with columns t, x, y, p like
//! the CSV format. Format versions 1.0, 2.0 and 3.0 are read.
//!
//! Errors name the record (1-based event index) or the header problem.

use std::io::Write;

use crate::events::{HostInput, Timed};
use crate::io::{EventFileError, ReadOptions, TimeOrdered};

/// One scalar type of the header's `descr` (`'<i8'`, `'|b1'`, `'<f4'`, `'?'` ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scalar {
    kind: u8, // b'i', b'u', b'b', b'f'
    size: usize,
    big: bool,
}

fn parse_scalar(s: &str) -> Result<Scalar, String> {
    if s == "?" {
        return Ok(Scalar { kind: b'b', size: 1, big: false });
    }
    let (big, rest) = match s.as_bytes().first() {
        Some(b'>') => (true, &s[1..]),
        Some(b'<' | b'|' | b'=') => (false, &s[1..]),
        _ => (false, s),
    };
    let kind = *rest.as_bytes().first().ok_or_else(|| format!("empty type {s:?}"))?;
    let size: usize = rest[1..].parse().map_err(|_| format!("type {s:?} is not understood"))?;
    let ok = match kind {
        b'i' | b'u' => matches!(size, 1 | 2 | 4 | 8),
        b'b' => size == 1,
        b'f' => matches!(size, 4 | 8),
        _ => false,
    };
    if !ok {
        return Err(format!("type {s:?} is not an integer, boolean or float type"));
    }
    Ok(Scalar { kind, size, big })
}

impl Scalar {
    /// The value at `b` (exactly `size` bytes) as f64 if whole, else an error.
    fn read(&self, b: &[u8]) -> Result<i128, String> {
        let mut a = [0u8; 8];
        a[..self.size].copy_from_slice(b);
        if self.big {
            a[..self.size].reverse();
        }
        let u = u64::from_le_bytes(a);
        Ok(match (self.kind, self.size) {
            (b'b', _) | (b'u', _) => i128::from(u),
            (b'i', n) => {
                let shift = 64 - 8 * n as u32;
                i128::from(((u << shift) as i64) >> shift)
            }
            (b'f', 4) => whole(f64::from(f32::from_bits(u as u32)))?,
            (b'f', _) => whole(f64::from_bits(u))?,
            _ => unreachable!("checked in parse_scalar"),
        })
    }
}

fn whole(v: f64) -> Result<i128, String> {
    if v.fract() == 0.0 && v.abs() < 1e18 {
        Ok(v as i128)
    } else {
        Err(format!("{v} is not a whole number"))
    }
}

/// A tiny reader of the Python literal in the header: strings, numbers,
/// True/False, tuples, lists and dicts.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Num(i64),
    Bool(bool),
    Seq(Vec<Lit>),
    Dict(Vec<(String, Lit)>),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn lit(&mut self) -> Result<Lit, String> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                let start = self.i + 1;
                let end = self.s[start..].iter().position(|&c| c == q).ok_or("unterminated string")? + start;
                self.i = end + 1;
                Ok(Lit::Str(String::from_utf8_lossy(&self.s[start..end]).into_owned()))
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut v = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        return Ok(Lit::Seq(v));
                    }
                    v.push(self.lit()?);
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(c) if c == close => {}
                        _ => return Err("expected ',' or a closing bracket".into()),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut v = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Lit::Dict(v));
                    }
                    let Lit::Str(k) = self.lit()? else { return Err("dict key is not a string".into()) };
                    if self.peek() != Some(b':') {
                        return Err("expected ':'".into());
                    }
                    self.i += 1;
                    v.push((k, self.lit()?));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err("expected ',' or '}'".into()),
                    }
                }
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'-') {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    t => std::str::from_utf8(t).ok().and_then(|t| t.parse().ok()).map(Lit::Num).ok_or_else(|| format!("unexpected {:?}", String::from_utf8_lossy(t))),
                }
            }
            None => Err("unexpected end of header".into()),
        }
    }
}

/// Where each of t, x, y, p sits in a record.
struct Layout {
    record: usize,
    fields: [(usize, Scalar); 4],
}

fn layout(header: &str) -> Result<(Layout, usize), String> {
    let lit = P { s: header.as_bytes(), i: 0 }.lit()?;
    let Lit::Dict(d) = lit else { return Err("header is not a dict".into()) };
    let get = |k: &str| d.iter().find(|(n, _)| n == k).map(|(_, v)| v).ok_or_else(|| format!("header has no {k:?}"));
    let shape: Vec<i64> = match get("shape")? {
        Lit::Seq(v) => v.iter().map(|x| if let Lit::Num(n) = x { Ok(*n) } else { Err("shape is not numbers".to_string()) }).collect::<Result<_, _>>()?,
        _ => return Err("shape is not a tuple".into()),
    };
    let fortran = matches!(get("fortran_order")?, Lit::Bool(true));
    match get("descr")? {
        Lit::Seq(fields) => {
            if shape.len() != 1 {
                return Err(format!("a structured array must be 1-D; shape is {shape:?}"));
            }
            let mut off = 0;
            let mut named = Vec::new();
            for f in fields {
                let Lit::Seq(parts) = f else { return Err("descr entry is not a tuple".into()) };
                match parts.as_slice() {
                    [Lit::Str(name), Lit::Str(ty)] => {
                        let sc = parse_scalar(ty).map_err(|e| format!("field {name:?}: {e}"))?;
                        named.push((name.clone(), off, sc));
                        off += sc.size;
                    }
                    [Lit::Str(name), ..] => return Err(format!("field {name:?}: sub-arrays are not supported")),
                    _ => return Err("descr entry is not (name, type)".into()),
                }
            }
            let find = |names: &[&str], label: &str| -> Result<(usize, Scalar), String> {
                named
                    .iter()
                    .find(|(n, _, _)| names.iter().any(|m| n.eq_ignore_ascii_case(m)))
                    .map(|(_, o, s)| (*o, *s))
                    .ok_or_else(|| format!("no field {label:?} (fields: {:?})", named.iter().map(|n| n.0.as_str()).collect::<Vec<_>>()))
            };
            let fields = [find(&["t", "timestamp", "ts"], "t")?, find(&["x"], "x")?, find(&["y"], "y")?, find(&["p", "polarity", "pol"], "p")?];
            Ok((Layout { record: off, fields }, shape[0] as usize))
        }
        Lit::Str(ty) => {
            let sc = parse_scalar(ty)?;
            if shape.len() != 2 || shape[1] != 4 {
                return Err(format!("a plain array must have shape (N, 4) with columns t, x, y, p; shape is {shape:?}"));
            }
            if fortran {
                return Err("fortran_order arrays are not supported".into());
            }
            let s = sc.size;
            Ok((Layout { record: 4 * s, fields: [(0, sc), (s, sc), (2 * s, sc), (3 * s, sc)] }, shape[0] as usize))
        }
        _ => Err("descr is neither a type nor a list of fields".into()),
    }
}

/// Reads the magic and header; returns (layout, records, header bytes).
fn read_header(head: &[u8], name: &str) -> Result<(Layout, usize, usize), EventFileError> {
    let bad = |message: String| EventFileError::Invalid { path: name.to_string(), message };
    if head.len() < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (hlen, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        2 | 3 if head.len() >= 12 => (u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize, 12),
        v => return Err(bad(format!("unsupported .npy format version {v}"))),
    };
    let header = head.get(start..start + hlen).ok_or_else(|| bad("header is truncated".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
    let (lay, n) = layout(header).map_err(|e| bad(format!("header: {e}")))?;
    Ok((lay, n, start + hlen))
}

/// One record (0-based `r`) into a DVS item, checked.
fn decode(lay: &Layout, rec: &[u8], r: usize, name: &str, order: &mut TimeOrdered) -> Result<Timed<HostInput>, EventFileError> {
    let err = |message: String| EventFileError::Record { path: name.to_string(), record: r + 1, message };
    let mut v = [0i128; 4];
    for (k, label) in ["t", "x", "y", "p"].iter().enumerate() {
        let (o, sc) = lay.fields[k];
        v[k] = sc.read(&rec[o..o + sc.size]).map_err(|e| err(format!("{label}: {e}")))?;
    }
    let t = u64::try_from(v[0]).map_err(|_| err(format!("timestamp {} is not a whole number of microseconds ≥ 0", v[0])))?;
    // Values beyond i64 saturate; they are out of range either way.
    let wide = |v: i128| v.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
    let item = order.timed_dvs(t, wide(v[1]), wide(v[2]), wide(v[3])).map_err(err)?;
    Ok(Timed { t, item })
}

fn truncated(name: &str, n: usize, record: usize, have: u64) -> EventFileError {
    EventFileError::Invalid { path: name.to_string(), message: format!("{n} records of {record} bytes announced but only {have} data bytes") }
}

/// Parses a `.npy` file's bytes into DVS host items.
pub fn parse(bytes: &[u8], name: &str, opts: impl Into<ReadOptions>) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    let (lay, n, data_start) = read_header(bytes, name)?;
    let data = &bytes[data_start..];
    if data.len() < n * lay.record {
        return Err(truncated(name, n, lay.record, data.len() as u64));
    }
    let mut order = TimeOrdered::new(opts);
    (0..n).map(|r| decode(&lay, &data[r * lay.record..(r + 1) * lay.record], r, name, &mut order)).collect()
}

/// A `.npy` file read record by record (constant memory).
pub struct NpyStream<R> {
    reader: R,
    lay: Layout,
    n: usize,
    r: usize,
    rec: Vec<u8>,
    name: String,
    order: TimeOrdered,
    failed: bool,
}

impl<R: std::io::Read> NpyStream<R> {
    /// `len` is the file's length in bytes (to report a truncated file before reading it).
    pub fn new(mut reader: R, len: u64, name: &str, opts: impl Into<ReadOptions>) -> Result<Self, EventFileError> {
        let io = |error| EventFileError::Io { path: name.to_string(), error };
        // The header: at most 12 + 2^32 bytes by the format, in practice a few hundred.
        let mut head = vec![0u8; 12.min(len as usize)];
        reader.read_exact(&mut head).map_err(io)?;
        let hlen = match head.get(6) {
            Some(1) if head.len() >= 10 => u16::from_le_bytes([head[8], head[9]]) as usize + 10,
            Some(2 | 3) if head.len() >= 12 => u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize + 12,
            _ => head.len(),
        };
        if hlen > head.len() {
            if hlen as u64 > len {
                return Err(EventFileError::Invalid { path: name.to_string(), message: "header is truncated".into() });
            }
            let have = head.len();
            head.resize(hlen, 0);
            reader.read_exact(&mut head[have..]).map_err(io)?;
        }
        let (lay, n, data_start) = read_header(&head, name)?;
        if data_start != head.len() {
            // Only a v1 header shorter than 2 bytes ends inside the 12 bytes read first.
            return Err(EventFileError::Invalid { path: name.to_string(), message: "header is truncated".into() });
        }
        let have = len - data_start as u64;
        if have < (n * lay.record) as u64 {
            return Err(truncated(name, n, lay.record, have));
        }
        let record = lay.record;
        Ok(Self { reader, lay, n, r: 0, rec: vec![0; record], name: name.to_string(), order: TimeOrdered::new(opts), failed: false })
    }
}

impl<R: std::io::Read> Iterator for NpyStream<R> {
    type Item = Result<Timed<HostInput>, EventFileError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r >= self.n {
            return None;
        }
        let r = self.r;
        self.r += 1;
        let out = match self.reader.read_exact(&mut self.rec) {
            Ok(()) => decode(&self.lay, &self.rec, r, &self.name, &mut self.order),
            Err(error) => Err(EventFileError::Io { path: self.name.clone(), error }),
        };
        self.failed = out.is_err();
        Some(out)
    }
}

/// Writes DVS events as tonic does: a structured array with fields
/// `x` (<i8), `y` (<i8), `t` (<i8), `p` (<i8), i.e. `np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])`.
pub fn write_events(w: &mut impl Write, events: &[(u64, u16, u16, u8)]) -> std::io::Result<()> {
    let mut header = format!(
        "{{'descr': [('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')], 'fortran_order': False, 'shape': ({},), }}",
        events.len()
    );
    // Pad so that the data starts at a multiple of 64 bytes, ending in a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    for &(t, x, y, p) in events {
        for v in [i64::from(x), i64::from(y), t as i64, i64::from(p)] {
            w.write_all(&v.to_le_bytes())?;
        }
    }
    Ok(())
}
