//! # HostLink — framed serial protocol between a UART and the chip's host port
//!
//! **Purpose.** The board side of the host link protocol
//! (`spikehdl_model::host_link`, table in `docs/host_link.md`): decodes
//! host frames from received bytes, queues them (input credits), feeds the
//! chip's host input and configuration port from the queue, executes
//! barriers, counter dumps and resets, and encodes the chip's host outputs,
//! counters and link control frames into bytes for the UART transmitter
//! (output credits). `N` cores, `N1` = N + 1 router sources.
//!
//! **Ports.**
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1, 1 | rising edge; synchronous active-high reset of everything (the board's power-on reset) |
//! | `rx_valid`, `rx_data`, `rx_ferr` | in | 1, 8, 1 | received byte (pulse) / framing error pulse, from [`crate::uart_rx::UartRx`] |
//! | `tx_valid`, `tx_ready`, `tx_data` | out, in, out | 1, 1, 8 | bytes to [`crate::uart_tx::UartTx`] (valid/ready) |
//! | `c_reset` | out | 1 | chip reset: high during `reset` and for 32 clocks after a `RESET` frame |
//! | `in_*` | out/in | as the chip | the chip's host input stream (`in_valid`/`in_ready`, kind, layer, a, x, y, p, value) |
//! | `out_*` | in/out | as the chip | the chip's host output stream |
//! | `cfg_valid`, `cfg_addr`, `cfg_data` | out | 1, 24, 32 | configuration writes (only while `idle`, never with `in_valid`) |
//! | `idle` | in | 1 | the chip's idle flag |
//! | `err[i]`, `drops[s]` | in | 32 each | the chip's counters, sent by a counter dump |
//!
//! **Receive path.** The SLIP decoder takes one byte per `rx_valid` pulse
//! (never stalls: a UART cannot be stalled) and keeps the body's first byte
//! (kind), a 64-bit shift register of the following bytes and the running
//! CRC ([`crate::crc8::Crc8Step`]). On `END` a non-empty body is checked
//! (escape, framing, CRC = 0, length for the kind, field widths) exactly
//! as `spikehdl_model::host_link::Decoder` does; a bad body increments the
//! bad-frame counter. A good `RESET` or `GRANT` frame acts at once; every
//! other good frame is pushed into the input queue (a 256-entry RAM of
//! 60-bit decoded entries plus a head register), or counted as an overflow
//! when the queue is full.
//!
//! **Queue head.** DVS events and spikes are presented on `in_*` until the
//! chip takes them. Leak ticks, neuron writes and reads are presented only
//! while the chip is `idle` (as in the chip co-simulation, spec §9), so
//! their place in every core's stream is the model's. A configuration write,
//! a barrier and a counter request also wait for `idle` (every earlier item fully
//! processed and its outputs taken by the transmitter); a barrier then
//! queues its `BARRIER_ACK`, a counter request starts the dump; the head
//! is blocked until that answer has been loaded into the transmitter, so
//! the answer comes after every output of earlier frames and before any
//! output of later ones.
//!
//! **Transmit path.** One frame register, serialised as `END`, kind,
//! payload, CRC (each escaped), `END`. When it is free, the next frame is
//! chosen in this order: `STATUS` (after a reset), `CREDIT` if 64 or more
//! credits are owed, then (only with an output credit) the next counter of
//! a dump, a `BARRIER_ACK`, a chip output (the only cycle `out_ready` is
//! high), and finally `CREDIT` for any owed credit. An entry leaving the
//! RAM for the head register owes one input credit. With no output credit
//! the chip's output is not read and the chip stalls: nothing is dropped.
//!
//! **Reset.** `reset` clears everything and queues `STATUS`. A `RESET`
//! frame empties the queue, clears the link counters, the owed input
//! credits and the output credits, resets the chip (which clears its
//! pipelines and counters, and keeps its configuration and memories) and
//! queues `STATUS` (which grants 256 input credits); a frame being sent is
//! finished first.
//!
//! **Latency.** A queued frame reaches the head 3 clocks after its closing
//! `END` byte was received when the queue was empty.
//!
//! **Undefined.** Output credits beyond 65 280 outstanding (the counter
//! stops adding); more than 2³² − 1 events of one counter (it wraps).

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::{DFF, RAM};
use spikehdl_model::host_link as hl;

use crate::crc8::Crc8Step;

// rust-hdl cannot use Rust constants inside `#[hdl_gen]` code (they would
// become undeclared Verilog identifiers), so the update below spells the
// protocol's byte values as literals; these assertions tie every literal to
// the one definition in spikehdl_model::host_link.
const _: () = assert!(hl::END == 0xc0 && hl::ESC == 0xdb && hl::ESC_END == 0xdc && hl::ESC_ESC == 0xdd);
const _: () = assert!(
    hl::host_kind::DVS == 1 && hl::host_kind::SPIKE == 2 && hl::host_kind::LEAK_TICK == 3 && hl::host_kind::WRITE_NEURON == 4
        && hl::host_kind::READ_NEURON == 5 && hl::host_kind::CONFIG_WRITE == 6 && hl::host_kind::BARRIER == 7
        && hl::host_kind::READ_COUNTERS == 8 && hl::host_kind::RESET == 9 && hl::host_kind::GRANT == 10
);
const _: () = assert!(
    hl::board_kind::SPIKE == 0x81 && hl::board_kind::COUNTER == 0x84 && hl::board_kind::COUNTERS_END == 0x85
        && hl::board_kind::BARRIER_ACK == 0x86 && hl::board_kind::CREDIT == 0x87 && hl::board_kind::STATUS == 0x88
);
const _: () = assert!(
    hl::counter::LINK_BAD_FRAMES == 0x40 && hl::counter::LINK_OVERFLOW == 0x41 && hl::counter::LINK_FRAMING == 0x42 && hl::counter::N_LINK == 3
);
const _: () = assert!(CREDIT_URGENT == 64 && CHIP_RESET_CLOCKS == 32 && QUEUE_DEPTH == 256);
/// Body length (kind + payload + CRC) of each host kind; the HDL spells them as literals below.
const _: () = assert!(
    hl::MAX_PAYLOAD == 7 && hl::MAX_GRANT == 255,
    "the decoder's 64-bit shift register and the 9-byte body limit assume a 7-byte payload"
);
const _: () = assert!(
    // in_kind = host kind - 1 for the five chip item kinds
    hl::host_kind::DVS == 1 && hl::host_kind::SPIKE == 2 && hl::host_kind::LEAK_TICK == 3
        && hl::host_kind::WRITE_NEURON == 4 && hl::host_kind::READ_NEURON == 5,
    "the queue head maps host kind k to the chip's in_kind k - 1"
);
const _: () = assert!(hl::board_kind::MONITOR == hl::board_kind::SPIKE + 1 && hl::board_kind::NEURON_VALUE == hl::board_kind::SPIKE + 2);

/// Address bits of the input queue RAM.
pub const QUEUE_ADDR_BITS: usize = 8;
/// Entries of the input queue = the input credits a `STATUS` frame grants.
pub const QUEUE_DEPTH: usize = 1 << QUEUE_ADDR_BITS;
/// Owed input credits that make a `CREDIT` frame go before data.
pub const CREDIT_URGENT: u64 = 64;
/// Clocks the chip reset is held after a `RESET` frame.
pub const CHIP_RESET_CLOCKS: u64 = 32;

/// The link between the UART and a chip with `N` cores (`N1` = N + 1).
#[derive(LogicBlock)]
pub struct HostLink<const N: usize, const N1: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx_valid: Signal<In, Bit>,
    pub rx_data: Signal<In, Bits<8>>,
    pub rx_ferr: Signal<In, Bit>,
    pub tx_valid: Signal<Out, Bit>,
    pub tx_ready: Signal<In, Bit>,
    pub tx_data: Signal<Out, Bits<8>>,
    pub c_reset: Signal<Out, Bit>,
    pub in_valid: Signal<Out, Bit>,
    pub in_ready: Signal<In, Bit>,
    pub in_kind: Signal<Out, Bits<{ crate::chip_regmap::width::IN_KIND }>>,
    pub in_layer: Signal<Out, Bits<{ crate::chip_regmap::width::LAYER }>>,
    pub in_a: Signal<Out, Bits<{ crate::chip_regmap::width::A }>>,
    pub in_x: Signal<Out, Bits<{ crate::chip_regmap::width::XY }>>,
    pub in_y: Signal<Out, Bits<{ crate::chip_regmap::width::XY }>>,
    pub in_p: Signal<Out, Bit>,
    pub in_value: Signal<Out, Bits<{ crate::chip_regmap::width::VALUE }>>,
    pub out_valid: Signal<In, Bit>,
    pub out_ready: Signal<Out, Bit>,
    pub out_kind: Signal<In, Bits<{ crate::chip_regmap::width::OUT_KIND }>>,
    pub out_layer: Signal<In, Bits<{ crate::chip_regmap::width::LAYER }>>,
    pub out_f: Signal<In, Bits<{ crate::chip_regmap::width::A }>>,
    pub out_x: Signal<In, Bits<{ crate::chip_regmap::width::XY }>>,
    pub out_y: Signal<In, Bits<{ crate::chip_regmap::width::XY }>>,
    pub out_value: Signal<In, Bits<{ crate::chip_regmap::width::VALUE }>>,
    pub cfg_valid: Signal<Out, Bit>,
    pub cfg_addr: Signal<Out, Bits<{ crate::chip_regmap::width::CFG_ADDR }>>,
    pub cfg_data: Signal<Out, Bits<{ crate::chip_regmap::width::CFG_DATA }>>,
    pub idle: Signal<In, Bit>,
    pub err: [Signal<In, Bits<{ crate::chip_regmap::width::COUNT }>>; N],
    pub drops: [Signal<In, Bits<{ crate::chip_regmap::width::COUNT }>>; N1],

    // constants
    k_status: Constant<Bits<56>>,
    n_total: Constant<Bits<8>>,
    ci: [Constant<Bits<8>>; N],
    cd: [Constant<Bits<8>>; N1],
    cd_id: [Constant<Bits<8>>; N1],
    cl0: Constant<Bits<8>>,
    cl1: Constant<Bits<8>>,
    cl2: Constant<Bits<8>>,

    // decoder
    d_esc: DFF<Bit>,
    d_bad: DFF<Bit>,
    d_fe: DFF<Bit>,
    d_n: DFF<Bits<4>>,
    d_kind: DFF<Bits<8>>,
    d_pl: DFF<Bits<64>>,
    d_crc: DFF<Bits<8>>,
    crc_rx: Crc8Step,
    rb: Signal<Local, Bits<8>>,
    app: Signal<Local, Bit>,
    fend: Signal<Local, Bit>,
    p: Signal<Local, Bits<56>>,
    nonempty: Signal<Local, Bit>,
    sane: Signal<Local, Bit>,
    kok: Signal<Local, Bit>,
    queued: Signal<Local, Bit>,
    acc: Signal<Local, Bit>,
    op: Signal<Local, Bits<4>>,
    e_layer: Signal<Local, Bits<4>>,
    e_a: Signal<Local, Bits<11>>,
    e_x: Signal<Local, Bits<7>>,
    e_y: Signal<Local, Bits<7>>,
    e_p: Signal<Local, Bits<1>>,
    e_val: Signal<Local, Bits<16>>,
    e_lo: Signal<Local, Bits<56>>,
    link_rst: Signal<Local, Bit>,
    grant_n: Signal<Local, Bits<16>>,
    push: Signal<Local, Bit>,
    bad_cnt: DFF<Bits<32>>,
    ovf_cnt: DFF<Bits<32>>,
    fr_cnt: DFF<Bits<32>>,

    // queue
    ram: RAM<Bits<60>, QUEUE_ADDR_BITS>,
    wr_ptr: DFF<Bits<QUEUE_ADDR_BITS>>,
    rd_ptr: DFF<Bits<QUEUE_ADDR_BITS>>,
    cnt: DFF<Bits<9>>,
    rd_pend: DFF<Bit>,
    head_v: DFF<Bit>,
    head: DFF<Bits<60>>,
    fetch: Signal<Local, Bit>,
    hop: Signal<Local, Bits<4>>,
    blocked: Signal<Local, Bit>,
    is_item: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    crst: DFF<Bits<6>>,

    // answers and credits
    dump: DFF<Bit>,
    didx: DFF<Bits<8>>,
    ackp: DFF<Bit>,
    ack_seq: DFF<Bits<8>>,
    stp: DFF<Bit>,
    owed: DFF<Bits<9>>,
    ocred: DFF<Bits<16>>,
    credit_n: Signal<Local, Bits<9>>,
    cnt_id: Signal<Local, Bits<8>>,
    cnt_val: Signal<Local, Bits<32>>,
    data_load: Signal<Local, Bit>,
    ocred_add: Signal<Local, Bits<16>>,

    // transmitter frame register
    f_busy: DFF<Bit>,
    f_idx: DFF<Bits<4>>,
    f_len: DFF<Bits<4>>,
    f_kind: DFF<Bits<8>>,
    f_pl: DFF<Bits<56>>,
    f_crc: DFF<Bits<8>>,
    f_esc2: DFF<Bit>,
    crc_tx: Crc8Step,
    cur: Signal<Local, Bits<8>>,
    delim: Signal<Local, Bit>,
    need_esc: Signal<Local, Bit>,
    byte_done: Signal<Local, Bit>,
}

