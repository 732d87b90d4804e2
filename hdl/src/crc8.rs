//! # Crc8Step — one byte of the host link's CRC-8 (combinational)
//!
//! **Purpose.** `crc_out = CRC-8(crc, data)` for the polynomial x⁸ + x² + x + 1
//! (0x07, MSB first, `spikehdl_model::host_link::crc8`), all eight bit steps
//! in one level of logic: with d = crc ^ data, d·x⁸ mod g = d ⊕ d·x ⊕ d·x²
//! reduced by x⁸ ≡ x² + x + 1 and x⁹ ≡ x³ + x² + x.
//!
//! **Ports.** `crc` (in, 8), `data` (in, 8), `crc_out` (out, 8). No clock, no
//! state, no latency; every input value is defined.

use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct Crc8Step {
    pub crc: Signal<In, Bits<8>>,
    pub data: Signal<In, Bits<8>>,
    pub crc_out: Signal<Out, Bits<8>>,
    d: Signal<Local, Bits<10>>,
    w: Signal<Local, Bits<10>>,
}

impl Logic for Crc8Step {
    #[hdl_gen]
    fn update(&mut self) {
        self.d.next = bit_cast::<10, 8>(self.crc.val() ^ self.data.val());
        self.w.next = self.d.val() ^ (self.d.val() << 1) ^ (self.d.val() << 2);
        self.crc_out.next = self.w.val().get_bits::<8>(0);
        if self.w.val().get_bit(8) {
            self.crc_out.next = self.crc_out.val() ^ 0x07;
        }
        if self.w.val().get_bit(9) {
            self.crc_out.next = self.crc_out.val() ^ 0x0e;
        }
    }
}

/// The same equations in plain Rust (checked against the model's bitwise CRC for every input).
pub fn crc8_step(crc: u8, data: u8) -> u8 {
    let d = u16::from(crc ^ data);
    let w = d ^ (d << 1) ^ (d << 2);
    let mut n = (w & 0xff) as u8;
    if w & 0x100 != 0 {
        n ^= 0x07;
    }
    if w & 0x200 != 0 {
        n ^= 0x0e;
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn parallel_equations_equal_the_bitwise_crc() {
        for c in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(super::crc8_step(c, b), spikehdl_model::host_link::crc8(c, &[b]), "crc {c:#x} data {b:#x}");
            }
        }
    }
}
