// iCEBreaker top: the PLL and the board top `board_icebreaker` on its clock.
// Pins: fpga/icebreaker.pcf. Build: spikehdl fpga build --board icebreaker.
//
// SB_PLL40_PAD takes the 12 MHz oscillator on its dedicated pad (pin 35)
// and makes the fabric clock; parameters from `icepll -i 12 -o 18`
// (simple feedback, F_PFD 12 MHz, F_VCO 576 MHz = 12 * (DIVF+1), out = VCO / 2^DIVQ = 18 MHz).
// The fabric clock is ICEBREAKER_FABRIC_HZ in hdl/src/fpga_board.rs: change both together.
// LOCK is shown on the red LED only: the board top has its own power-on
// reset, which lasts longer than the PLL's lock time.
module icebreaker_top(
    input wire CLK,
    input wire RX,
    output wire TX,
    output wire LEDR_N,
    output wire LEDG_N
);
    wire clock;
    wire locked;
    SB_PLL40_PAD #(
        .FEEDBACK_PATH("SIMPLE"),
        .DIVR(4'b0000),
        .DIVF(7'b0101111),
        .DIVQ(3'b101),
        .FILTER_RANGE(3'b001)
    ) pll (
        .PACKAGEPIN(CLK),
        .PLLOUTGLOBAL(clock),
        .LOCK(locked),
        .RESETB(1'b1),
        .BYPASS(1'b0)
    );
    wire led;
    board_icebreaker board(
        .clock(clock),
        .uart_rx(RX),
        .uart_tx(TX),
        .led(led)
    );
    // Both LEDs are active low: green = the board top's led, red = PLL not locked.
    assign LEDG_N = ~led;
    assign LEDR_N = locked;
endmodule
