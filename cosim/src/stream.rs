//! The valid/ready stream contract, written once for every harness: a
//! [`StreamDriver`] for an input side and a [`StreamMonitor`] for an output
//! side, generic over the payload.
//!
//! Contract (the blocks' datasheets): a transfer happens on a cycle where
//! valid and ready are both high; the payload holds until its transfer; valid
//! never waits for ready and, once raised, stays high until the transfer.

use std::fmt::Debug;

use crate::Rng;

/// Presents items `0..len` in order on an input stream. Per cycle: ask
/// [`StreamDriver::offer`] whether to put a new item on the port, then, after
/// the inputs settled, [`StreamDriver::fire`] when ready is high while
/// presenting, and [`StreamDriver::edge`] after the clock edge.
#[derive(Debug, Clone)]
pub struct StreamDriver {
    len: usize,
    next: usize,
    presenting: bool,
    fired: bool,
}

impl StreamDriver {
    pub fn new(len: usize) -> Self {
        Self { len, next: 0, presenting: false, fired: false }
    }

    /// The index of an item to put on the port now (and raise valid), or
    /// `None`: while an item is held, when all were sent, when the driver
    /// withholds this cycle (`stall` percent, drawn only when an item is
    /// due), or when `may` refuses the item (e.g. it must wait for idle).
    pub fn offer(&mut self, rng: &mut Rng, stall: u8, may: impl FnOnce(usize) -> bool) -> Option<usize> {
        if self.presenting || self.next >= self.len || rng.chance(stall) || !may(self.next) {
            return None;
        }
        self.presenting = true;
        Some(self.next)
    }

    /// An item is on the port (valid is high).
    pub fn presenting(&self) -> bool {
        self.presenting
    }

    /// The held item transfers this cycle (ready was high): returns its
    /// index. It stays on the port until [`StreamDriver::edge`].
    pub fn fire(&mut self) -> usize {
        debug_assert!(self.presenting && !self.fired);
        self.fired = true;
        self.next += 1;
        self.next - 1
    }

    /// After the clock edge: true when an item transferred on it, so valid
    /// must drop (or the next item be presented).
    pub fn edge(&mut self) -> bool {
        let fired = std::mem::take(&mut self.fired);
        if fired {
            self.presenting = false;
        }
        fired
    }

    /// Items transferred so far.
    pub fn sent(&self) -> usize {
        self.next
    }

    /// Every item transferred and none on the port.
    pub fn done(&self) -> bool {
        self.next == self.len && !self.presenting
    }
}

/// What the output side did in one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample<P> {
    /// The payload that transferred this cycle.
    pub transfer: Option<P>,
    /// A breach of the contract by the block, described.
    pub breach: Option<String>,
}

/// Checks an output stream against the contract and yields its transfers.
#[derive(Debug, Clone)]
pub struct StreamMonitor<P> {
    /// The payload seen on a cycle with valid high and ready low.
    held: Option<P>,
}

impl<P> Default for StreamMonitor<P> {
    fn default() -> Self {
        Self { held: None }
    }
}

impl<P: Copy + PartialEq + Debug> StreamMonitor<P> {
    /// One cycle, sampled after the inputs settled: `valid` from the block,
    /// `ready` as driven; `payload` reads the port (only when it matters).
    pub fn sample(&mut self, valid: bool, ready: bool, payload: impl FnOnce() -> P) -> Sample<P> {
        let cur = (valid || self.held.is_some()).then(payload);
        let mut breach = None;
        if let Some(prev) = self.held.take() {
            match cur {
                _ if !valid => breach = Some(format!("out_valid fell without a transfer (payload {prev:?})")),
                Some(c) if c != prev => breach = Some(format!("output payload changed while stalled: {prev:?} -> {c:?}")),
                _ => {}
            }
        }
        let mut transfer = None;
        if let (true, Some(c)) = (valid, cur) {
            if ready {
                transfer = Some(c);
            } else {
                self.held = Some(c);
            }
        }
        Sample { transfer, breach }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_flags_a_dropped_valid_and_a_changed_payload_and_passes_a_held_one() {
        let mut m = StreamMonitor::default();
        assert_eq!(m.sample(true, false, || 7u8), Sample { transfer: None, breach: None });
        assert_eq!(m.sample(true, true, || 7u8), Sample { transfer: Some(7), breach: None });
        m.sample(true, false, || 1u8);
        assert!(m.sample(false, true, || 1u8).breach.unwrap().contains("fell"));
        m.sample(true, false, || 2u8);
        let s = m.sample(true, true, || 3u8);
        assert!(s.breach.unwrap().contains("changed"));
        assert_eq!(s.transfer, Some(3));
        assert_eq!(m.sample(false, true, || 0u8), Sample { transfer: None, breach: None });
    }

    #[test]
    fn driver_holds_an_item_until_its_edge_and_withholds_only_due_items() {
        let mut rng = Rng::new(1);
        let mut d = StreamDriver::new(2);
        assert_eq!(d.offer(&mut rng, 0, |_| false), None);
        assert_eq!(d.offer(&mut rng, 0, |_| true), Some(0));
        assert_eq!(d.offer(&mut rng, 0, |_| true), None, "item 0 is held");
        assert_eq!(d.fire(), 0);
        assert!(d.presenting() && !d.done());
        assert!(d.edge());
        assert!(!d.edge());
        assert_eq!(d.offer(&mut rng, 100, |_| true), None, "always withheld at 100 %");
        assert_eq!(d.offer(&mut rng, 0, |_| true), Some(1));
        d.fire();
        d.edge();
        assert!(d.done() && d.sent() == 2);
        assert_eq!(d.offer(&mut rng, 0, |_| true), None);
    }
}