impl<const N: usize, const N1: usize> Default for HostLink<N, N1> {
    fn default() -> Self {
        assert!(N1 == N + 1 && N <= 16, "HostLink<N, N + 1> with N <= 16");
        let c8 = |v: usize| Constant::new((v as u64).into());
        let depth = QUEUE_DEPTH as u64;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx_valid: Default::default(),
            rx_data: Default::default(),
            rx_ferr: Default::default(),
            tx_valid: Default::default(),
            tx_ready: Default::default(),
            tx_data: Default::default(),
            c_reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_kind: Default::default(),
            in_layer: Default::default(),
            in_a: Default::default(),
            in_x: Default::default(),
            in_y: Default::default(),
            in_p: Default::default(),
            in_value: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_kind: Default::default(),
            out_layer: Default::default(),
            out_f: Default::default(),
            out_x: Default::default(),
            out_y: Default::default(),
            out_value: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            idle: Default::default(),
            err: std::array::from_fn(|_| Default::default()),
            drops: std::array::from_fn(|_| Default::default()),
            // STATUS payload: version, n_cores, depth (u16 LE), aligned to the top of the 7-byte field
            k_status: Constant::new(
                ((u64::from(hl::PROTOCOL_VERSION) << 48) | ((N as u64) << 40) | ((depth & 0xff) << 32) | ((depth >> 8) << 24)).into(),
            ),
            n_total: c8(N + N1 + hl::counter::N_LINK as usize),
            ci: std::array::from_fn(c8),
            cd: std::array::from_fn(|j| c8(N + j)),
            cd_id: std::array::from_fn(|j| c8(hl::counter::ROUTER_DROPS as usize + j)),
            cl0: c8(N + N1),
            cl1: c8(N + N1 + 1),
            cl2: c8(N + N1 + 2),
            d_esc: Default::default(),
            d_bad: Default::default(),
            d_fe: Default::default(),
            d_n: Default::default(),
            d_kind: Default::default(),
            d_pl: Default::default(),
            d_crc: Default::default(),
            crc_rx: Default::default(),
            rb: Default::default(),
            app: Default::default(),
            fend: Default::default(),
            p: Default::default(),
            nonempty: Default::default(),
            sane: Default::default(),
            kok: Default::default(),
            queued: Default::default(),
            acc: Default::default(),
            op: Default::default(),
            e_layer: Default::default(),
            e_a: Default::default(),
            e_x: Default::default(),
            e_y: Default::default(),
            e_p: Default::default(),
            e_val: Default::default(),
            e_lo: Default::default(),
            link_rst: Default::default(),
            grant_n: Default::default(),
            push: Default::default(),
            bad_cnt: Default::default(),
            ovf_cnt: Default::default(),
            fr_cnt: Default::default(),
            ram: Default::default(),
            wr_ptr: Default::default(),
            rd_ptr: Default::default(),
            cnt: Default::default(),
            rd_pend: Default::default(),
            head_v: Default::default(),
            head: Default::default(),
            fetch: Default::default(),
            hop: Default::default(),
            blocked: Default::default(),
            is_item: Default::default(),
            take: Default::default(),
            crst: Default::default(),
            dump: Default::default(),
            didx: Default::default(),
            ackp: Default::default(),
            ack_seq: Default::default(),
            stp: Default::default(),
            owed: Default::default(),
            ocred: Default::default(),
            credit_n: Default::default(),
            cnt_id: Default::default(),
            cnt_val: Default::default(),
            data_load: Default::default(),
            ocred_add: Default::default(),
            f_busy: Default::default(),
            f_idx: Default::default(),
            f_len: Default::default(),
            f_kind: Default::default(),
            f_pl: Default::default(),
            f_crc: Default::default(),
            f_esc2: Default::default(),
            crc_tx: Default::default(),
            cur: Default::default(),
            delim: Default::default(),
            need_esc: Default::default(),
            byte_done: Default::default(),
        }
    }
}

