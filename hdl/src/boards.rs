//! The FPGA boards: one table ([`BOARDS`]) with each board's chip, fabric
//! clock and UART limits, and the list the board tops are generated from
//! ([`crate::for_each_board!`], checked against the table). The baud
//! divider is always derived: [`Board::divider`].

use std::fmt;

/// One board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// CLI name (`--board`).
    pub name: &'static str,
    /// Verilog module / file stem of the board top.
    pub module: &'static str,
    /// Chip top it wraps (`crate::chip_regmap::CHIP_PRESETS` module name).
    pub chip: &'static str,
    /// The FPGA.
    pub fpga: &'static str,
    /// Fabric clock of the board top (the `clock` pin), Hz: what the
    /// board's PLL wrapper makes from the oscillator (`crate::fpga_board`),
    /// and what the baud divider divides.
    pub clock_hz: u32,
    /// Baud rate of the exported top ([`DEFAULT_BAUD`] for every board).
    pub default_baud: u32,
    /// The board's USB-UART bridge.
    pub uart_bridge: &'static str,
    /// Highest baud rate of that bridge.
    pub uart_bridge_max_baud: u32,
}

/// iCEBreaker fabric clock: the 12 MHz oscillator itself, no PLL
/// (`fpga/icebreaker_top.v`). The board top with its one-core chip reaches
/// only 18.4-19.4 MHz (nextpnr seeds 1-3, docs/fpga.md), and the iCE40 PLL
/// cannot make less than 16 MHz, nor any clock between 16 and 18 MHz that
/// divides to 1 Mbaud within 2 %: 12 MHz keeps a margin of more than 50 %.
/// The UART bounds the event rate far below what the core does at 12 MHz.
pub const ICEBREAKER_FABRIC_HZ: u32 = 12_000_000;
/// ULX3S fabric clock: the 25 MHz oscillator × 3/5 by `EHXPLLL`
/// (`fpga/ulx3s_85f_top.v`, parameters from `ecppll -i 25 -o 15`). The
/// 9-core board top reaches about 21 MHz (nextpnr's estimate at a 50 MHz
/// target; the limit is the router's host-input arbitration, not a core,
/// docs/fpga.md): of the clocks the PLL makes from 25 MHz that divide to
/// 1 Mbaud within 2 % (15, 20, 25 MHz), 15 MHz is the one with margin.
pub const ULX3S_FABRIC_HZ: u32 = 15_000_000;

/// Every board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "icebreaker",
        module: "board_icebreaker",
        // One core: chip_fpga (2 cores) needs about 122 % of the UP5K (docs/fpga.md).
        chip: "chip_icebreaker",
        fpga: "Lattice iCE40 UP5K",
        clock_hz: ICEBREAKER_FABRIC_HZ,
        default_baud: 1_000_000,
        uart_bridge: "FTDI FT2232H (channel B)",
        uart_bridge_max_baud: 12_000_000,
    },
    Board {
        name: "ulx3s-85f",
        module: "board_ulx3s",
        chip: "chip_ulx3s",
        fpga: "Lattice ECP5 LFE5U-85F",
        clock_hz: ULX3S_FABRIC_HZ,
        default_baud: 1_000_000,
        uart_bridge: "FTDI FT231X",
        uart_bridge_max_baud: 3_000_000,
    },
];

/// The default baud rate of every board (exact on a 12 MHz and a 15 MHz clock) and of `spikehdl fpga run`.
pub const DEFAULT_BAUD: u32 = 1_000_000;

/// Baud rates a host serial port and the FTDI bridges generate exactly (fastest first).
pub const STANDARD_BAUDS: &[u32] =
    &[12_000_000, 6_000_000, 4_000_000, 3_000_000, 2_000_000, 1_500_000, 1_000_000, 921_600, 500_000, 460_800, 230_400, 115_200];

/// Fewest clocks per bit the receiver samples reliably (`crate::uart_rx`).
pub const MIN_DIVIDER: u32 = 4;
/// Largest accepted difference between the requested baud rate and clock / divider, in per mille
/// (the receiver tolerates about (0.5 − 1/divider) / 9.5 in total, 2.6 % at divider 4).
pub const MAX_BAUD_ERROR_PERMILLE: u64 = 20;

/// Why a baud rate cannot be used on a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaudError {
    pub board: &'static str,
    pub baud: u32,
    pub reason: String,
}

impl fmt::Display for BaudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "baud rate {} on board {}: {}", self.baud, self.board, self.reason)
    }
}

impl std::error::Error for BaudError {}

