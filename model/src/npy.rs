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

/// Parses a `.npy` file's bytes into DVS host items.
pub fn parse(bytes: &[u8], name: &str, opts: impl Into<ReadOptions>) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    let bad = |message: String| EventFileError::Invalid { path: name.to_string(), message };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(bad(format!("unsupported .npy format version {v}"))),
    };
    let header = bytes.get(start..start + hlen).ok_or_else(|| bad("header is truncated".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
    let (lay, n) = layout(header).map_err(|e| bad(format!("header: {e}")))?;
    let data = &bytes[start + hlen..];
    if data.len() < n * lay.record {
        return Err(bad(format!("{n} records of {} bytes announced but only {} data bytes", lay.record, data.len())));
    }
    let mut out = TimeOrdered::new(opts);
    for r in 0..n {
        let rec = &data[r * lay.record..(r + 1) * lay.record];
        let err = |message: String| EventFileError::Record { path: name.to_string(), record: r + 1, message };
        let mut v = [0i128; 4];
        for (k, label) in ["t", "x", "y", "p"].iter().enumerate() {
            let (o, sc) = lay.fields[k];
            v[k] = sc.read(&rec[o..o + sc.size]).map_err(|e| err(format!("{label}: {e}")))?;
        }
        let t = u64::try_from(v[0]).map_err(|_| err(format!("timestamp {} is not a whole number of microseconds ≥ 0", v[0])))?;
        // Values beyond i64 saturate; they are out of range either way.
        let wide = |v: i128| v.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        let item = out.dvs(wide(v[1]), wide(v[2]), wide(v[3])).map_err(&err)?;
        out.push(t, item).map_err(err)?;
    }
    Ok(out.items)
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
