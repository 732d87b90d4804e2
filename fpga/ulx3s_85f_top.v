// ULX3S (ECP5-85F) top: the PLL and the board top `board_ulx3s` on its clock.
// Pins: fpga/ulx3s_85f.lpf. Build: spikehdl fpga build --board ulx3s-85f.
//
// EHXPLLL makes the fabric clock from the 25 MHz oscillator; parameters from
// `ecppll -i 25 -o 15` (yowasp-ecppll of .venv-fpga/): CLKI_DIV 5,
// CLKFB_DIV 3, CLKOP_DIV 40, VCO 600 MHz, out 15 MHz. 15 MHz because the
// 9-core board top's router and host input reach about 21 MHz (docs/fpga.md)
// and 1 Mbaud needs a clock that divides to it within 2 %.
// The fabric clock is ULX3S_FABRIC_HZ in hdl/src/boards.rs: change both together.
// LOCK is shown on led[1] only: the board top has its own power-on reset.
module ulx3s_85f_top(
    input wire clk_25mhz,
    input wire ftdi_txd,
    output wire ftdi_rxd,
    output wire [1:0] led
);
    wire clock;
    wire locked;
    (* FREQUENCY_PIN_CLKI="25" *)
    (* FREQUENCY_PIN_CLKOP="15" *)
    (* ICP_CURRENT="12" *) (* LPF_RESISTOR="8" *) (* MFG_ENABLE_FILTEROPAMP="1" *) (* MFG_GMCREF_SEL="2" *)
    EHXPLLL #(
        .PLLRST_ENA("DISABLED"),
        .INTFB_WAKE("DISABLED"),
        .STDBY_ENABLE("DISABLED"),
        .DPHASE_SOURCE("DISABLED"),
        .OUTDIVIDER_MUXA("DIVA"),
        .OUTDIVIDER_MUXB("DIVB"),
        .OUTDIVIDER_MUXC("DIVC"),
        .OUTDIVIDER_MUXD("DIVD"),
        .CLKI_DIV(5),
        .CLKOP_ENABLE("ENABLED"),
        .CLKOP_DIV(40),
        .CLKOP_CPHASE(19),
        .CLKOP_FPHASE(0),
        .FEEDBK_PATH("CLKOP"),
        .CLKFB_DIV(3)
    ) pll (
        .RST(1'b0),
        .STDBY(1'b0),
        .CLKI(clk_25mhz),
        .CLKOP(clock),
        .CLKFB(clock),
        .CLKINTFB(),
        .PHASESEL0(1'b0),
        .PHASESEL1(1'b0),
        .PHASEDIR(1'b1),
        .PHASESTEP(1'b1),
        .PHASELOADREG(1'b1),
        .PLLWAKESYNC(1'b0),
        .ENCLKOP(1'b0),
        .LOCK(locked)
    );
    board_ulx3s board(
        .clock(clock),
        .uart_rx(ftdi_txd),
        .uart_tx(ftdi_rxd),
        .led(led[0])
    );
    assign led[1] = locked;
endmodule
