//! Synthesizable blocks of the spiking CNN chip in Rust-HDL, exported to
//! Verilog under `rtl/`.
//!
//! - [`regmap`]: the configuration map of a core (single source of truth).
//! - [`presets`]: the exported core types (from the model's presets) and their Verilog names.
//! - [`layer_core`]: one convolution core; [`neuron_ram`]: its neuron memory (dual or single port).
//! - [`export`]: Verilog generation for every preset.
//! - [`chip_regmap`], [`chip`]: the multi-core chip top (router, DVS layer, host port).
//! - [`fpga`]: the FPGA synthesis flow (Yosys, nextpnr-ice40, icestorm) and its report.
//! - [`fpga_board`]: board builds (PLL wrapper + board top, pins, bitstream) for the iCEBreaker and the ULX3S.
//! - [`host_link`], [`uart_rx`], [`uart_tx`], [`crc8`]: the serial host link; [`board`]: the board tops
//!   (power-on reset + UART + link + chip), listed in [`boards`].
//! - [`rhdl_sim`]: the tiny core in rust-hdl's own simulator (benchmark reference).

pub mod board;
pub mod boards;
pub mod chip;
pub mod chip_regmap;
pub mod crc8;
pub mod export;
pub mod fpga;
pub mod fpga_board;
pub mod host_link;
pub mod layer_core;
pub mod neuron_ram;
pub mod ports;
pub mod presets;
pub mod regmap;
pub mod rhdl_sim;
pub mod uart_rx;
pub mod uart_tx;
