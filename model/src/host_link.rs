//! The serial host link protocol: the one definition of the framed byte
//! protocol between a host and a board (`docs/host_link.md` is its table).
//! The HDL link (`hdl/src/host_link.rs`) takes its constants from here and
//! the host side (`spikehdl fpga run`, the pin-level testbenches) uses the
//! codec below.
//!
//! **Framing (SLIP, RFC 1055).** A frame is `END body END`, the body is
//! `kind, payload…, crc` with every `END` (0xC0) byte of the body sent as
//! `ESC ESC_END` (0xDB 0xDC) and every `ESC` as `ESC ESC_ESC` (0xDB 0xDD).
//! `crc` is CRC-8 (polynomial 0x07, initial value 0, no reflection, no final
//! xor) over `kind, payload…`, so the CRC over the whole body is 0. The
//! payload length is fixed by the kind; multi-byte fields are little-endian.
//!
//! **Resynchronisation.** The receiver splits the byte stream at `END`
//! bytes; empty bodies (`END END`) are ignored; every other body that is not
//! exactly a valid frame (unknown kind, wrong length, CRC, an `ESC` not
//! followed by `ESC_END`/`ESC_ESC`, a field outside its width, a UART
//! framing error inside it) is discarded and counted once as a *bad frame*.
//! Line noise between frames is therefore one bad frame per noise burst
//! (more if the noise contains `END`), and can never swallow the next good
//! frame, whose leading `END` closes the noise. [`Decoder`] is the
//! reference implementation; the RTL counts exactly what it counts.
//!
//! **Flow control.** Input credits: the host may have at most as many
//! *queued* frames (every host kind but [`host_kind::RESET`] and
//! [`host_kind::GRANT`]) in flight as the board granted (the `STATUS` frame
//! after a reset grants the input queue depth; each `CREDIT n` frame grants
//! `n` more as the queue drains). A queued frame that arrives while the
//! queue is full is dropped and counted in [`counter::LINK_OVERFLOW`].
//! Output credits: the board sends a *data* frame (every board kind but
//! `CREDIT` and `STATUS`) only while it holds an output credit from the host
//! (`GRANT n` frames, immediate, never queued). With no output credit the
//! chip's host output is not read, so the chip stalls and stops taking
//! inputs: nothing is lost or duplicated when the host stops reading.

use crate::events::{HostInput, HostOutput};

/// Frame delimiter.
pub const END: u8 = 0xC0;
/// Escape byte.
pub const ESC: u8 = 0xDB;
/// `ESC ESC_END` stands for an `END` byte inside a body.
pub const ESC_END: u8 = 0xDC;
/// `ESC ESC_ESC` stands for an `ESC` byte inside a body.
pub const ESC_ESC: u8 = 0xDD;
/// CRC-8 polynomial (x^8 + x^2 + x + 1).
pub const CRC_POLY: u8 = 0x07;
/// Version reported in the `STATUS` frame.
pub const PROTOCOL_VERSION: u8 = 1;
/// Longest payload of any kind (bytes).
pub const MAX_PAYLOAD: usize = 7;
/// Largest `n` of one `CREDIT` or `GRANT` frame.
pub const MAX_GRANT: u8 = 255;

/// Widths of the payload fields (bits), the chip's host port widths
/// (`hdl/src/chip_regmap.rs` asserts they agree). A wider value is a bad frame.
pub mod field_bits {
    pub const LAYER: u32 = 4;
    pub const A: u32 = 11;
    pub const XY: u32 = 7;
    pub const P: u32 = 1;
    pub const CFG_ADDR: u32 = 24;
}

/// Kinds of host → board frames.
pub mod host_kind {
    /// DVS event: `x, y, p`.
    pub const DVS: u8 = 0x01;
    /// Spike into a core: `layer, c (u16), x, y`.
    pub const SPIKE: u8 = 0x02;
    /// Leak tick: no payload.
    pub const LEAK_TICK: u8 = 0x03;
    /// Neuron write: `layer, f (u16), x, y, value (i16)`.
    pub const WRITE_NEURON: u8 = 0x04;
    /// Neuron read: `layer, f (u16), x, y`.
    pub const READ_NEURON: u8 = 0x05;
    /// Configuration write: `address (u24), data (u32)`; executed when the chip is idle.
    pub const CONFIG_WRITE: u8 = 0x06;
    /// Barrier: `seq`; answered by `BARRIER_ACK seq` once every earlier frame's outputs were sent.
    pub const BARRIER: u8 = 0x07;
    /// Counter request: answered (when the chip is idle) by every `COUNTER` frame and `COUNTERS_END`.
    pub const READ_COUNTERS: u8 = 0x08;
    /// Reset (immediate): empties the queue and the chip, clears every counter, answered by `STATUS`.
    pub const RESET: u8 = 0x09;
    /// Output credits (immediate): `n`; the board may send `n` more data frames.
    pub const GRANT: u8 = 0x0A;
}