impl<const N: usize, const N1: usize> Logic for HostLink<N, N1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, d_esc, d_bad, d_fe, d_n, d_kind, d_pl, d_crc, bad_cnt, ovf_cnt, fr_cnt, wr_ptr, rd_ptr, cnt,
            rd_pend, head_v, head, crst, dump, didx, ackp, ack_seq, stp, owed, ocred, f_busy, f_idx, f_len, f_kind, f_pl,
            f_crc, f_esc2
        );
        self.ram.read_clock.next = self.clock.val();
        self.ram.write_clock.next = self.clock.val();

        // ---------------- SLIP decoder
        self.rb.next = self.rx_data.val();
        self.app.next = false;
        self.fend.next = false;
        if self.rx_ferr.val() {
            self.d_fe.d.next = true;
            self.fr_cnt.d.next = self.fr_cnt.q.val() + 1;
        } else if self.rx_valid.val() {
            if self.rx_data.val() == 0xc0 {
                self.fend.next = true;
            } else if self.d_esc.q.val() {
                self.d_esc.d.next = false;
                self.app.next = true;
                if self.rx_data.val() == 0xdc {
                    self.rb.next = 0xc0.into();
                } else if self.rx_data.val() == 0xdd {
                    self.rb.next = 0xdb.into();
                } else {
                    self.d_bad.d.next = true;
                }
            } else if self.rx_data.val() == 0xdb {
                self.d_esc.d.next = true;
            } else {
                self.app.next = true;
            }
        }
        self.crc_rx.crc.next = self.d_crc.q.val();
        self.crc_rx.data.next = self.rb.val();
        if self.app.val() {
            if self.d_n.q.val() != 15 {
                self.d_n.d.next = self.d_n.q.val() + 1;
            }
            if self.d_n.q.val() == 0 {
                self.d_kind.d.next = self.rb.val();
            } else {
                self.d_pl.d.next = (self.d_pl.q.val() << 8) | bit_cast::<64, 8>(self.rb.val());
            }
            self.d_crc.d.next = self.crc_rx.crc_out.val();
        }

        // ---------------- frame check on 0xc0 (same rules as host_link::Decoder)
        self.p.next = self.d_pl.q.val().get_bits::<56>(8);
        self.nonempty.next = (self.d_n.q.val() != 0) || self.d_esc.q.val() || self.d_bad.q.val() || self.d_fe.q.val();
        self.sane.next = !self.d_esc.q.val()
            && !self.d_bad.q.val()
            && !self.d_fe.q.val()
            && (self.d_crc.q.val() == 0)
            && (self.d_n.q.val() <= 9);
        self.kok.next = false;
        self.queued.next = true;
        self.op.next = self.d_kind.q.val().get_bits::<4>(0);
        self.e_layer.next = 0.into();
        self.e_a.next = 0.into();
        self.e_x.next = 0.into();
        self.e_y.next = 0.into();
        self.e_p.next = 0.into();
        self.e_val.next = 0.into();
        if self.d_kind.q.val() == 1 {
            self.kok.next = (self.d_n.q.val() == 5)
                && !self.p.val().get_bit(23)
                && !self.p.val().get_bit(15)
                && (self.p.val().get_bits::<7>(1) == 0);
            self.e_x.next = self.p.val().get_bits::<7>(16);
            self.e_y.next = self.p.val().get_bits::<7>(8);
            self.e_p.next = self.p.val().get_bits::<1>(0);
        } else if (self.d_kind.q.val() == 2) || (self.d_kind.q.val() == 5) {
            self.kok.next = (self.d_n.q.val() == 7)
                && (self.p.val().get_bits::<4>(36) == 0)
                && (self.p.val().get_bits::<5>(19) == 0)
                && !self.p.val().get_bit(15)
                && !self.p.val().get_bit(7);
            self.e_layer.next = self.p.val().get_bits::<4>(32);
            self.e_a.next = (bit_cast::<11, 3>(self.p.val().get_bits::<3>(16)) << 8) | bit_cast::<11, 8>(self.p.val().get_bits::<8>(24));
            self.e_x.next = self.p.val().get_bits::<7>(8);
            self.e_y.next = self.p.val().get_bits::<7>(0);
        } else if self.d_kind.q.val() == 4 {
            self.kok.next = (self.d_n.q.val() == 9)
                && (self.p.val().get_bits::<4>(52) == 0)
                && (self.p.val().get_bits::<5>(35) == 0)
                && !self.p.val().get_bit(31)
                && !self.p.val().get_bit(23);
            self.e_layer.next = self.p.val().get_bits::<4>(48);
            self.e_a.next = (bit_cast::<11, 3>(self.p.val().get_bits::<3>(32)) << 8) | bit_cast::<11, 8>(self.p.val().get_bits::<8>(40));
            self.e_x.next = self.p.val().get_bits::<7>(24);
            self.e_y.next = self.p.val().get_bits::<7>(16);
            self.e_val.next = (bit_cast::<16, 8>(self.p.val().get_bits::<8>(0)) << 8) | bit_cast::<16, 8>(self.p.val().get_bits::<8>(8));
        } else if (self.d_kind.q.val() == 3) || (self.d_kind.q.val() == 8) {
            self.kok.next = self.d_n.q.val() == 2;
        } else if self.d_kind.q.val() == 9 {
            self.kok.next = self.d_n.q.val() == 2;
            self.queued.next = false;
        } else if self.d_kind.q.val() == 10 {
            self.kok.next = self.d_n.q.val() == 3;
            self.queued.next = false;
        } else if (self.d_kind.q.val() == 6) || (self.d_kind.q.val() == 7) {
            self.kok.next = ((self.d_kind.q.val() == 6) && (self.d_n.q.val() == 9))
                || ((self.d_kind.q.val() == 7) && (self.d_n.q.val() == 3));
        }
        // entry: {op[59:56], layer[45:42], a[41:31], x[30:24], y[23:17], p[16], value[15:0]};
        // configuration: {op, address[55:32], data[31:0]}; barrier: {op, seq[7:0]}
        if self.d_kind.q.val() == 6 {
            self.e_lo.next = (bit_cast::<56, 8>(self.p.val().get_bits::<8>(32)) << 48)
                | (bit_cast::<56, 8>(self.p.val().get_bits::<8>(40)) << 40)
                | (bit_cast::<56, 8>(self.p.val().get_bits::<8>(48)) << 32)
                | (bit_cast::<56, 8>(self.p.val().get_bits::<8>(0)) << 24)
                | (bit_cast::<56, 8>(self.p.val().get_bits::<8>(8)) << 16)
                | (bit_cast::<56, 8>(self.p.val().get_bits::<8>(16)) << 8)
                | bit_cast::<56, 8>(self.p.val().get_bits::<8>(24));
        } else if self.d_kind.q.val() == 7 {
            self.e_lo.next = bit_cast::<56, 8>(self.p.val().get_bits::<8>(0));
        } else {
            self.e_lo.next = (bit_cast::<56, 4>(self.e_layer.val()) << 42)
                | (bit_cast::<56, 11>(self.e_a.val()) << 31)
                | (bit_cast::<56, 7>(self.e_x.val()) << 24)
                | (bit_cast::<56, 7>(self.e_y.val()) << 17)
                | (bit_cast::<56, 1>(self.e_p.val()) << 16)
                | bit_cast::<56, 16>(self.e_val.val());
        }
        self.acc.next = self.fend.val() && self.nonempty.val() && self.sane.val() && self.kok.val();
        if self.fend.val() && self.nonempty.val() && !(self.sane.val() && self.kok.val()) {
            self.bad_cnt.d.next = self.bad_cnt.q.val() + 1;
        }
        if self.fend.val() {
            self.d_n.d.next = 0.into();
            self.d_esc.d.next = false;
            self.d_bad.d.next = false;
            self.d_fe.d.next = false;
            self.d_crc.d.next = 0.into();
        }
        self.link_rst.next = self.acc.val() && (self.d_kind.q.val() == 9);
        self.grant_n.next = 0.into();
        if self.acc.val() && (self.d_kind.q.val() == 10) {
            self.grant_n.next = bit_cast::<16, 8>(self.p.val().get_bits::<8>(0));
        }
        self.push.next = false;
        if self.acc.val() && self.queued.val() {
            if self.cnt.q.val() == 256 {
                self.ovf_cnt.d.next = self.ovf_cnt.q.val() + 1;
            } else {
                self.push.next = true;
            }
        }

        // ---------------- input queue: RAM + head register
        self.ram.write_enable.next = self.push.val();
        self.ram.write_address.next = self.wr_ptr.q.val();
        self.ram.write_data.next = (bit_cast::<60, 4>(self.op.val()) << 56) | bit_cast::<60, 56>(self.e_lo.val());
        self.ram.read_address.next = self.rd_ptr.q.val();
        if self.push.val() {
            self.wr_ptr.d.next = self.wr_ptr.q.val() + 1;
        }
        self.fetch.next = !self.head_v.q.val() && !self.rd_pend.q.val() && (self.cnt.q.val() != 0);
        self.rd_pend.d.next = self.fetch.val();
        if self.fetch.val() {
            self.rd_ptr.d.next = self.rd_ptr.q.val() + 1;
        }
        if self.push.val() && !self.fetch.val() {
            self.cnt.d.next = self.cnt.q.val() + 1;
        } else if self.fetch.val() && !self.push.val() {
            self.cnt.d.next = self.cnt.q.val() - 1;
        }
        if self.rd_pend.q.val() {
            self.head.d.next = self.ram.read_data.val();
            self.head_v.d.next = true;
        }

        // ---------------- queue head -> chip
        self.hop.next = self.head.q.val().get_bits::<4>(56);
        self.blocked.next = !self.head_v.q.val() || (self.crst.q.val() != 0) || self.dump.q.val() || self.ackp.q.val();
        self.is_item.next = (self.hop.val() >= 1) && (self.hop.val() <= 5);
        // DVS events and spikes stream; leak ticks, neuron writes and reads wait for idle (as configuration writes do)
        self.in_valid.next = !self.blocked.val() && self.is_item.val() && ((self.hop.val() <= 2) || self.idle.val());
        self.in_kind.next = self.hop.val().get_bits::<3>(0) - 1;
        self.in_layer.next = self.head.q.val().get_bits::<4>(42);
        self.in_a.next = self.head.q.val().get_bits::<11>(31);
        self.in_x.next = self.head.q.val().get_bits::<7>(24);
        self.in_y.next = self.head.q.val().get_bits::<7>(17);
        self.in_p.next = self.head.q.val().get_bit(16);
        self.in_value.next = self.head.q.val().get_bits::<16>(0);
        self.cfg_addr.next = self.head.q.val().get_bits::<24>(32);
        self.cfg_data.next = self.head.q.val().get_bits::<32>(0);
        self.cfg_valid.next = !self.blocked.val() && (self.hop.val() == 6) && self.idle.val();
        self.take.next = (self.in_valid.val() && self.in_ready.val()) || self.cfg_valid.val();
        if !self.blocked.val() && self.idle.val() {
            if self.hop.val() == 7 {
                self.take.next = true;
                self.ackp.d.next = true;
                self.ack_seq.d.next = self.head.q.val().get_bits::<8>(0);
            } else if self.hop.val() == 8 {
                self.take.next = true;
                self.dump.d.next = true;
                self.didx.d.next = 0.into();
            }
        }
        if self.take.val() {
            self.head_v.d.next = false;
        }
        self.c_reset.next = self.reset.val() || (self.crst.q.val() != 0);
        if self.crst.q.val() != 0 {
            self.crst.d.next = self.crst.q.val() - 1;
        }

        // ---------------- counter dump: id and value of entry didx
        self.cnt_id.next = self.didx.q.val();
        self.cnt_val.next = 0.into();
        for i in 0..N {
            if self.didx.q.val() == self.ci[i].val() {
                self.cnt_val.next = self.err[i].val();
            }
        }
        for j in 0..N1 {
            if self.didx.q.val() == self.cd[j].val() {
                self.cnt_id.next = self.cd_id[j].val();
                self.cnt_val.next = self.drops[j].val();
            }
        }
        if self.didx.q.val() == self.cl0.val() {
            self.cnt_id.next = 0x40.into();
            self.cnt_val.next = self.bad_cnt.q.val();
        }
        if self.didx.q.val() == self.cl1.val() {
            self.cnt_id.next = 0x41.into();
            self.cnt_val.next = self.ovf_cnt.q.val();
        }
        if self.didx.q.val() == self.cl2.val() {
            self.cnt_id.next = 0x42.into();
            self.cnt_val.next = self.fr_cnt.q.val();
        }

        // ---------------- transmitter: choose and load the next frame
        self.out_ready.next = false;
        self.data_load.next = false;
        self.credit_n.next = 0.into();
        if !self.f_busy.q.val() {
            if self.stp.q.val() {
                self.stp.d.next = false;
                self.f_busy.d.next = true;
                self.f_kind.d.next = 0x88.into();
                self.f_len.d.next = 4.into();
                self.f_pl.d.next = self.k_status.val();
            } else if self.owed.q.val() >= 64 {
                self.f_busy.d.next = true;
                self.f_kind.d.next = 0x87.into();
                self.f_len.d.next = 1.into();
                if self.owed.q.val() > 255 {
                    self.credit_n.next = 255.into();
                } else {
                    self.credit_n.next = self.owed.q.val();
                }
                self.f_pl.d.next = bit_cast::<56, 9>(self.credit_n.val()) << 48;
            } else if (self.ocred.q.val() != 0) && self.dump.q.val() {
                self.f_busy.d.next = true;
                self.data_load.next = true;
                if self.didx.q.val() == self.n_total.val() {
                    self.dump.d.next = false;
                    self.f_kind.d.next = 0x85.into();
                    self.f_len.d.next = 1.into();
                    self.f_pl.d.next = bit_cast::<56, 8>(self.n_total.val()) << 48;
                } else {
                    self.didx.d.next = self.didx.q.val() + 1;
                    self.f_kind.d.next = 0x84.into();
                    self.f_len.d.next = 5.into();
                    self.f_pl.d.next = (bit_cast::<56, 8>(self.cnt_id.val()) << 48)
                        | (bit_cast::<56, 8>(self.cnt_val.val().get_bits::<8>(0)) << 40)
                        | (bit_cast::<56, 8>(self.cnt_val.val().get_bits::<8>(8)) << 32)
                        | (bit_cast::<56, 8>(self.cnt_val.val().get_bits::<8>(16)) << 24)
                        | (bit_cast::<56, 8>(self.cnt_val.val().get_bits::<8>(24)) << 16);
                }
            } else if (self.ocred.q.val() != 0) && self.ackp.q.val() {
                self.ackp.d.next = false;
                self.f_busy.d.next = true;
                self.data_load.next = true;
                self.f_kind.d.next = 0x86.into();
                self.f_len.d.next = 1.into();
                self.f_pl.d.next = bit_cast::<56, 8>(self.ack_seq.q.val()) << 48;
            } else if (self.ocred.q.val() != 0) && self.out_valid.val() {
                self.out_ready.next = true;
                self.f_busy.d.next = true;
                self.data_load.next = true;
                self.f_kind.d.next = bit_cast::<8, 2>(self.out_kind.val()) + 0x81;
                if self.out_kind.val() == 2 {
                    self.f_len.d.next = 7.into();
                } else {
                    self.f_len.d.next = 5.into();
                }
                self.f_pl.d.next = (bit_cast::<56, 4>(self.out_layer.val()) << 48)
                    | (bit_cast::<56, 8>(self.out_f.val().get_bits::<8>(0)) << 40)
                    | (bit_cast::<56, 3>(self.out_f.val().get_bits::<3>(8)) << 32)
                    | (bit_cast::<56, 7>(self.out_x.val()) << 24)
                    | (bit_cast::<56, 7>(self.out_y.val()) << 16)
                    | (bit_cast::<56, 8>(self.out_value.val().get_bits::<8>(0)) << 8)
                    | bit_cast::<56, 8>(self.out_value.val().get_bits::<8>(8));
            } else if self.owed.q.val() != 0 {
                self.f_busy.d.next = true;
                self.f_kind.d.next = 0x87.into();
                self.f_len.d.next = 1.into();
                self.credit_n.next = self.owed.q.val();
                self.f_pl.d.next = bit_cast::<56, 9>(self.credit_n.val()) << 48;
            }
            self.f_idx.d.next = 0.into();
            self.f_crc.d.next = 0.into();
            self.f_esc2.d.next = false;
        }
        // credits: owed input credits and held output credits
        if self.fetch.val() {
            self.owed.d.next = self.owed.q.val() + 1 - self.credit_n.val();
        } else {
            self.owed.d.next = self.owed.q.val() - self.credit_n.val();
        }
        self.ocred_add.next = self.ocred.q.val();
        if self.ocred.q.val().get_bits::<8>(8) != 0xff {
            self.ocred_add.next = self.ocred.q.val() + self.grant_n.val();
        }
        if self.data_load.val() {
            self.ocred.d.next = self.ocred_add.val() - 1;
        } else {
            self.ocred.d.next = self.ocred_add.val();
        }

        // ---------------- transmitter: serialise the frame register
        self.delim.next = (self.f_idx.q.val() == 0) || (self.f_idx.q.val() == (self.f_len.q.val() + 3));
        if self.delim.val() {
            self.cur.next = 0xc0.into();
        } else if self.f_idx.q.val() == 1 {
            self.cur.next = self.f_kind.q.val();
        } else if self.f_idx.q.val() == (self.f_len.q.val() + 2) {
            self.cur.next = self.f_crc.q.val();
        } else {
            self.cur.next = self.f_pl.q.val().get_bits::<8>(48);
        }
        self.need_esc.next = !self.delim.val() && ((self.cur.val() == 0xc0) || (self.cur.val() == 0xdb));
        self.tx_valid.next = self.f_busy.q.val();
        self.tx_data.next = self.cur.val();
        if self.need_esc.val() {
            if !self.f_esc2.q.val() {
                self.tx_data.next = 0xdb.into();
            } else if self.cur.val() == 0xc0 {
                self.tx_data.next = 0xdc.into();
            } else {
                self.tx_data.next = 0xdd.into();
            }
        }
        self.crc_tx.crc.next = self.f_crc.q.val();
        self.crc_tx.data.next = self.cur.val();
        self.byte_done.next = self.f_busy.q.val() && self.tx_ready.val() && (!self.need_esc.val() || self.f_esc2.q.val());
        if self.f_busy.q.val() && self.tx_ready.val() && self.need_esc.val() && !self.f_esc2.q.val() {
            self.f_esc2.d.next = true;
        }
        if self.byte_done.val() {
            self.f_esc2.d.next = false;
            if !self.delim.val() {
                self.f_crc.d.next = self.crc_tx.crc_out.val();
            }
            if (self.f_idx.q.val() >= 2) && (self.f_idx.q.val() < (self.f_len.q.val() + 2)) {
                self.f_pl.d.next = self.f_pl.q.val() << 8;
            }
            if self.f_idx.q.val() == (self.f_len.q.val() + 3) {
                self.f_busy.d.next = false;
            } else {
                self.f_idx.d.next = self.f_idx.q.val() + 1;
            }
        }

        // ---------------- resets
        if self.reset.val() || self.link_rst.val() {
            self.wr_ptr.d.next = 0.into();
            self.rd_ptr.d.next = 0.into();
            self.cnt.d.next = 0.into();
            self.rd_pend.d.next = false;
            self.head_v.d.next = false;
            self.owed.d.next = 0.into();
            self.ocred.d.next = 0.into();
            self.dump.d.next = false;
            self.ackp.d.next = false;
            self.stp.d.next = true;
            self.bad_cnt.d.next = 0.into();
            self.ovf_cnt.d.next = 0.into();
            self.fr_cnt.d.next = 0.into();
            self.crst.d.next = 32.into();
        }
        if self.reset.val() {
            self.crst.d.next = 0.into();
            self.d_n.d.next = 0.into();
            self.d_esc.d.next = false;
            self.d_bad.d.next = false;
            self.d_fe.d.next = false;
            self.d_crc.d.next = 0.into();
            self.f_busy.d.next = false;
            self.f_esc2.d.next = false;
        }
    }
}
