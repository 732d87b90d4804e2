//! The host side of the serial link (protocol: [`crate::host_link`]):
//! resets the board, keeps both credit counts, streams configuration writes
//! and input items, and gives every output the timestamp of the input item
//! that caused it.
//!
//! **Timestamps.** The board's outputs carry no time. After the last item of
//! each timestamp the host sends a `BARRIER`; the board acknowledges it once
//! every output of the earlier items has been sent, so the outputs received
//! between two acknowledgements belong to that timestamp's items, exactly
//! as `simulate` labels them. Inside one timestamp the outputs are listed by
//! source ([`source_rank`]: DVS monitor, then core 0, 1, …), each source in
//! the chip's order, which per source layer and kind is the model's. For one
//! input item per timestamp through a feed-forward chain this is exactly
//! `simulate`'s order.
//!
//! The I/O is a [`Transport`]: a serial port, a pseudo-terminal, or a
//! simulated board stepping its clock while the host waits.

use std::collections::VecDeque;

use crate::events::{HostInput, HostOutput, Timed};
use crate::host_link::{encode_host, BadFrame, BoardFrame, Decoder, HostFrame, PROTOCOL_VERSION};

/// Byte I/O with the board.
pub trait Transport {
    /// Sends bytes (may buffer).
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Waits at most one poll interval and appends what arrived; `Ok(0)` when nothing did.
    fn recv(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize>;
}

/// A link failure; the message names what was expected.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("serial I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out waiting for {0}")]
    Timeout(String),
    #[error("bad frame from the board ({0}): line noise or a wrong baud rate")]
    BadFrame(BadFrame),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("{0}")]
    Field(#[from] crate::host_link::FieldError),
}

/// What the board reported after a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub version: u8,
    pub n_cores: u8,
    pub depth: u16,
}

/// Order of sources inside one timestamp in [`LinkHost`]'s output: the DVS
/// layer's monitor first, then the cores by id (a stable sort, so each
/// source keeps the chip's order, which is the model's).
pub fn source_rank(o: &HostOutput) -> i16 {
    if o.layer() == crate::presets::DVS_LAYER {
        -1
    } else {
        i16::from(o.layer())
    }
}

/// Empty polls after the last `STATUS` before [`LinkHost::reset`] trusts it.
pub const SETTLE_POLLS: u32 = 3;

/// Counters of one dump, in the board's order: (id, value).
pub type Counters = Vec<(u8, u32)>;

/// The host end of a link.
pub struct LinkHost<T: Transport> {
    pub transport: T,
    dec: Decoder<BoardFrame>,
    rx: Vec<u8>,
    credits: u32,
    /// Output credits granted and not yet used by the board.
    granted: u32,
    /// Output credits the host keeps granted (its receive buffer, in frames).
    pub window: u32,
    /// Empty polls in a row before a wait times out.
    pub max_idle_polls: u32,
    seq: u8,
    groups: VecDeque<(u8, u64)>,
    group_out: Vec<HostOutput>,
    outputs: Vec<Timed<HostOutput>>,
    counters: Counters,
    counters_done: bool,
    status: Option<Status>,
    /// Input frames sent since the last reset (queued kinds).
    pub frames_sent: u64,
    /// Times a queued frame had to wait for an input credit (the board's queue was full).
    pub credit_waits: u64,
}