/// Kinds of board → host frames.
pub mod board_kind {
    /// Readout spike: `layer, f (u16), x, y`.
    pub const SPIKE: u8 = 0x81;
    /// Monitor spike: `layer, f (u16), x, y`.
    pub const MONITOR: u8 = 0x82;
    /// Neuron value: `layer, f (u16), x, y, value (i16)`.
    pub const NEURON_VALUE: u8 = 0x83;
    /// Counter: `id, value (u32)`; ids in [`super::counter`].
    pub const COUNTER: u8 = 0x84;
    /// End of a counter dump: `n` (counters sent).
    pub const COUNTERS_END: u8 = 0x85;
    /// Barrier acknowledgement: `seq`.
    pub const BARRIER_ACK: u8 = 0x86;
    /// Input credits (control, no output credit needed): `n`.
    pub const CREDIT: u8 = 0x87;
    /// After every reset (control): `version, n_cores, queue depth (u16)`; grants `depth` input credits.
    pub const STATUS: u8 = 0x88;
}

/// Payload length (bytes) of a host frame kind, `None` if unknown.
pub fn host_payload_len(kind: u8) -> Option<usize> {
    use host_kind::*;
    Some(match kind {
        DVS => 3,
        SPIKE | READ_NEURON => 5,
        LEAK_TICK | READ_COUNTERS | RESET => 0,
        WRITE_NEURON | CONFIG_WRITE => 7,
        BARRIER | GRANT => 1,
        _ => return None,
    })
}

/// Payload length (bytes) of a board frame kind, `None` if unknown.
pub fn board_payload_len(kind: u8) -> Option<usize> {
    use board_kind::*;
    Some(match kind {
        SPIKE | MONITOR | COUNTER => 5,
        NEURON_VALUE => 7,
        COUNTERS_END | BARRIER_ACK | CREDIT => 1,
        STATUS => 4,
        _ => return None,
    })
}

/// True for host kinds that go through the board's input queue (need a credit).
pub fn is_queued(kind: u8) -> bool {
    host_payload_len(kind).is_some() && kind != host_kind::RESET && kind != host_kind::GRANT
}

/// Counter ids of `COUNTER` frames, in the order a dump sends them:
/// every core's error counter, every router source's drop counter (the DVS
/// layer last), then the link's counters.
pub mod counter {
    /// Core i's error counter (items outside its input shape): id `CORE_ERRORS + i`.
    pub const CORE_ERRORS: u8 = 0x00;
    /// Router drops of source i (the DVS layer is source `n_cores`): id `ROUTER_DROPS + i`.
    pub const ROUTER_DROPS: u8 = 0x20;
    /// Bad frames discarded by the link (see the module docs).
    pub const LINK_BAD_FRAMES: u8 = 0x40;
    /// Queued frames dropped because the input queue was full (host exceeded its credits).
    pub const LINK_OVERFLOW: u8 = 0x41;
    /// UART bytes with a framing error (stop bit low).
    pub const LINK_FRAMING: u8 = 0x42;
    /// Number of link counters (ids `LINK_BAD_FRAMES..`).
    pub const N_LINK: u8 = 3;
}

/// The counter ids a board with `n_cores` cores dumps, in order.
pub fn counter_ids(n_cores: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..n_cores as u8).map(|i| counter::CORE_ERRORS + i).collect();
    v.extend((0..=n_cores as u8).map(|i| counter::ROUTER_DROPS + i));
    v.extend((0..counter::N_LINK).map(|i| counter::LINK_BAD_FRAMES + i));
    v
}

