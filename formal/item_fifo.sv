// Properties of the router's item FIFO (hdl/src/chip.rs, `ItemFifo`), stated
// on its ports only, so they hold for every exported copy (`<chip>$fabric$fifo$<i>`,
// `<chip>$fabric$hfifo`) whatever rust-hdl names its internals.
//
// Environment: the documented use (push only while `full` is low, pop only
// while `empty` is low); power-up values are arbitrary and the first cycle
// is a reset.
//
// No loss, no duplication, order kept: the harness picks two arbitrary
// pushes, the second after the first, remembers their words and how many
// entries were ahead of each; each must reach the head after exactly that
// many pops, with its word, and leave on the following pop (the argument of
// ZipCPU's wb2axip sfifo, stated without the FIFO's internal addresses).
module item_fifo_formal #(parameter WIDTH = 47, parameter DEPTH = 4) (
    input wire clock,
    input wire reset,
    input wire push,
    input wire [WIDTH-1:0] din,
    input wire pop,
    input wire pick
);
    wire [WIDTH-1:0] dout;
    wire full, empty;
    // Induction needs the storage: `count$q` and `q0$q`..`q3$q` are exposed
    // as extra outputs by the flow (yosys `expose`), never edited into the RTL.
    wire [2:0] h_count;
    wire [WIDTH-1:0] h_q [0:3];
    `DUT dut (.clock(clock), .reset(reset), .push(push), .din(din), .pop(pop), .dout(dout), .full(full), .empty(empty),
        .count$q(h_count), .q0$q(h_q[0]), .q1$q(h_q[1]), .q2$q(h_q[2]), .q3$q(h_q[3]));

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;
    always @(*) if (init) assume (reset);

    always @(*) if (!reset) begin
        assume (!(push && full));
        assume (!(pop && empty));
    end

    // entries held, counted from the handshakes
    reg [7:0] n;
    always @(posedge clock)
        if (reset) n <= 0;
        else n <= n + push - pop;

    always @(*) if (!init) begin
        full_means_depth: assert (full == (n == DEPTH));
        empty_means_none: assert (empty == (n == 0));
        never_above_depth: assert (n <= DEPTH);
    end

    // Two tagged pushes. state: 0 not picked, 1 inside, 2 left.
    reg [1:0] s1, s2;
    reg [WIDTH-1:0] d1, d2;
    reg [7:0] a1, a2;   // entries ahead of the tagged one
    wire take1 = push && pick && s1 == 0;
    wire take2 = push && pick && s1 != 0 && s2 == 0 && !take1;
    always @(posedge clock) begin
        if (reset) begin
            s1 <= 0; s2 <= 0;
        end else begin
            if (take1) begin s1 <= 1; d1 <= din; a1 <= n - pop; end
            else if (s1 == 1 && pop) begin
                if (a1 == 0) s1 <= 2; else a1 <= a1 - 1;
            end
            if (take2) begin s2 <= 1; d2 <= din; a2 <= n - pop; end
            else if (s2 == 1 && pop) begin
                if (a2 == 0) s2 <= 2; else a2 <= a2 - 1;
            end
        end
    end

    always @(*) if (!init && !reset) begin
        if (s1 == 1) begin
            tag1_inside: assert (a1 < n);
            if (a1 == 0) begin
                tag1_at_head: assert (!empty && dout == d1);
            end
        end
        if (s2 == 1) begin
            tag2_inside: assert (a2 < n);
            if (a2 == 0) begin
                tag2_at_head: assert (!empty && dout == d2);
            end
        end
        // order: the later push is behind the earlier one while both are inside
        if (s1 == 1 && s2 == 1) begin
            order_kept: assert (a2 > a1);
        end
        if (s2 != 0) begin
            second_after_first: assert (s1 != 0);
        end
        if (s2 == 2) begin
            first_left_first: assert (s1 == 2);
        end
    end

    // Induction helpers (internal state): the count is the handshake count,
    // and a tagged entry sits in the slot its position names.
    always @(*) if (!init) begin
        helper_count: assert (h_count == n);
        helper_states: assert (s1 != 3 && s2 != 3);
        if (s1 == 1) helper_slot1: assert (h_q[a1[1:0]] == d1);
        if (s2 == 1) helper_slot2: assert (h_q[a2[1:0]] == d2);
    end

    always @(*) if (!init && !reset) begin
        cover_full: cover (full);
        cover_push_pop_full: cover (full && pop && push == 1'b0 && s1 == 1);
        cover_both_out_in_order: cover (s1 == 2 && s2 == 2 && d1 != d2);
        cover_push_pop_same_cycle: cover (push && pop && n == 2);
    end
endmodule