impl Board {
    /// Clocks per bit for `baud`: the nearest integer to clock / baud, at
    /// least [`MIN_DIVIDER`], within [`MAX_BAUD_ERROR_PERMILLE`] of the
    /// requested rate and not above the bridge's maximum.
    pub fn divider(&self, baud: u32) -> Result<u32, BaudError> {
        let err = |reason: String| BaudError { board: self.name, baud, reason };
        if baud == 0 {
            return Err(err("must be positive".into()));
        }
        if baud > self.uart_bridge_max_baud {
            return Err(err(format!("above the {} maximum of {}", self.uart_bridge, self.uart_bridge_max_baud)));
        }
        let clk = u64::from(self.clock_hz);
        let d = (clk + u64::from(baud) / 2) / u64::from(baud);
        if d < u64::from(MIN_DIVIDER) {
            return Err(err(format!(
                "{} clocks per bit at {} Hz; the receiver needs at least {MIN_DIVIDER} (maximum {} baud)",
                d,
                self.clock_hz,
                self.max_baud()
            )));
        }
        let actual = clk / d;
        let diff = actual.abs_diff(u64::from(baud));
        if diff * 1000 > u64::from(baud) * MAX_BAUD_ERROR_PERMILLE {
            return Err(err(format!(
                "{} Hz / {d} = {actual} baud is {:.1} % off (limit {:.1} %)",
                self.clock_hz,
                diff as f64 * 100.0 / f64::from(baud),
                MAX_BAUD_ERROR_PERMILLE as f64 / 10.0
            )));
        }
        u32::try_from(d).map_err(|_| err("divider does not fit 16 bits".into())).and_then(|d| {
            if d >= 1 << 16 {
                Err(err("divider does not fit 16 bits".into()))
            } else {
                Ok(d)
            }
        })
    }

    /// The fastest standard baud rate [`Board::divider`] accepts.
    pub fn max_baud(&self) -> u32 {
        STANDARD_BAUDS
            .iter()
            .copied()
            .find(|&b| {
                b <= self.uart_bridge_max_baud && {
                    let d = (u64::from(self.clock_hz) + u64::from(b) / 2) / u64::from(b);
                    d >= u64::from(MIN_DIVIDER)
                        && (u64::from(self.clock_hz) / d).abs_diff(u64::from(b)) * 1000 <= u64::from(b) * MAX_BAUD_ERROR_PERMILLE
                }
            })
            .unwrap_or(0)
    }

    /// The divider of the exported top.
    pub fn default_divider(&self) -> u32 {
        self.divider(self.default_baud).expect("the default baud rate of every board is valid (tested)")
    }

    /// The chip preset it wraps.
    pub fn chip_preset(&self) -> &'static crate::chip_regmap::ChipPreset {
        crate::chip_regmap::CHIP_PRESETS.iter().find(|c| c.module == self.chip).expect("board names an exported chip")
    }

    pub fn file_name(&self) -> String {
        format!("{}.v", self.module)
    }
}

/// Looks a board up by name (`ulx3s` = `ulx3s-85f`).
pub fn board(name: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.name == name || b.module.trim_start_matches("board_") == name)
}

/// Invokes `$m!(Type, "module", ChipType, N, N + 1, [(i, err_i, drop_i)...], drop_N)` once per board top.
#[macro_export]
macro_rules! for_each_board {
    ($m:ident) => {
        $m!(BoardIcebreaker, "board_icebreaker", ChipIcebreaker, 1, 2, [(0, err0, drop0)], drop1);
        $m!(BoardUlx3s, "board_ulx3s", ChipUlx3s, 9, 10,
            [(0, err0, drop0), (1, err1, drop1), (2, err2, drop2), (3, err3, drop3), (4, err4, drop4),
             (5, err5, drop5), (6, err6, drop6), (7, err7, drop7), (8, err8, drop8)], drop9);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_tops_agree() {
        let mut n = 0;
        macro_rules! check {
            ($t:ident, $m:literal, $chip:ident, $nc:literal, $n1:literal, [$(($i:literal, $e:ident, $d:ident)),*], $dd:ident) => {
                let b = BOARDS.iter().find(|b| b.module == $m).expect("listed board");
                assert_eq!(b.chip_preset().n_cores(), $nc, "{}", $m);
                assert_eq!($n1, $nc + 1);
                n += 1;
            };
        }
        for_each_board!(check);
        assert_eq!(n, BOARDS.len());
    }

    #[test]
    fn dividers_and_limits() {
        let ice = board("icebreaker").unwrap();
        assert_eq!(ice.default_divider(), 12);
        assert_eq!(ice.divider(3_000_000).unwrap(), 4);
        assert_eq!(ice.max_baud(), 3_000_000);
        assert!(ice.divider(4_000_000).unwrap_err().to_string().contains("at least 4"));
        let e = ice.divider(2_500_000).unwrap_err().to_string();
        assert!(e.contains("% off"), "{e}");
        let ulx = board("ulx3s").unwrap();
        assert_eq!(ulx.default_divider(), 15);
        assert_eq!(ulx.divider(3_000_000).unwrap(), 5);
        assert_eq!(ulx.max_baud(), 3_000_000);
        let e = ulx.divider(2_000_000).unwrap_err().to_string();
        assert!(e.contains("% off"), "{e}");
        assert!(ulx.divider(6_000_000).unwrap_err().to_string().contains("FT231X"));
        for b in BOARDS {
            assert!(b.default_baud <= b.max_baud(), "{}", b.name);
            assert_eq!(b.default_baud, DEFAULT_BAUD, "{}: `fpga run` assumes one default for every board", b.name);
        }
    }
}