/// A readable name of a counter id.
pub fn counter_name(id: u8, n_cores: usize) -> String {
    match id {
        i if (i as usize) < n_cores => format!("core {i} errors"),
        i if i >= counter::ROUTER_DROPS && ((i - counter::ROUTER_DROPS) as usize) < n_cores => {
            format!("router drops of core {}", i - counter::ROUTER_DROPS)
        }
        i if i >= counter::ROUTER_DROPS && ((i - counter::ROUTER_DROPS) as usize) == n_cores => "router drops of the DVS layer".into(),
        counter::LINK_BAD_FRAMES => "link bad frames".into(),
        counter::LINK_OVERFLOW => "link queue overflows".into(),
        counter::LINK_FRAMING => "link UART framing errors".into(),
        i => format!("counter 0x{i:02x}"),
    }
}

/// CRC-8 (poly 0x07, init 0) of `bytes` continued from `crc`.
pub fn crc8(mut crc: u8, bytes: &[u8]) -> u8 {
    for &b in bytes {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 { (crc << 1) ^ CRC_POLY } else { crc << 1 };
        }
    }
    crc
}

/// A host → board frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostFrame {
    /// A chip host input item (DVS, spike, leak tick, neuron write or read).
    Input(HostInput),
    ConfigWrite { addr: u32, data: u32 },
    Barrier(u8),
    ReadCounters,
    Reset,
    Grant(u8),
}

/// A board → host frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoardFrame {
    /// A chip host output item (readout spike, monitor spike, neuron value).
    Output(HostOutput),
    Counter { id: u8, value: u32 },
    CountersEnd(u8),
    BarrierAck(u8),
    Credit(u8),
    Status { version: u8, n_cores: u8, depth: u16 },
}

/// A field that does not fit its width in the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value} does not fit the link's {bits}-bit field (max {max})")]
pub struct FieldError {
    pub field: &'static str,
    pub value: u64,
    pub bits: u32,
    pub max: u64,
}

fn fit(field: &'static str, value: u64, bits: u32) -> Result<(), FieldError> {
    let max = (1u64 << bits) - 1;
    if value > max {
        Err(FieldError { field, value, bits, max })
    } else {
        Ok(())
    }
}

/// Kind and payload of a host frame (fields checked against their widths).
pub fn host_body(f: &HostFrame) -> Result<(u8, Vec<u8>), FieldError> {
    use field_bits as b;
    let lfxy = |layer: u8, a: u16, x: u16, y: u16, a_name: &'static str| -> Result<Vec<u8>, FieldError> {
        fit("layer", layer.into(), b::LAYER)?;
        fit(a_name, a.into(), b::A)?;
        fit("x", x.into(), b::XY)?;
        fit("y", y.into(), b::XY)?;
        let a = a.to_le_bytes();
        Ok(vec![layer, a[0], a[1], x as u8, y as u8])
    };
    Ok(match *f {
        HostFrame::Input(HostInput::Dvs { x, y, p }) => {
            fit("x", x.into(), b::XY)?;
            fit("y", y.into(), b::XY)?;
            fit("p", p.into(), b::P)?;
            (host_kind::DVS, vec![x as u8, y as u8, p])
        }
        HostFrame::Input(HostInput::Spike { layer, c, x, y }) => (host_kind::SPIKE, lfxy(layer, c, x, y, "c")?),
        HostFrame::Input(HostInput::LeakTick) => (host_kind::LEAK_TICK, vec![]),
        HostFrame::Input(HostInput::WriteNeuron { layer, f, x, y, value }) => {
            let mut p = lfxy(layer, f, x, y, "f")?;
            p.extend_from_slice(&value.to_le_bytes());
            (host_kind::WRITE_NEURON, p)
        }
        HostFrame::Input(HostInput::ReadNeuron { layer, f, x, y }) => (host_kind::READ_NEURON, lfxy(layer, f, x, y, "f")?),
        HostFrame::ConfigWrite { addr, data } => {
            fit("config address", addr.into(), b::CFG_ADDR)?;
            let mut p = addr.to_le_bytes()[..3].to_vec();
            p.extend_from_slice(&data.to_le_bytes());
            (host_kind::CONFIG_WRITE, p)
        }
        HostFrame::Barrier(s) => (host_kind::BARRIER, vec![s]),
        HostFrame::ReadCounters => (host_kind::READ_COUNTERS, vec![]),
        HostFrame::Reset => (host_kind::RESET, vec![]),
        HostFrame::Grant(n) => (host_kind::GRANT, vec![n]),
    })
}

