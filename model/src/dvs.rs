//! The DVS input layer (spec §7): filter, merge, pool, crop, flip.

use crate::validate::DvsLayer;

/// Spec §7 steps 1–5 for one sensor event; `None` when the event is filtered
/// out (polarity disabled or outside the crop window). The result is the
/// event (c, x, y) on the layer's output map.
pub fn transform(d: &DvsLayer, x: u32, y: u32, p: u8) -> Option<(u16, u16, u16)> {
    // 1. polarity filter
    if (p == 1 && !d.on_channel) || (p == 0 && !d.off_channel) {
        return None;
    }
    // 2. merge
    let c = if d.merge { 0 } else { u16::from(p) };
    // 3. pooling (floor)
    let (x, y) = (x / d.pool_x, y / d.pool_y);
    // 4. crop, inclusive on both ends
    if x < d.origin_x || x > d.cut_x || y < d.origin_y || y > d.cut_y {
        return None;
    }
    let (mut x, mut y) = (x - d.origin_x, y - d.origin_y);
    // 5. flips on the cropped size: mirror.y, then mirror.x, then the diagonal swap
    let (wc, hc) = (d.cut_x - d.origin_x + 1, d.cut_y - d.origin_y + 1);
    if d.mirror_y {
        y = hc - 1 - y;
    }
    if d.mirror_x {
        x = wc - 1 - x;
    }
    if d.mirror_diagonal {
        std::mem::swap(&mut x, &mut y);
    }
    Some((c, x as u16, y as u16))
}
