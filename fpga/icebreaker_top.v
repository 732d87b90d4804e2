// iCEBreaker top: the board top `board_icebreaker` on the 12 MHz oscillator.
// Pins: fpga/icebreaker.pcf. Build: spikehdl fpga build --board icebreaker.
//
// No PLL: the fabric clock is the oscillator (pin 35, promoted to a global
// buffer by nextpnr). The one-core board top reaches 18.4-19.4 MHz, and the
// iCE40 PLL makes nothing between 12 and 16 MHz; docs/fpga.md has the
// figures. The fabric clock is ICEBREAKER_FABRIC_HZ in hdl/src/boards.rs:
// change both together (the baud divider is derived from it).
module icebreaker_top(
    input wire CLK,
    input wire RX,
    output wire TX,
    output wire LEDR_N,
    output wire LEDG_N
);
    wire led;
    board_icebreaker board(
        .clock(CLK),
        .uart_rx(RX),
        .uart_tx(TX),
        .led(led)
    );
    // Both LEDs are active low: green = the board top's led (configured and
    // idle), red = the chip is working (led low once out of power-on reset).
    assign LEDG_N = ~led;
    assign LEDR_N = led;
endmodule