/// Kind and payload of a board frame.
pub fn board_body(f: &BoardFrame) -> (u8, Vec<u8>) {
    let lfxy = |layer: u8, a: u16, x: u16, y: u16| {
        let a = a.to_le_bytes();
        vec![layer, a[0], a[1], x as u8, y as u8]
    };
    match *f {
        BoardFrame::Output(HostOutput::Spike { layer, f, x, y }) => (board_kind::SPIKE, lfxy(layer, f, x, y)),
        BoardFrame::Output(HostOutput::Monitor { layer, f, x, y }) => (board_kind::MONITOR, lfxy(layer, f, x, y)),
        BoardFrame::Output(HostOutput::NeuronValue { layer, f, x, y, value }) => {
            let mut p = lfxy(layer, f, x, y);
            p.extend_from_slice(&value.to_le_bytes());
            (board_kind::NEURON_VALUE, p)
        }
        BoardFrame::Counter { id, value } => {
            let mut p = vec![id];
            p.extend_from_slice(&value.to_le_bytes());
            (board_kind::COUNTER, p)
        }
        BoardFrame::CountersEnd(n) => (board_kind::COUNTERS_END, vec![n]),
        BoardFrame::BarrierAck(s) => (board_kind::BARRIER_ACK, vec![s]),
        BoardFrame::Credit(n) => (board_kind::CREDIT, vec![n]),
        BoardFrame::Status { version, n_cores, depth } => {
            let d = depth.to_le_bytes();
            (board_kind::STATUS, vec![version, n_cores, d[0], d[1]])
        }
    }
}

/// `END, escaped(kind, payload, crc), END`.
pub fn frame_bytes(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(payload.len() + 2);
    body.push(kind);
    body.extend_from_slice(payload);
    body.push(crc8(0, &body));
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(END);
    for b in body {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            b => out.push(b),
        }
    }
    out.push(END);
    out
}

/// The bytes of a host frame.
pub fn encode_host(f: &HostFrame) -> Result<Vec<u8>, FieldError> {
    let (k, p) = host_body(f)?;
    Ok(frame_bytes(k, &p))
}

/// The bytes of a board frame.
pub fn encode_board(f: &BoardFrame) -> Vec<u8> {
    let (k, p) = board_body(f);
    frame_bytes(k, &p)
}

fn le16(p: &[u8]) -> u16 {
    u16::from_le_bytes([p[0], p[1]])
}

/// Parses a host frame body (kind, payload; CRC already checked); `None` = bad frame.
pub fn parse_host(kind: u8, p: &[u8]) -> Option<HostFrame> {
    use field_bits as b;
    if host_payload_len(kind)? != p.len() {
        return None;
    }
    let ok = |v: u64, bits: u32| v >> bits == 0;
    let lfxy_ok = |p: &[u8]| ok(p[0].into(), b::LAYER) && ok(le16(&p[1..]).into(), b::A) && ok(p[3].into(), b::XY) && ok(p[4].into(), b::XY);
    let (layer, a, x, y) = if p.len() >= 5 { (p[0], le16(&p[1..]), u16::from(p[3]), u16::from(p[4])) } else { (0, 0, 0, 0) };
    Some(match kind {
        host_kind::DVS => {
            if !(ok(p[0].into(), b::XY) && ok(p[1].into(), b::XY) && ok(p[2].into(), b::P)) {
                return None;
            }
            HostFrame::Input(HostInput::Dvs { x: p[0].into(), y: p[1].into(), p: p[2] })
        }
        host_kind::SPIKE if lfxy_ok(p) => HostFrame::Input(HostInput::Spike { layer, c: a, x, y }),
        host_kind::WRITE_NEURON if lfxy_ok(p) => {
            HostFrame::Input(HostInput::WriteNeuron { layer, f: a, x, y, value: le16(&p[5..]) as i16 })
        }
        host_kind::READ_NEURON if lfxy_ok(p) => HostFrame::Input(HostInput::ReadNeuron { layer, f: a, x, y }),
        host_kind::LEAK_TICK => HostFrame::Input(HostInput::LeakTick),
        host_kind::CONFIG_WRITE => HostFrame::ConfigWrite {
            addr: u32::from_le_bytes([p[0], p[1], p[2], 0]),
            data: u32::from_le_bytes([p[3], p[4], p[5], p[6]]),
        },
        host_kind::BARRIER => HostFrame::Barrier(p[0]),
        host_kind::READ_COUNTERS => HostFrame::ReadCounters,
        host_kind::RESET => HostFrame::Reset,
        host_kind::GRANT => HostFrame::Grant(p[0]),
        _ => return None,
    })
}

