//! A board top (`rtl/board_*.v`) under Verilator, driven at its pins: a
//! bit-level UART driver on `uart_rx` and a UART monitor on `uart_tx`, both
//! at the board's real baud divider. [`BoardSim`] is a
//! [`spikehdl_model::link_host::Transport`], so the same host code runs
//! against the simulated board, a pseudo-terminal or a real serial port.

use std::collections::VecDeque;

use spikehdl_hdl::boards::Board;
use spikehdl_sim::{InPort, Model, OutPort, SimError};

/// Drives a serial line: queued level segments (bytes become 10 bit times), idle high.
#[derive(Debug, Clone, Default)]
pub struct LineDriver {
    segs: VecDeque<(bool, u32)>,
    divider: u32,
}

impl LineDriver {
    pub fn new(divider: u32) -> Self {
        Self { segs: VecDeque::new(), divider }
    }
    /// Queues one 8N1 byte.
    pub fn byte(&mut self, b: u8) {
        self.segs.push_back((false, self.divider));
        for i in 0..8 {
            self.segs.push_back((b >> i & 1 == 1, self.divider));
        }
        self.segs.push_back((true, self.divider));
    }
    /// Queues the line at `level` for `cycles` clocks (glitches, breaks, gaps).
    pub fn level(&mut self, level: bool, cycles: u32) {
        if cycles > 0 {
            self.segs.push_back((level, cycles));
        }
    }
    /// The level for the next clock.
    pub fn next_level(&mut self) -> bool {
        match self.segs.front_mut() {
            None => true,
            Some((l, n)) => {
                let l = *l;
                *n -= 1;
                if *n == 0 {
                    self.segs.pop_front();
                }
                l
            }
        }
    }
    /// Clocks still queued.
    pub fn pending_cycles(&self) -> u64 {
        self.segs.iter().map(|s| u64::from(s.1)).sum()
    }
    pub fn idle(&self) -> bool {
        self.segs.is_empty()
    }
}

/// Receives 8N1 bytes from a line sampled once per clock (mid-bit sampling).
#[derive(Debug, Clone, Default)]
pub struct LineMonitor {
    divider: u32,
    state: u8,
    cnt: u32,
    nbit: u32,
    sh: u8,
    /// Bytes whose stop bit was low.
    pub framing_errors: u64,
    /// Clocks the line was not idle.
    pub busy_cycles: u64,
}

impl LineMonitor {
    pub fn new(divider: u32) -> Self {
        Self { divider, ..Default::default() }
    }
    /// One clock of the line; returns a completed byte.
    pub fn sample(&mut self, level: bool) -> Option<u8> {
        if self.state != 0 || !level {
            self.busy_cycles += 1;
        }
        match self.state {
            0 => {
                if !level {
                    self.state = 1;
                    self.cnt = self.divider / 2;
                }
                None
            }
            1 => {
                self.cnt -= 1;
                if self.cnt == 0 {
                    if level {
                        self.state = 0;
                    } else {
                        self.state = 2;
                        self.cnt = self.divider;
                        self.nbit = 0;
                        self.sh = 0;
                    }
                }
                None
            }
            2 => {
                self.cnt -= 1;
                if self.cnt == 0 {
                    self.sh |= u8::from(level) << self.nbit;
                    self.nbit += 1;
                    self.cnt = self.divider;
                    if self.nbit == 8 {
                        self.state = 3;
                    }
                }
                None
            }
            _ => {
                self.cnt -= 1;
                if self.cnt == 0 {
                    self.state = 0;
                    if level {
                        return Some(self.sh);
                    }
                    self.framing_errors += 1;
                }
                None
            }
        }
    }
}

/// Clocks simulated before a host may talk (the power-on reset holds the board for 31).
pub const POWER_ON_CYCLES: u64 = 64;

/// A verilated board top with a UART driver and monitor at its pins.
pub struct BoardSim {
    model: Model,
    p_rx: InPort,
    p_tx: OutPort,
    pub board: &'static Board,
    pub divider: u32,
    pub driver: LineDriver,
    pub monitor: LineMonitor,
    /// Bytes the board sent that the host has not taken yet (its receive buffer).
    pub received: VecDeque<u8>,
    /// Clocks simulated per [`spikehdl_model::link_host::Transport::recv`] call.
    pub poll_cycles: u64,
    /// Clocks each [`spikehdl_model::link_host::Transport::send`] call runs (0: none; the
    /// bytes wait in the driver's queue like in an OS transmit buffer).
    pub send_cycles: u64,
    /// Every byte the board sent, in order (for transcripts).
    pub log: Vec<u8>,
}

impl BoardSim {
    /// The board's exported top at its default baud rate (the divider of `rtl/board_*.v`).
    pub fn new(board: &'static Board, vcd: Option<&std::path::Path>) -> Result<Self, SimError> {
        let model = Model::new(board.module, vcd)?;
        let p_rx = model.input("uart_rx")?;
        let p_tx = model.output("uart_tx")?;
        let divider = board.default_divider();
        let mut s = Self {
            model,
            p_rx,
            p_tx,
            board,
            divider,
            driver: LineDriver::new(divider),
            monitor: LineMonitor::new(divider),
            received: VecDeque::new(),
            poll_cycles: u64::from(divider) * 10 * 16,
            send_cycles: 0,
            log: Vec::new(),
        };
        s.model.set(s.p_rx, 1);
        s.model.eval();
        // past the board's power-on reset, as a host that opens the port later
        s.step(POWER_ON_CYCLES);
        Ok(s)
    }

    /// `n` clocks: the driver's level goes to `uart_rx`, `uart_tx` feeds the monitor.
    pub fn step(&mut self, n: u64) {
        for _ in 0..n {
            let l = self.driver.next_level();
            self.model.set(self.p_rx, u64::from(l));
            self.model.tick(1);
            let tx = self.model.get(self.p_tx) != 0;
            if let Some(b) = self.monitor.sample(tx) {
                self.received.push_back(b);
                self.log.push(b);
            }
        }
    }

    /// Clocks so far.
    pub fn cycles(&self) -> u64 {
        self.model.cycles()
    }

    /// Clocks per byte on the line.
    pub fn byte_cycles(&self) -> u64 {
        u64::from(self.divider) * 10
    }

    pub fn flush_vcd(&mut self) {
        self.model.flush();
    }
}

impl spikehdl_model::link_host::Transport for BoardSim {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        for &b in bytes {
            self.driver.byte(b);
        }
        let n = self.send_cycles;
        self.step(n);
        Ok(())
    }
    fn recv(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize> {
        if self.received.is_empty() {
            let n = self.poll_cycles;
            self.step(n);
        }
        let n = self.received.len();
        out.extend(self.received.drain(..));
        Ok(n)
    }
}