impl<T: Transport> LinkHost<T> {
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            dec: Decoder::board(),
            rx: Vec::new(),
            credits: 0,
            granted: 0,
            window: 64,
            max_idle_polls: 200,
            seq: 0,
            groups: VecDeque::new(),
            group_out: Vec::new(),
            outputs: Vec::new(),
            counters: Vec::new(),
            counters_done: false,
            status: None,
            frames_sent: 0,
            credit_waits: 0,
        }
    }

    /// Input credits held now.
    pub fn credits(&self) -> u32 {
        self.credits
    }

    /// Sends `RESET` and waits for `STATUS` (everything before it is discarded).
    pub fn reset(&mut self) -> Result<Status, LinkError> {
        self.transport.send(&encode_host(&HostFrame::Reset)?)?;
        self.credits = 0;
        self.granted = 0;
        self.status = None;
        self.groups.clear();
        self.group_out.clear();
        self.outputs.clear();
        self.counters.clear();
        self.counters_done = false;
        self.frames_sent = 0;
        // Take the last STATUS that arrives before the line has been quiet for
        // `SETTLE_POLLS` polls: a STATUS sent at power-on (or for an earlier
        // session) may still sit in a buffer ahead of the answer to this RESET.
        let mut idle = 0;
        let mut after: Option<Vec<BoardFrame>> = None;
        loop {
            self.rx.clear();
            let n = self.transport.recv(&mut self.rx)?;
            idle = if n == 0 { idle + 1 } else { 0 };
            let bytes = std::mem::take(&mut self.rx);
            for &b in &bytes {
                match self.dec.push(b) {
                    Some(Ok(BoardFrame::Status { version, n_cores, depth })) => {
                        if version != PROTOCOL_VERSION {
                            return Err(LinkError::Protocol(format!("board speaks protocol version {version}, this host {PROTOCOL_VERSION}")));
                        }
                        self.status = Some(Status { version, n_cores, depth });
                        after = Some(Vec::new());
                    }
                    Some(Ok(f)) => {
                        if let Some(a) = after.as_mut() {
                            a.push(f);
                        }
                    }
                    Some(Err(e)) => {
                        if after.is_some() {
                            return Err(LinkError::BadFrame(e));
                        }
                    }
                    None => {}
                }
            }
            if let (Some(s), Some(frames)) = (self.status, after.as_ref()) {
                if idle >= SETTLE_POLLS {
                    self.credits = u32::from(s.depth);
                    self.dec.bad_frames = 0;
                    for f in frames.clone() {
                        self.handle(f)?;
                    }
                    self.top_up()?;
                    return Ok(s);
                }
            } else if idle > self.max_idle_polls {
                return Err(LinkError::Timeout("the board's STATUS frame after RESET (is the board configured, the port and baud rate right?)".into()));
            }
        }
    }

    fn top_up(&mut self) -> Result<(), LinkError> {
        if self.granted * 2 < self.window || (self.granted == 0 && self.window > 0) {
            let mut add = self.window - self.granted;
            while add > 0 {
                let n = add.min(255) as u8;
                self.transport.send(&encode_host(&HostFrame::Grant(n))?)?;
                self.granted += u32::from(n);
                add -= u32::from(n);
            }
        }
        Ok(())
    }

    fn data_frame(&mut self) -> Result<(), LinkError> {
        if self.granted == 0 {
            return Err(LinkError::Protocol("the board sent a data frame without an output credit".into()));
        }
        self.granted -= 1;
        Ok(())
    }

    fn handle_bytes(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        for &b in bytes {
            match self.dec.push(b) {
                None => {}
                Some(Err(e)) => return Err(LinkError::BadFrame(e)),
                Some(Ok(f)) => self.handle(f)?,
            }
        }
        Ok(())
    }

    fn handle(&mut self, f: BoardFrame) -> Result<(), LinkError> {
        match f {
            BoardFrame::Output(o) => {
                self.data_frame()?;
                self.group_out.push(o);
            }
            BoardFrame::Counter { id, value } => {
                self.data_frame()?;
                self.counters.push((id, value));
            }
            BoardFrame::CountersEnd(n) => {
                self.data_frame()?;
                if usize::from(n) != self.counters.len() {
                    return Err(LinkError::Protocol(format!("counter dump announced {n} counters, {} arrived", self.counters.len())));
                }
                self.counters_done = true;
            }
            BoardFrame::BarrierAck(s) => {
                self.data_frame()?;
                let Some((want, t)) = self.groups.pop_front() else {
                    return Err(LinkError::Protocol(format!("BARRIER_ACK {s} without a pending barrier")));
                };
                if want != s {
                    return Err(LinkError::Protocol(format!("BARRIER_ACK {s} while expecting {want}")));
                }
                self.group_out.sort_by_key(source_rank);
                self.outputs.extend(self.group_out.drain(..).map(|item| Timed { t, item }));
            }
            BoardFrame::Credit(n) => self.credits += u32::from(n),
            BoardFrame::Status { .. } => return Err(LinkError::Protocol("the board reset during the run (STATUS frame)".into())),
        }
        Ok(())
    }

    /// One receive poll: handles every complete frame and tops up output
    /// credits; returns the number of bytes received.
    pub fn poll(&mut self) -> Result<usize, LinkError> {
        self.rx.clear();
        let n = self.transport.recv(&mut self.rx)?;
        let bytes = std::mem::take(&mut self.rx);
        self.handle_bytes(&bytes)?;
        self.rx = bytes;
        self.top_up()?;
        Ok(n)
    }

    fn wait(&mut self, what: &dyn Fn(&Self) -> bool, desc: &dyn Fn(&Self) -> String) -> Result<(), LinkError> {
        let mut idle = 0;
        while !what(self) {
            let n = self.poll()?;
            idle = if n == 0 { idle + 1 } else { 0 };
            if idle > self.max_idle_polls {
                return Err(LinkError::Timeout(desc(self)));
            }
        }
        Ok(())
    }

    /// Sends a queued frame, waiting for an input credit first.
    pub fn send_queued(&mut self, f: &HostFrame) -> Result<(), LinkError> {
        let bytes = encode_host(f)?;
        if self.status.is_none() {
            return Err(LinkError::Protocol("send before reset".into()));
        }
        if self.credits == 0 {
            self.credit_waits += 1;
        }
        self.wait(&|s| s.credits > 0, &|s| format!("an input credit (after {} queued frames)", s.frames_sent))?;
        self.credits -= 1;
        self.frames_sent += 1;
        self.transport.send(&bytes)?;
        Ok(())
    }

    /// Sends bytes as they are (tests: noise, malformed frames, credit violations).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        Ok(self.transport.send(bytes)?)
    }

    /// Sends a barrier whose outputs will carry timestamp `t`.
    pub fn barrier(&mut self, t: u64) -> Result<(), LinkError> {
        let s = self.expect_barrier(t);
        self.send_queued(&HostFrame::Barrier(s))
    }

    /// Registers the next barrier (outputs before its acknowledgement get
    /// timestamp `t`) without sending it; returns its sequence number, for a
    /// caller that sends the frame itself (tests: raw byte streams).
    pub fn expect_barrier(&mut self, t: u64) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.groups.push_back((s, t));
        s
    }

    /// Configuration writes, then the items with a barrier after each
    /// timestamp; `progress(items sent)` after each item. Returns when every
    /// barrier has been acknowledged.
    pub fn run(&mut self, writes: &[(u32, u32)], items: &[Timed<HostInput>], progress: &mut dyn FnMut(usize)) -> Result<(), LinkError> {
        for &(addr, data) in writes {
            self.send_queued(&HostFrame::ConfigWrite { addr, data })?;
        }
        for (i, it) in items.iter().enumerate() {
            self.send_queued(&HostFrame::Input(it.item))?;
            if items.get(i + 1).is_none_or(|n| n.t != it.t) {
                self.barrier(it.t)?;
            }
            progress(i + 1);
        }
        self.drain()
    }

    /// Waits until every barrier sent has been acknowledged.
    pub fn drain(&mut self) -> Result<(), LinkError> {
        self.wait(&|s| s.groups.is_empty(), &|s| {
            let (seq, t) = s.groups.front().copied().unwrap_or_default();
            format!("BARRIER_ACK {seq} (the outputs of the items at t = {t}; {} barriers pending)", s.groups.len())
        })
    }

    /// Requests and returns the counters (waits for the whole dump).
    pub fn read_counters(&mut self) -> Result<Counters, LinkError> {
        self.counters.clear();
        self.counters_done = false;
        self.send_queued(&HostFrame::ReadCounters)?;
        self.wait(&|s| s.counters_done, &|s| format!("the counter dump ({} counters received)", s.counters.len()))?;
        Ok(std::mem::take(&mut self.counters))
    }

    /// Outputs received so far with their timestamps (only complete timestamps).
    pub fn take_outputs(&mut self) -> Vec<Timed<HostOutput>> {
        std::mem::take(&mut self.outputs)
    }

    /// Outputs received after the last acknowledged barrier (not yet given a timestamp).
    pub fn take_ungrouped(&mut self) -> Vec<HostOutput> {
        std::mem::take(&mut self.group_out)
    }

    /// Output credits the board holds now (granted, not used).
    pub fn granted(&self) -> u32 {
        self.granted
    }

    /// The STATUS of the last reset.
    pub fn status(&self) -> Option<Status> {
        self.status
    }
}