/// Parses a board frame body (kind, payload; CRC already checked); `None` = bad frame.
pub fn parse_board(kind: u8, p: &[u8]) -> Option<BoardFrame> {
    if board_payload_len(kind)? != p.len() {
        return None;
    }
    let (layer, f, x, y) = if p.len() >= 5 { (p[0], le16(&p[1..]), u16::from(p[3]), u16::from(p[4])) } else { (0, 0, 0, 0) };
    Some(match kind {
        board_kind::SPIKE => BoardFrame::Output(HostOutput::Spike { layer, f, x, y }),
        board_kind::MONITOR => BoardFrame::Output(HostOutput::Monitor { layer, f, x, y }),
        board_kind::NEURON_VALUE => BoardFrame::Output(HostOutput::NeuronValue { layer, f, x, y, value: le16(&p[5..]) as i16 }),
        board_kind::COUNTER => BoardFrame::Counter { id: p[0], value: u32::from_le_bytes([p[1], p[2], p[3], p[4]]) },
        board_kind::COUNTERS_END => BoardFrame::CountersEnd(p[0]),
        board_kind::BARRIER_ACK => BoardFrame::BarrierAck(p[0]),
        board_kind::CREDIT => BoardFrame::Credit(p[0]),
        board_kind::STATUS => BoardFrame::Status { version: p[0], n_cores: p[1], depth: le16(&p[2..]) },
        _ => return None,
    })
}

/// Why a body was discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFrame {
    /// `ESC` followed by something other than `ESC_END` / `ESC_ESC`, or at the end of the body.
    Escape,
    /// CRC over the body is not 0.
    Crc,
    /// Unknown kind, wrong length for the kind or a field outside its width.
    Content { kind: u8, len: usize },
    /// Longer than any frame.
    TooLong,
    /// A UART framing error inside the body.
    Framing,
}

impl std::fmt::Display for BadFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadFrame::Escape => write!(f, "bad escape sequence"),
            BadFrame::Crc => write!(f, "CRC mismatch"),
            BadFrame::Content { kind, len } => write!(f, "kind 0x{kind:02x} with {len} payload bytes is not a valid frame"),
            BadFrame::TooLong => write!(f, "body longer than {} bytes", MAX_PAYLOAD + 2),
            BadFrame::Framing => write!(f, "UART framing error"),
        }
    }
}

/// Incremental SLIP + CRC decoder, generic over the frame direction.
/// Feed it bytes as they arrive; it returns each completed body as a frame
/// or as the reason it was discarded.
#[derive(Debug, Clone)]
pub struct Decoder<F> {
    body: Vec<u8>,
    esc: bool,
    bad_escape: bool,
    framing: bool,
    parse: fn(u8, &[u8]) -> Option<F>,
    /// Bodies discarded so far.
    pub bad_frames: u64,
}

/// Bodies longer than this are discarded without storing more bytes (the RTL's counter saturates the same way).
const BODY_LIMIT: usize = MAX_PAYLOAD + 2;

impl<F> Decoder<F> {
    fn with(parse: fn(u8, &[u8]) -> Option<F>) -> Self {
        Self { body: Vec::new(), esc: false, bad_escape: false, framing: false, parse, bad_frames: 0 }
    }

    /// One received byte; `Some` when it closed a non-empty body.
    pub fn push(&mut self, b: u8) -> Option<Result<F, BadFrame>> {
        if b == END {
            let r = self.finish();
            self.body.clear();
            self.esc = false;
            self.bad_escape = false;
            self.framing = false;
            if let Some(Err(_)) = r {
                self.bad_frames += 1;
            }
            return r;
        }
        let d = if self.esc {
            self.esc = false;
            match b {
                ESC_END => END,
                ESC_ESC => ESC,
                other => {
                    self.bad_escape = true;
                    other
                }
            }
        } else if b == ESC {
            self.esc = true;
            return None;
        } else {
            b
        };
        if self.body.len() <= BODY_LIMIT {
            self.body.push(d);
        }
        None
    }

