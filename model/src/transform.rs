//! Input transforms that fit a real sensor's events to the chip's 128 × 128
//! DVS input, applied to each host item before the DVS layer.
//!
//! - `downsample` N: x ← ⌊x / N⌋, y ← ⌊y / N⌋, as tonic's spatial
//!   downsampling does (`events["x"] * (1/N)` cast back to integers);
//! - then the 128 × 128 window with its origin at `crop` (X, Y) (default
//!   (0, 0)) is kept: x ← x − X, y ← y − Y; events left outside are dropped
//!   and counted.
//!
//! The crop origin is in downsampled coordinates (the window is a window of
//! the DVS input). Items other than DVS events pass unchanged. The transform
//! is a per-item operation, so it composes with any reader, streaming or not.

use crate::events::{HostInput, Timed};
use crate::validate::limits::DVS_SIZE;

/// Downsampling and cropping of DVS events, with the counts of what passed and what was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputTransform {
    /// Divisor of x and y (≥ 1).
    pub downsample: u16,
    /// Origin (X, Y) of the 128 × 128 window, after downsampling.
    pub crop: Option<(u16, u16)>,
    /// DVS events kept.
    pub kept: u64,
    /// DVS events outside the window, dropped.
    pub dropped: u64,
}

impl Default for InputTransform {
    fn default() -> Self {
        Self::new(1, None)
    }
}

impl InputTransform {
    /// `downsample` 0 is treated as 1 (the CLI rejects it earlier).
    pub fn new(downsample: u16, crop: Option<(u16, u16)>) -> Self {
        Self { downsample: downsample.max(1), crop, kept: 0, dropped: 0 }
    }

    /// No downsampling and no crop: events pass unchanged and the readers
    /// check them against the chip's 128 × 128 input instead.
    pub fn is_identity(&self) -> bool {
        self.downsample == 1 && self.crop.is_none()
    }

    /// The item after the transform, or None when it is dropped.
    pub fn apply(&mut self, item: Timed<HostInput>) -> Option<Timed<HostInput>> {
        let HostInput::Dvs { x, y, p } = item.item else { return Some(item) };
        let (ox, oy) = self.crop.unwrap_or((0, 0));
        let (x, y) = (x / self.downsample, y / self.downsample);
        let inside = |v: u16, o: u16| v >= o && i64::from(v - o) < DVS_SIZE;
        if inside(x, ox) && inside(y, oy) {
            self.kept += 1;
            Some(Timed { t: item.t, item: HostInput::Dvs { x: x - ox, y: y - oy, p } })
        } else {
            self.dropped += 1;
            None
        }
    }

    /// Applies the transform to every item, keeping the order.
    pub fn apply_all(&mut self, items: impl IntoIterator<Item = Timed<HostInput>>) -> Vec<Timed<HostInput>> {
        items.into_iter().filter_map(|it| self.apply(it)).collect()
    }

    /// The transform as an iterator step over a stream of items (errors pass
    /// through): returns the stream and a handle that holds the final counts
    /// once the stream is exhausted or dropped (it may run on another thread).
    pub fn stream<I, E>(self, inner: I) -> (Transformed<I>, std::sync::Arc<std::sync::Mutex<InputTransform>>)
    where
        I: Iterator<Item = Result<Timed<HostInput>, E>>,
    {
        let report = std::sync::Arc::new(std::sync::Mutex::new(self));
        (Transformed { inner, tr: self, report: report.clone() }, report)
    }

    /// A one-line description for command summaries.
    pub fn describe(&self) -> String {
        let (ox, oy) = self.crop.unwrap_or((0, 0));
        format!(
            "downsample {} then 128x128 window at ({ox}, {oy}): {} DVS events kept, {} dropped outside the window",
            self.downsample, self.kept, self.dropped
        )
    }
}

/// [`InputTransform::stream`]: dropped items are skipped; the counts are
/// published to the handle when the stream ends or is dropped.
pub struct Transformed<I> {
    inner: I,
    tr: InputTransform,
    report: std::sync::Arc<std::sync::Mutex<InputTransform>>,
}

impl<I> Transformed<I> {
    fn publish(&self) {
        // A poisoned lock only means another thread panicked; the counts are still ours to write.
        *self.report.lock().unwrap_or_else(|e| e.into_inner()) = self.tr;
    }
}

impl<I, E> Iterator for Transformed<I>
where
    I: Iterator<Item = Result<Timed<HostInput>, E>>,
{
    type Item = Result<Timed<HostInput>, E>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.inner.next() {
                None => {
                    self.publish();
                    return None;
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(it)) => {
                    if let Some(it) = self.tr.apply(it) {
                        return Some(Ok(it));
                    }
                }
            }
        }
    }
}

impl<I> Drop for Transformed<I> {
    fn drop(&mut self) {
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dvs(t: u64, x: u16, y: u16) -> Timed<HostInput> {
        Timed { t, item: HostInput::Dvs { x, y, p: 1 } }
    }

    #[test]
    fn downsample_floors_and_crop_drops_outside_the_window() {
        let mut tr = InputTransform::new(2, Some((10, 0)));
        // 319 / 2 = 159 -> 159 - 10 = 149 >= 128: dropped
        assert_eq!(tr.apply(dvs(0, 319, 5)), None);
        // 21 / 2 = 10 -> 0
        assert_eq!(tr.apply(dvs(1, 21, 5)), Some(Timed { t: 1, item: HostInput::Dvs { x: 0, y: 2, p: 1 } }));
        // 19 / 2 = 9 < 10: dropped
        assert_eq!(tr.apply(dvs(2, 19, 5)), None);
        // 275 / 2 = 137 -> 127: the last column kept
        assert_eq!(tr.apply(dvs(3, 275, 255)), Some(Timed { t: 3, item: HostInput::Dvs { x: 127, y: 127, p: 1 } }));
        // 256 / 2 = 128 in y: dropped
        assert_eq!(tr.apply(dvs(4, 40, 256)), None);
        // non-DVS items pass unchanged and are not counted
        assert_eq!(tr.apply(Timed { t: 5, item: HostInput::LeakTick }), Some(Timed { t: 5, item: HostInput::LeakTick }));
        assert_eq!((tr.kept, tr.dropped), (2, 3));
        assert!(!tr.is_identity() && InputTransform::default().is_identity());
        // identity keeps everything inside 128 x 128
        let mut id = InputTransform::default();
        assert_eq!(id.apply(dvs(0, 127, 127)), Some(dvs(0, 127, 127)));
        assert_eq!(id.apply(dvs(0, 128, 0)), None);
    }

    #[test]
    fn the_stream_step_equals_apply_all_and_reports_its_counts() {
        let items: Vec<_> = (0..50u16).map(|i| dvs(u64::from(i), i * 7, i * 3)).collect();
        let mut whole = InputTransform::new(3, Some((2, 1)));
        let expected = whole.apply_all(items.clone());
        let (stream, report) = InputTransform::new(3, Some((2, 1))).stream(items.into_iter().map(Ok::<_, ()>));
        let got: Vec<_> = stream.map(Result::unwrap).collect();
        assert_eq!(got, expected);
        assert_eq!(*report.lock().unwrap(), whole);
        assert!(whole.dropped > 0 && whole.kept > 0, "{whole:?}");
    }
}
