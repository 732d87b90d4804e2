// Properties of the UART transmitter (hdl/src/uart_tx.rs) on the exported
// `board_icebreaker$utx`, at the divider of the committed board top
// (DIV clocks per bit, from `Board::divider` of the board's default baud).
//
// A reference serializer in this harness follows every byte the
// transmitter accepts: the line must be the start bit, the 8 data bits LSB
// first and the stop bit, DIV clocks each, and idle (high) otherwise;
// `in_ready` is high exactly when idle or in the last clock of the stop bit.
module uart_tx_formal #(parameter DIV = 12) (
    input wire clock,
    input wire reset,
    input wire in_valid,
    input wire [7:0] in_data
);
    wire in_ready, tx;
    // induction helpers: the transmitter's counters (exposed by the flow)
    wire h_busy;
    wire [15:0] h_cnt;
    wire [3:0] h_nleft;
    wire [8:0] h_sh;
    `DUT dut (.clock(clock), .reset(reset), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data), .tx(tx),
              .busy$q(h_busy), .cnt$q(h_cnt), .nleft$q(h_nleft), .sh$q(h_sh));

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;
    always @(*) if (init) assume (reset);

    // reference: bit index 0 start, 1..8 data, 9 stop; phase 0..DIV-1
    reg active;
    reg [3:0] bitn;
    reg [15:0] phase;
    reg [7:0] byte_;
    wire take = !reset && in_valid && in_ready;
    always @(posedge clock) begin
        if (reset) active <= 1'b0;
        else if (take) begin
            active <= 1'b1; bitn <= 0; phase <= 0; byte_ <= in_data;
        end else if (active) begin
            if (phase == DIV - 1) begin
                phase <= 0;
                if (bitn == 9) active <= 1'b0; else bitn <= bitn + 1;
            end else phase <= phase + 1;
        end
    end
    wire expected = !active ? 1'b1 : bitn == 0 ? 1'b0 : bitn == 9 ? 1'b1 : byte_[bitn - 1];
    wire last_clock = active && bitn == 9 && phase == DIV - 1;

    reg p_reset;
    always @(posedge clock) p_reset <= reset;
    always @(*) if (!init && !p_reset) begin
        line_is_the_frame: assert (tx == expected);
        ready_when_idle_or_stop_end: assert (in_ready == (!active || last_clock));
    end
    always @(*) if (!init && p_reset) reset_line_idle: assert (tx == 1'b1);
    always @(*) if (!init && !p_reset) begin
        helper_busy: assert (h_busy == active);
        if (active) begin
            helper_cnt: assert (h_cnt == DIV - 1 - phase);
            helper_nleft: assert (h_nleft == 9 - bitn);
            helper_sh: assert (h_sh == ({1'b1, byte_} >> bitn));
        end
    end
    always @(*) if (!init && !reset) begin
        cover_back_to_back: cover (last_clock && take && in_data != byte_);
        cover_stop_bit: cover (active && bitn == 9 && phase == 1);
    end
endmodule