    /// A byte the UART received with a framing error: the byte is dropped and its body counts as bad.
    pub fn push_framing_error(&mut self) {
        self.framing = true;
    }

    fn finish(&self) -> Option<Result<F, BadFrame>> {
        if self.body.is_empty() && !self.esc && !self.bad_escape && !self.framing {
            return None;
        }
        if self.framing {
            return Some(Err(BadFrame::Framing));
        }
        if self.esc || self.bad_escape {
            return Some(Err(BadFrame::Escape));
        }
        if self.body.len() > BODY_LIMIT {
            return Some(Err(BadFrame::TooLong));
        }
        if crc8(0, &self.body) != 0 {
            return Some(Err(BadFrame::Crc));
        }
        let (kind, rest) = (self.body[0], &self.body[1..]);
        let payload = &rest[..rest.len().saturating_sub(1)];
        match (self.parse)(kind, payload) {
            Some(f) => Some(Ok(f)),
            None => Some(Err(BadFrame::Content { kind, len: payload.len() })),
        }
    }
}

impl Decoder<HostFrame> {
    /// The board side: decodes host frames.
    pub fn host() -> Self {
        Self::with(parse_host)
    }
}

impl Decoder<BoardFrame> {
    /// The host side: decodes board frames.
    pub fn board() -> Self {
        Self::with(parse_board)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_body_with_crc_is_zero() {
        let b = [0x01u8, 3, 4, 1];
        let c = crc8(0, &b);
        let mut all = b.to_vec();
        all.push(c);
        assert_eq!(crc8(0, &all), 0);
        // CRC-8/SMBUS check value
        assert_eq!(crc8(0, b"123456789"), 0xF4);
    }

    #[test]
    fn escapes_and_roundtrip() {
        let f = HostFrame::ConfigWrite { addr: 0xC0_DB_C0, data: 0xDBC0_DBC0 };
        let bytes = encode_host(&f).unwrap();
        assert_eq!(bytes.iter().filter(|&&b| b == END).count(), 2, "only the delimiters are END");
        let mut d = Decoder::host();
        let got: Vec<_> = bytes.iter().filter_map(|&b| d.push(b)).collect();
        assert_eq!(got, vec![Ok(f)]);
    }

    #[test]
    fn field_errors_name_the_field() {
        let e = encode_host(&HostFrame::Input(HostInput::Dvs { x: 128, y: 0, p: 0 })).unwrap_err();
        assert_eq!(e.to_string(), "x = 128 does not fit the link's 7-bit field (max 127)");
        assert!(encode_host(&HostFrame::Input(HostInput::Spike { layer: 16, c: 0, x: 0, y: 0 })).is_err());
        assert!(encode_host(&HostFrame::ConfigWrite { addr: 1 << 24, data: 0 }).is_err());
    }

    #[test]
    fn noise_is_one_bad_frame_and_the_next_frame_survives() {
        let good = encode_host(&HostFrame::Input(HostInput::LeakTick)).unwrap();
        let mut d = Decoder::host();
        let mut stream = vec![0x12, 0x01, 0xDB, 0x55];
        stream.extend(&good);
        let got: Vec<_> = stream.iter().filter_map(|&b| d.push(b)).collect();
        assert_eq!(got, vec![Err(BadFrame::Escape), Ok(HostFrame::Input(HostInput::LeakTick))]);
        assert_eq!(d.bad_frames, 1);
    }

    #[test]
    fn wrong_length_and_ranges_are_bad() {
        let mut d = Decoder::host();
        let bad_len = frame_bytes(host_kind::DVS, &[1, 2]);
        let bad_range = frame_bytes(host_kind::DVS, &[1, 2, 2]);
        let bad_kind = frame_bytes(0x7f, &[]);
        let got: Vec<_> = [bad_len, bad_range, bad_kind].concat().iter().filter_map(|&b| d.push(b)).collect();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|r| matches!(r, Err(BadFrame::Content { .. }))));
    }

    #[test]
    fn counter_ids_are_distinct() {
        for n in [1usize, 2, 9, 12] {
            let ids = counter_ids(n);
            let set: std::collections::HashSet<_> = ids.iter().collect();
            assert_eq!(set.len(), ids.len());
            assert_eq!(ids.len(), 2 * n + 1 + counter::N_LINK as usize);
        }
    }
}
