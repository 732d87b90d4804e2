//! # The multi-core chip (spec §1, §5, §7, §8): host port, DVS layer, N cores, router
//!
//! A chip top (`chip_tiny`, `chip_fpga`, `chip_reference`, see
//! [`crate::chip_regmap::CHIP_PRESETS`]) is N [`LayerCore`]s plus one
//! [`ChipFabric`] that holds everything between them. Configuration map,
//! port encodings and the 47-bit event word: [`crate::chip_regmap`].
//!
//! **Ports of a chip top** (flat scalars):
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1, 1 | rising edge; synchronous active-high reset empties every FIFO, stage and core pipeline, clears the counters, keeps configuration and memories |
//! | `in_valid`, `in_ready` | in, out | 1, 1 | host input stream (valid/ready as in `layer_core.rs`; `in_ready` may depend on `in_valid` and `in_kind`) |
//! | `in_kind` | in | 3 | 0 dvs, 1 spike, 2 leak tick, 3 write neuron, 4 read neuron |
//! | `in_layer` | in | 4 | target core (spike, write, read) |
//! | `in_a`, `in_x`, `in_y` | in | 11, 7, 7 | spike: c, x, y; write/read: f, x, y; dvs: x, y |
//! | `in_p` | in | 1 | dvs polarity |
//! | `in_value` | in | 16 | write neuron value (int16) |
//! | `out_valid`, `out_ready` | out, in | 1, 1 | host output stream |
//! | `out_kind` | out | 2 | 0 readout spike, 1 monitor, 2 neuron value |
//! | `out_layer`, `out_f`, `out_x`, `out_y`, `out_value` | out | 4, 11, 7, 7, 16 | source layer (13 = DVS monitor) and payload |
//! | `cfg_valid`, `cfg_addr`, `cfg_data` | in | 1, 24, 32 | configuration writes (only while `idle`) |
//! | `idle` | out | 1 | every FIFO, router stage and core empty, no output pending |
//! | `obs<i>_valid`, `obs<i>_item` | out | 1, 47 | core i accepts the item `obs<i>_item` on this edge (observation only) |
//! | `err<i>` | out | 32 | core i's error counter (items outside its shapes) |
//! | `drop<i>`, `drop<N>` | out | 32 | router drops of source core i / of the DVS layer (out of the destination's input shape) |
//!
//! **Architecture.**
//! - *Router stage* per source (each core's output, and the DVS layer): holds
//!   one event and a 3-bit mask of copies still to send — monitor (or the
//!   neuron value), destination 0, destination 1 — and sends the lowest
//!   pending copy, one per cycle, in spec §5 order: monitor before pooling,
//!   then each enabled destination pooled (x >> log2 p, y >> log2 p) and
//!   shifted (c' = f + feature_shift). A copy to layer 12 goes to the host
//!   output; a copy to core j outside j's input shape (router registers
//!   SHAPE_*) is dropped and counted in `drop<source>`. The stage takes the
//!   next event in the cycle its last copy leaves. A copy waits (backpressure
//!   on the source core's output queue) until its target takes it: nothing is
//!   dropped for lack of room, and events from one source leave in order.
//! - *Core input arbiter* per core: round-robin over the router stages and
//!   the host input (source N+1), one item per cycle into a 4-entry FIFO
//!   that feeds the core. *Host output arbiter*: round-robin over the router
//!   stages into a 4-entry FIFO that drives `out_*`.
//! - *Host input*: dvs items enter the DVS stage (spec §7 transform in one
//!   cycle); spike/write/read items compete in core `in_layer`'s arbiter; a
//!   leak tick waits until every core FIFO has room and is then pushed into
//!   all of them in the same cycle, with no other grant that cycle, so it is
//!   in every core's queue before any spike it causes (docs/decisions.md).
//!
//! **Latency per hop** (no contention): a routed spike that leaves core i's
//! output queue on edge E enters the router stage on E, is granted and
//! pushed into core j's FIFO on E+1, is accepted by core j on E+2 at the
//! earliest; the core's own latency to its first output is 3 edges
//! (`layer_core.rs`). A host output copy reaches `out_valid` one edge after
//! the grant.
//!
//! **Undefined:** configuration writes while busy; a destination cycle may
//! deadlock (spec §5); in_kind values 5..7 are consumed and ignored.

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::DFF;

use crate::chip_regmap::{word, BLOCK_DVS, BLOCK_ROUTER};

const _: () = assert!(BLOCK_ROUTER == 12 && BLOCK_DVS == 13, "the HDL below spells these ids as literals");

/// Entries of every [`ItemFifo`] (its registers `q0`..`q3`); the formal
/// harness checks `full` against it.
pub const ITEM_FIFO_DEPTH: usize = 4;

/// A 4-entry FIFO of 47-bit event words (head in `q0`). `push` is only
/// allowed when `full` is low; `pop` when `empty` is low.
#[derive(LogicBlock, Default)]
pub struct ItemFifo {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub push: Signal<In, Bit>,
    pub din: Signal<In, Bits<{ crate::chip_regmap::word::BITS }>>,
    pub pop: Signal<In, Bit>,
    pub dout: Signal<Out, Bits<{ crate::chip_regmap::word::BITS }>>,
    pub full: Signal<Out, Bit>,
    pub empty: Signal<Out, Bit>,
    q0: DFF<Bits<{ crate::chip_regmap::word::BITS }>>,
    q1: DFF<Bits<{ crate::chip_regmap::word::BITS }>>,
    q2: DFF<Bits<{ crate::chip_regmap::word::BITS }>>,
    q3: DFF<Bits<{ crate::chip_regmap::word::BITS }>>,
    count: DFF<Bits<3>>,
    nap: Signal<Local, Bits<3>>,
}

impl Logic for ItemFifo {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, q0, q1, q2, q3, count);
        if self.pop.val() {
            self.nap.next = self.count.q.val() - 1;
            self.q0.d.next = self.q1.q.val();
            self.q1.d.next = self.q2.q.val();
            self.q2.d.next = self.q3.q.val();
        } else {
            self.nap.next = self.count.q.val();
        }
        if self.push.val() {
            self.count.d.next = self.nap.val() + 1;
            if self.nap.val() == 0 {
                self.q0.d.next = self.din.val();
            } else if self.nap.val() == 1 {
                self.q1.d.next = self.din.val();
            } else if self.nap.val() == 2 {
                self.q2.d.next = self.din.val();
            } else {
                self.q3.d.next = self.din.val();
            }
        } else {
            self.count.d.next = self.nap.val();
        }
        self.dout.next = self.q0.q.val();
        self.full.next = self.count.q.val() == 4;
        self.empty.next = self.count.q.val() == 0;
        if self.reset.val() {
            self.count.d.next = 0.into();
        }
    }
}

fn arr<T: Default, const P: usize>() -> [T; P] {
    std::array::from_fn(|_| T::default())
}

/// Everything of the chip except the cores: host ports, DVS stage, router
/// stages, arbiters, FIFOs, counters. `N` cores, `N1` = N + 1 router stages
/// (stage N is the DVS layer), `S` = N + 2 request sources (source N + 1 is
/// the host input).
#[derive(LogicBlock)]
pub struct ChipFabric<const N: usize, const N1: usize, const S: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // host input
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_kind: Signal<In, Bits<{ crate::chip_regmap::width::IN_KIND }>>,
    pub in_layer: Signal<In, Bits<{ crate::chip_regmap::width::LAYER }>>,
    pub in_a: Signal<In, Bits<{ crate::chip_regmap::width::A }>>,
    pub in_x: Signal<In, Bits<{ crate::chip_regmap::width::XY }>>,
    pub in_y: Signal<In, Bits<{ crate::chip_regmap::width::XY }>>,
    pub in_p: Signal<In, Bit>,
    pub in_value: Signal<In, Bits<{ crate::chip_regmap::width::VALUE }>>,
    // host output
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_kind: Signal<Out, Bits<{ crate::chip_regmap::width::OUT_KIND }>>,
    pub out_layer: Signal<Out, Bits<{ crate::chip_regmap::width::LAYER }>>,
    pub out_f: Signal<Out, Bits<{ crate::chip_regmap::width::A }>>,
    pub out_x: Signal<Out, Bits<{ crate::chip_regmap::width::XY }>>,
    pub out_y: Signal<Out, Bits<{ crate::chip_regmap::width::XY }>>,
    pub out_value: Signal<Out, Bits<{ crate::chip_regmap::width::VALUE }>>,
    // configuration
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<{ crate::chip_regmap::width::CFG_ADDR }>>,
    pub cfg_data: Signal<In, Bits<{ crate::chip_regmap::width::CFG_DATA }>>,
    pub idle: Signal<Out, Bit>,
    // core side
    pub ccfg: [Signal<Out, Bit>; N],
    pub ci_valid: [Signal<Out, Bit>; N],
    pub ci_ready: [Signal<In, Bit>; N],
    pub ci_item: [Signal<Out, Bits<{ crate::chip_regmap::word::BITS }>>; N],
    pub co_valid: [Signal<In, Bit>; N],
    pub co_ready: [Signal<Out, Bit>; N],
    /// Core output as an event word: kind (1 spike -> monitor copy, 2 neuron value), layer i, f, x, y, value.
    pub co_word: [Signal<In, Bits<{ crate::chip_regmap::word::BITS }>>; N],
    pub core_idle: [Signal<In, Bit>; N],
    pub drops: [Signal<Out, Bits<{ crate::chip_regmap::width::COUNT }>>; N1],

    idx: [Constant<Bits<4>>; S],
    lid: [Constant<Bits<{ crate::chip_regmap::word::BITS }>>; N],
    fifo: [ItemFifo; N],
    hfifo: ItemFifo,
    // router configuration (index N: the DVS layer's destinations / monitor)
    rt_d0: [DFF<Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    rt_d1: [DFF<Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    rt_mon: [DFF<Bits<1>>; N1],
    sh_c: [DFF<Bits<11>>; N],
    sh_w: [DFF<Bits<8>>; N],
    sh_h: [DFF<Bits<8>>; N],
    dvs_pool: DFF<Bits<4>>,
    dvs_origin: DFF<Bits<15>>,
    dvs_cut: DFF<Bits<15>>,
    dvs_flags: DFF<Bits<6>>,
    // router stages
    st_mask: [DFF<Bits<3>>; N1],
    st_w: [DFF<Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    drop_cnt: [DFF<Bits<32>>; N1],
    last: [DFF<Bits<4>>; N],
    hlast: DFF<Bits<4>>,
    // combinational
    cfg_blk: Signal<Local, Bits<4>>,
    cfg_src: Signal<Local, Bits<4>>,
    cfg_reg: Signal<Local, Bits<3>>,
    cfg_rt: Signal<Local, Bit>,
    cfg47: Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>,
    sel0: [Signal<Local, Bit>; N1],
    dcfg: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    lm: [Signal<Local, Bits<3>>; N1],
    dlayer: [Signal<Local, Bits<4>>; N1],
    pc: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    px: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    py: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; N1],
    tc: [Signal<Local, Bits<11>>; N1],
    tw: [Signal<Local, Bits<8>>; N1],
    th: [Signal<Local, Bits<8>>; N1],
    drop_now: [Signal<Local, Bit>; N1],
    done: [Signal<Local, Bit>; N1],
    mnext: [Signal<Local, Bits<3>>; N1],
    sfree: [Signal<Local, Bit>; N1],
    rq_valid: [Signal<Local, Bit>; S],
    rq_host: [Signal<Local, Bit>; S],
    rq_tgt: [Signal<Local, Bits<4>>; S],
    rq_pl: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; S],
    gnt: [Signal<Local, Bit>; S],
    got: [Signal<Local, Bit>; N],
    cpl: [Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>; N],
    hgot: Signal<Local, Bit>,
    hpl: Signal<Local, Bits<{ crate::chip_regmap::word::BITS }>>,
    room: Signal<Local, Bit>,
    leak_go: Signal<Local, Bit>,
    is_rq: Signal<Local, Bit>,
    all_idle: Signal<Local, Bit>,
    // DVS transform
    dv_on: Signal<Local, Bit>,
    dv_pass: Signal<Local, Bit>,
    dv_c: Signal<Local, Bits<11>>,
    dv_xp: Signal<Local, Bits<7>>,
    dv_yp: Signal<Local, Bits<7>>,
    dv_ox: Signal<Local, Bits<7>>,
    dv_oy: Signal<Local, Bits<7>>,
    dv_cx: Signal<Local, Bits<7>>,
    dv_cy: Signal<Local, Bits<7>>,
    dv_xc: Signal<Local, Bits<7>>,
    dv_yc: Signal<Local, Bits<7>>,
    dv_xm: Signal<Local, Bits<7>>,
    dv_ym: Signal<Local, Bits<7>>,
    dv_xo: Signal<Local, Bits<7>>,
    dv_yo: Signal<Local, Bits<7>>,
    dv_take: Signal<Local, Bit>,
    dv_mask: Signal<Local, Bits<3>>,
}

impl<const N: usize, const N1: usize, const S: usize> Default for ChipFabric<N, N1, S> {
    fn default() -> Self {
        assert!(N1 == N + 1 && S == N + 2 && S <= 16, "ChipFabric<N, N+1, N+2> with N <= 12");
        Self {
            clock: Default::default(),
            reset: Default::default(),
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
            ccfg: arr(),
            ci_valid: arr(),
            ci_ready: arr(),
            ci_item: arr(),
            co_valid: arr(),
            co_ready: arr(),
            co_word: arr(),
            core_idle: arr(),
            drops: arr(),
            idx: std::array::from_fn(|i| Constant::new((i as u64).into())),
            lid: std::array::from_fn(|i| Constant::new(((i as u64) << word::LAYER).into())),
            fifo: arr(),
            hfifo: Default::default(),
            rt_d0: arr(),
            rt_d1: arr(),
            rt_mon: arr(),
            sh_c: arr(),
            sh_w: arr(),
            sh_h: arr(),
            dvs_pool: Default::default(),
            dvs_origin: Default::default(),
            dvs_cut: Default::default(),
            dvs_flags: Default::default(),
            st_mask: arr(),
            st_w: arr(),
            drop_cnt: arr(),
            last: arr(),
            hlast: Default::default(),
            cfg_blk: Default::default(),
            cfg_src: Default::default(),
            cfg_reg: Default::default(),
            cfg_rt: Default::default(),
            cfg47: Default::default(),
            sel0: arr(),
            dcfg: arr(),
            lm: arr(),
            dlayer: arr(),
            pc: arr(),
            px: arr(),
            py: arr(),
            tc: arr(),
            tw: arr(),
            th: arr(),
            drop_now: arr(),
            done: arr(),
            mnext: arr(),
            sfree: arr(),
            rq_valid: arr(),
            rq_host: arr(),
            rq_tgt: arr(),
            rq_pl: arr(),
            gnt: arr(),
            got: arr(),
            cpl: arr(),
            hgot: Default::default(),
            hpl: Default::default(),
            room: Default::default(),
            leak_go: Default::default(),
            is_rq: Default::default(),
            all_idle: Default::default(),
            dv_on: Default::default(),
            dv_pass: Default::default(),
            dv_c: Default::default(),
            dv_xp: Default::default(),
            dv_yp: Default::default(),
            dv_ox: Default::default(),
            dv_oy: Default::default(),
            dv_cx: Default::default(),
            dv_cy: Default::default(),
            dv_xc: Default::default(),
            dv_yc: Default::default(),
            dv_xm: Default::default(),
            dv_ym: Default::default(),
            dv_xo: Default::default(),
            dv_yo: Default::default(),
            dv_take: Default::default(),
            dv_mask: Default::default(),
        }
    }
}

impl<const N: usize, const N1: usize, const S: usize> Logic for ChipFabric<N, N1, S> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, dvs_pool, dvs_origin, dvs_cut, dvs_flags, hlast);
        self.hfifo.clock.next = self.clock.val();
        self.hfifo.reset.next = self.reset.val();
        for i in 0..N {
            self.fifo[i].clock.next = self.clock.val();
            self.fifo[i].reset.next = self.reset.val();
            self.sh_c[i].clock.next = self.clock.val();
            self.sh_c[i].d.next = self.sh_c[i].q.val();
            self.sh_w[i].clock.next = self.clock.val();
            self.sh_w[i].d.next = self.sh_w[i].q.val();
            self.sh_h[i].clock.next = self.clock.val();
            self.sh_h[i].d.next = self.sh_h[i].q.val();
            self.last[i].clock.next = self.clock.val();
            self.last[i].d.next = self.last[i].q.val();
        }
        for s in 0..N1 {
            self.rt_d0[s].clock.next = self.clock.val();
            self.rt_d0[s].d.next = self.rt_d0[s].q.val();
            self.rt_d1[s].clock.next = self.clock.val();
            self.rt_d1[s].d.next = self.rt_d1[s].q.val();
            self.rt_mon[s].clock.next = self.clock.val();
            self.rt_mon[s].d.next = self.rt_mon[s].q.val();
            self.st_mask[s].clock.next = self.clock.val();
            self.st_mask[s].d.next = self.st_mask[s].q.val();
            self.st_w[s].clock.next = self.clock.val();
            self.st_w[s].d.next = self.st_w[s].q.val();
            self.drop_cnt[s].clock.next = self.clock.val();
            self.drop_cnt[s].d.next = self.drop_cnt[s].q.val();
        }

        // ---------------- configuration
        self.cfg_blk.next = self.cfg_addr.val().get_bits::<4>(20);
        self.cfg_src.next = self.cfg_addr.val().get_bits::<4>(3);
        self.cfg_reg.next = self.cfg_addr.val().get_bits::<3>(0);
        self.cfg_rt.next = self.cfg_valid.val() && (self.cfg_blk.val() == 12) && (self.cfg_addr.val().get_bits::<13>(7) == 0);
        self.cfg47.next = bit_cast::<47, 32>(self.cfg_data.val());
        for i in 0..N {
            self.ccfg[i].next = self.cfg_valid.val() && (self.cfg_blk.val() == self.idx[i].val());
            if self.cfg_rt.val() && (self.cfg_src.val() == self.idx[i].val()) {
                if self.cfg_reg.val() == 0 {
                    self.rt_d0[i].d.next = self.cfg47.val() & 0x1ffff;
                }
                if self.cfg_reg.val() == 1 {
                    self.rt_d1[i].d.next = self.cfg47.val() & 0x1ffff;
                }
                if self.cfg_reg.val() == 2 {
                    self.rt_mon[i].d.next = self.cfg_data.val().get_bits::<1>(0);
                }
                if self.cfg_reg.val() == 3 {
                    self.sh_c[i].d.next = self.cfg_data.val().get_bits::<11>(0);
                }
                if self.cfg_reg.val() == 4 {
                    self.sh_w[i].d.next = self.cfg_data.val().get_bits::<8>(0);
                }
                if self.cfg_reg.val() == 5 {
                    self.sh_h[i].d.next = self.cfg_data.val().get_bits::<8>(0);
                }
            }
        }
        for d in N..N1 {
            if self.cfg_valid.val() && (self.cfg_blk.val() == 13) && (self.cfg_addr.val().get_bits::<17>(3) == 0) {
                if self.cfg_reg.val() == 0 {
                    self.rt_d0[d].d.next = self.cfg47.val() & 0x1f000;
                }
                if self.cfg_reg.val() == 1 {
                    self.rt_d1[d].d.next = self.cfg47.val() & 0x1f000;
                }
                if self.cfg_reg.val() == 2 {
                    self.rt_mon[d].d.next = self.cfg_data.val().get_bits::<1>(0);
                }
                if self.cfg_reg.val() == 3 {
                    self.dvs_pool.d.next = self.cfg_data.val().get_bits::<4>(0);
                }
                if self.cfg_reg.val() == 4 {
                    self.dvs_origin.d.next = self.cfg_data.val().get_bits::<15>(0);
                }
                if self.cfg_reg.val() == 5 {
                    self.dvs_cut.d.next = self.cfg_data.val().get_bits::<15>(0);
                }
                if self.cfg_reg.val() == 6 {
                    self.dvs_flags.d.next = self.cfg_data.val().get_bits::<6>(0);
                }
            }
        }

        // ---------------- router stages: the copy each stage presents
        for s in 0..N1 {
            self.sel0[s].next = self.st_mask[s].q.val().get_bit(0);
            if self.st_mask[s].q.val().get_bit(1) {
                self.dcfg[s].next = self.rt_d0[s].q.val();
            } else {
                self.dcfg[s].next = self.rt_d1[s].q.val();
            }
            self.dlayer[s].next = self.dcfg[s].val().get_bits::<4>(12);
            self.pc[s].next = ((self.st_w[s].q.val() >> 30) & 0x7ff) + (self.dcfg[s].val() & 0x3ff);
            self.px[s].next = ((self.st_w[s].q.val() >> 23) & 0x7f) >> self.dcfg[s].val().get_bits::<2>(10);
            self.py[s].next = ((self.st_w[s].q.val() >> 16) & 0x7f) >> self.dcfg[s].val().get_bits::<2>(10);
            self.lm[s].next = 0.into();
            if self.rt_mon[s].q.val() != 0 {
                self.lm[s].next = 1.into();
            }
            if self.rt_d0[s].q.val().get_bit(16) {
                self.lm[s].next = self.lm[s].val() | 2;
            }
            if self.rt_d1[s].q.val().get_bit(16) {
                self.lm[s].next = self.lm[s].val() | 4;
            }
            self.tc[s].next = 0.into();
            self.tw[s].next = 0.into();
            self.th[s].next = 0.into();
            for j in 0..N {
                if self.dlayer[s].val() == self.idx[j].val() {
                    self.tc[s].next = self.sh_c[j].q.val();
                    self.tw[s].next = self.sh_w[j].q.val();
                    self.th[s].next = self.sh_h[j].q.val();
                }
            }
            self.drop_now[s].next = false;
            self.rq_valid[s].next = false;
            self.rq_host[s].next = false;
            self.rq_tgt[s].next = self.dlayer[s].val();
            self.rq_pl[s].next = self.st_w[s].q.val();
            if self.st_mask[s].q.val() != 0 {
                if self.sel0[s].val() {
                    self.rq_valid[s].next = true;
                    self.rq_host[s].next = true;
                } else if self.dlayer[s].val() == 12 {
                    self.rq_valid[s].next = true;
                    self.rq_host[s].next = true;
                    self.rq_pl[s].next = (self.st_w[s].q.val() & 0x1e00_0000_0000_u64)
                        | (self.pc[s].val() << 30)
                        | (self.px[s].val() << 23)
                        | (self.py[s].val() << 16);
                } else if (self.pc[s].val().get_bits::<11>(0) < self.tc[s].val())
                    && (self.px[s].val().get_bits::<8>(0) < self.tw[s].val())
                    && (self.py[s].val().get_bits::<8>(0) < self.th[s].val())
                {
                    self.rq_valid[s].next = true;
                    self.rq_pl[s].next = ((self.dcfg[s].val() & 0xf000) << 29)
                        | (self.pc[s].val() << 30)
                        | (self.px[s].val() << 23)
                        | (self.py[s].val() << 16);
                } else {
                    self.drop_now[s].next = true;
                }
            }
        }

        // ---------------- host input
        self.room.next = true;
        self.all_idle.next = self.hfifo.empty.val();
        for i in 0..N {
            self.room.next = self.room.val() && !self.fifo[i].full.val();
            self.all_idle.next = self.all_idle.val() && self.fifo[i].empty.val() && self.core_idle[i].val();
        }
        for s in 0..N1 {
            self.all_idle.next = self.all_idle.val() && (self.st_mask[s].q.val() == 0);
        }
        self.idle.next = self.all_idle.val();
        self.leak_go.next = self.in_valid.val() && (self.in_kind.val() == 2) && self.room.val();
        self.is_rq.next = (self.in_kind.val() == 1) || (self.in_kind.val() == 3) || (self.in_kind.val() == 4);
        for h in N1..S {
            self.rq_valid[h].next = self.in_valid.val() && self.is_rq.val();
            self.rq_host[h].next = false;
            self.rq_tgt[h].next = self.in_layer.val();
            // core item kind: spike 0, write 2, read 3 = in_kind - 1 (spike 1 -> 0)
            self.rq_pl[h].next = (bit_cast::<47, 2>(self.in_kind.val().get_bits::<2>(0) - 1) << 45)
                | (bit_cast::<47, 4>(self.in_layer.val()) << 41)
                | (bit_cast::<47, 11>(self.in_a.val()) << 30)
                | (bit_cast::<47, 7>(self.in_x.val()) << 23)
                | (bit_cast::<47, 7>(self.in_y.val()) << 16)
                | bit_cast::<47, 16>(self.in_value.val());
        }

        // ---------------- arbitration (round-robin, two passes from last+1)
        for s in 0..S {
            self.gnt[s].next = false;
        }
        for j in 0..N {
            self.got[j].next = false;
            self.cpl[j].next = 0.into();
            for s in 0..S {
                if !self.leak_go.val()
                    && !self.fifo[j].full.val()
                    && self.rq_valid[s].val()
                    && !self.rq_host[s].val()
                    && (self.rq_tgt[s].val() == self.idx[j].val())
                    && (self.idx[s].val() > self.last[j].q.val())
                    && !self.got[j].val()
                {
                    self.gnt[s].next = true;
                    self.got[j].next = true;
                    self.cpl[j].next = self.rq_pl[s].val();
                    self.last[j].d.next = self.idx[s].val();
                }
            }
            for s in 0..S {
                if !self.leak_go.val()
                    && !self.fifo[j].full.val()
                    && self.rq_valid[s].val()
                    && !self.rq_host[s].val()
                    && (self.rq_tgt[s].val() == self.idx[j].val())
                    && !self.got[j].val()
                {
                    self.gnt[s].next = true;
                    self.got[j].next = true;
                    self.cpl[j].next = self.rq_pl[s].val();
                    self.last[j].d.next = self.idx[s].val();
                }
            }
            self.fifo[j].push.next = self.got[j].val() || self.leak_go.val();
            if self.leak_go.val() {
                self.fifo[j].din.next = 0x2000_0000_0000_u64.into();
            } else {
                self.fifo[j].din.next = self.cpl[j].val();
            }
            self.ci_valid[j].next = !self.fifo[j].empty.val();
            self.ci_item[j].next = self.fifo[j].dout.val();
            self.fifo[j].pop.next = !self.fifo[j].empty.val() && self.ci_ready[j].val();
        }
        self.hgot.next = false;
        self.hpl.next = 0.into();
        for s in 0..N1 {
            if !self.hfifo.full.val()
                && self.rq_valid[s].val()
                && self.rq_host[s].val()
                && (self.idx[s].val() > self.hlast.q.val())
                && !self.hgot.val()
            {
                self.gnt[s].next = true;
                self.hgot.next = true;
                self.hpl.next = self.rq_pl[s].val();
                self.hlast.d.next = self.idx[s].val();
            }
        }
        for s in 0..N1 {
            if !self.hfifo.full.val() && self.rq_valid[s].val() && self.rq_host[s].val() && !self.hgot.val() {
                self.gnt[s].next = true;
                self.hgot.next = true;
                self.hpl.next = self.rq_pl[s].val();
                self.hlast.d.next = self.idx[s].val();
            }
        }
        self.hfifo.push.next = self.hgot.val();
        self.hfifo.din.next = self.hpl.val();
        self.out_valid.next = !self.hfifo.empty.val();
        self.out_kind.next = self.hfifo.dout.val().get_bits::<2>(45);
        self.out_layer.next = self.hfifo.dout.val().get_bits::<4>(41);
        self.out_f.next = self.hfifo.dout.val().get_bits::<11>(30);
        self.out_x.next = self.hfifo.dout.val().get_bits::<7>(23);
        self.out_y.next = self.hfifo.dout.val().get_bits::<7>(16);
        self.out_value.next = self.hfifo.dout.val().get_bits::<16>(0);
        self.hfifo.pop.next = !self.hfifo.empty.val() && self.out_ready.val();

        // ---------------- router stage state
        for s in 0..N1 {
            self.done[s].next = self.drop_now[s].val() || self.gnt[s].val();
            if self.done[s].val() {
                self.mnext[s].next = self.st_mask[s].q.val() & (self.st_mask[s].q.val() - 1);
            } else {
                self.mnext[s].next = self.st_mask[s].q.val();
            }
            self.sfree[s].next = self.mnext[s].val() == 0;
            self.st_mask[s].d.next = self.mnext[s].val();
            if self.drop_now[s].val() {
                self.drop_cnt[s].d.next = self.drop_cnt[s].q.val() + 1;
            }
            self.drops[s].next = self.drop_cnt[s].q.val();
        }
        for i in 0..N {
            self.co_ready[i].next = self.sfree[i].val();
            if self.co_valid[i].val() && self.sfree[i].val() {
                if self.co_word[i].val().get_bit(46) {
                    self.st_mask[i].d.next = 1.into();
                } else {
                    self.st_mask[i].d.next = self.lm[i].val();
                }
                self.st_w[i].d.next = self.co_word[i].val() | self.lid[i].val();
            }
        }

        // ---------------- DVS layer (spec section 7), stage N
        self.dv_on.next = (self.in_p.val() && self.dvs_flags.q.val().get_bit(4)) || (!self.in_p.val() && self.dvs_flags.q.val().get_bit(5));
        self.dv_c.next = 0.into();
        if self.in_p.val() && !self.dvs_flags.q.val().get_bit(3) {
            self.dv_c.next = 1.into();
        }
        self.dv_xp.next = self.in_x.val() >> self.dvs_pool.q.val().get_bits::<2>(0);
        self.dv_yp.next = self.in_y.val() >> self.dvs_pool.q.val().get_bits::<2>(2);
        self.dv_ox.next = self.dvs_origin.q.val().get_bits::<7>(0);
        self.dv_oy.next = self.dvs_origin.q.val().get_bits::<7>(8);
        self.dv_cx.next = self.dvs_cut.q.val().get_bits::<7>(0);
        self.dv_cy.next = self.dvs_cut.q.val().get_bits::<7>(8);
        self.dv_pass.next = self.dv_on.val()
            && (self.dv_xp.val() >= self.dv_ox.val())
            && (self.dv_xp.val() <= self.dv_cx.val())
            && (self.dv_yp.val() >= self.dv_oy.val())
            && (self.dv_yp.val() <= self.dv_cy.val());
        self.dv_xc.next = self.dv_xp.val() - self.dv_ox.val();
        self.dv_yc.next = self.dv_yp.val() - self.dv_oy.val();
        if self.dvs_flags.q.val().get_bit(1) {
            self.dv_ym.next = (self.dv_cy.val() - self.dv_oy.val()) - self.dv_yc.val();
        } else {
            self.dv_ym.next = self.dv_yc.val();
        }
        if self.dvs_flags.q.val().get_bit(0) {
            self.dv_xm.next = (self.dv_cx.val() - self.dv_ox.val()) - self.dv_xc.val();
        } else {
            self.dv_xm.next = self.dv_xc.val();
        }
        if self.dvs_flags.q.val().get_bit(2) {
            self.dv_xo.next = self.dv_ym.val();
            self.dv_yo.next = self.dv_xm.val();
        } else {
            self.dv_xo.next = self.dv_xm.val();
            self.dv_yo.next = self.dv_ym.val();
        }
        self.dv_take.next = false;
        self.dv_mask.next = 0.into();
        for d in N..N1 {
            self.dv_take.next = self.in_valid.val() && (self.in_kind.val() == 0) && self.sfree[d].val();
            self.dv_mask.next = self.lm[d].val();
            if self.dv_take.val() && self.dv_pass.val() {
                self.st_mask[d].d.next = self.dv_mask.val();
                self.st_w[d].d.next = (bit_cast::<47, 11>(self.dv_c.val()) << 30)
                    | (bit_cast::<47, 7>(self.dv_xo.val()) << 23)
                    | (bit_cast::<47, 7>(self.dv_yo.val()) << 16)
                    | 0x3a00_0000_0000_u64;
            }
        }
        self.in_ready.next = self.dv_take.val() || self.leak_go.val() || (self.in_kind.val() > 4);
        for h in N1..S {
            if self.gnt[h].val() {
                self.in_ready.next = true;
            }
        }

        // ---------------- reset (configuration is kept)
        if self.reset.val() {
            self.in_ready.next = false;
            self.hlast.d.next = 0.into();
            for s in 0..N1 {
                self.st_mask[s].d.next = 0.into();
                self.drop_cnt[s].d.next = 0.into();
            }
        }
    }
}

/// Defines one chip top type: `$t` with the `$n` cores of the model's chip
/// preset `$c`, each with its core type's address widths and neuron memory form.
/// Used through [`crate::for_each_chip!`].
#[macro_export]
macro_rules! define_chip_top {
    ($t:ident, $m:literal, $c:ident, $n:literal, $n1:literal, $s:literal, $dd:ident,
     [$(($i:literal, $core:ident, $ov:ident, $oi:ident, $err:ident, $drop:ident)),*]) => {
        #[doc = concat!("The `", $m, "` chip top (ports: [`crate::chip`]).")]
        #[derive(LogicBlock)]
        pub struct $t {
            pub clock: Signal<In, Clock>,
            pub reset: Signal<In, Bit>,
            pub in_valid: Signal<In, Bit>,
            pub in_ready: Signal<Out, Bit>,
            pub in_kind: Signal<In, Bits<{ $crate::chip_regmap::width::IN_KIND }>>,
            pub in_layer: Signal<In, Bits<{ $crate::chip_regmap::width::LAYER }>>,
            pub in_a: Signal<In, Bits<{ $crate::chip_regmap::width::A }>>,
            pub in_x: Signal<In, Bits<{ $crate::chip_regmap::width::XY }>>,
            pub in_y: Signal<In, Bits<{ $crate::chip_regmap::width::XY }>>,
            pub in_p: Signal<In, Bit>,
            pub in_value: Signal<In, Bits<{ $crate::chip_regmap::width::VALUE }>>,
            pub out_valid: Signal<Out, Bit>,
            pub out_ready: Signal<In, Bit>,
            pub out_kind: Signal<Out, Bits<{ $crate::chip_regmap::width::OUT_KIND }>>,
            pub out_layer: Signal<Out, Bits<{ $crate::chip_regmap::width::LAYER }>>,
            pub out_f: Signal<Out, Bits<{ $crate::chip_regmap::width::A }>>,
            pub out_x: Signal<Out, Bits<{ $crate::chip_regmap::width::XY }>>,
            pub out_y: Signal<Out, Bits<{ $crate::chip_regmap::width::XY }>>,
            pub out_value: Signal<Out, Bits<{ $crate::chip_regmap::width::VALUE }>>,
            pub cfg_valid: Signal<In, Bit>,
            pub cfg_addr: Signal<In, Bits<{ $crate::chip_regmap::width::CFG_ADDR }>>,
            pub cfg_data: Signal<In, Bits<{ $crate::chip_regmap::width::CFG_DATA }>>,
            pub idle: Signal<Out, Bit>,
            $(
                pub $ov: Signal<Out, Bit>,
                pub $oi: Signal<Out, Bits<{ $crate::chip_regmap::word::BITS }>>,
                pub $err: Signal<Out, Bits<32>>,
                pub $drop: Signal<Out, Bits<32>>,
            )*
            pub $dd: Signal<Out, Bits<32>>,
            fabric: $crate::chip::ChipFabric<$n, $n1, $s>,
            $( $core: $crate::layer_core::LayerCore<
                { spikehdl_model::presets::$c.cores[$i].capacity.kernel_addr_bits() },
                { spikehdl_model::presets::$c.cores[$i].capacity.neuron_addr_bits() },
                { spikehdl_model::presets::$c.cores[$i].capacity.bias_addr_bits() },
            >, )*
        }

        impl Default for $t {
            fn default() -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
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
                    $(
                        $ov: Default::default(),
                        $oi: Default::default(),
                        $err: Default::default(),
                        $drop: Default::default(),
                    )*
                    $dd: Default::default(),
                    fabric: Default::default(),
                    // Each core takes its preset's neuron memory form (single port: SPRAM on the UP5K).
                    $( $core: $crate::layer_core::LayerCore::with_neuron_single_port(
                        spikehdl_model::presets::$c.cores[$i].neuron_single_port,
                    ), )*
                }
            }
        }

        impl $t {
            /// The top with its inputs marked as driven, ready for `check_all`.
            pub fn new_top() -> Self {
                let mut c = Self::default();
                c.clock.connect();
                c.reset.connect();
                c.in_valid.connect();
                c.in_kind.connect();
                c.in_layer.connect();
                c.in_a.connect();
                c.in_x.connect();
                c.in_y.connect();
                c.in_p.connect();
                c.in_value.connect();
                c.out_ready.connect();
                c.cfg_valid.connect();
                c.cfg_addr.connect();
                c.cfg_data.connect();
                c.connect_all();
                c
            }
        }

        impl Logic for $t {
            #[hdl_gen]
            fn update(&mut self) {
                self.fabric.clock.next = self.clock.val();
                self.fabric.reset.next = self.reset.val();
                self.fabric.in_valid.next = self.in_valid.val();
                self.in_ready.next = self.fabric.in_ready.val();
                self.fabric.in_kind.next = self.in_kind.val();
                self.fabric.in_layer.next = self.in_layer.val();
                self.fabric.in_a.next = self.in_a.val();
                self.fabric.in_x.next = self.in_x.val();
                self.fabric.in_y.next = self.in_y.val();
                self.fabric.in_p.next = self.in_p.val();
                self.fabric.in_value.next = self.in_value.val();
                self.out_valid.next = self.fabric.out_valid.val();
                self.fabric.out_ready.next = self.out_ready.val();
                self.out_kind.next = self.fabric.out_kind.val();
                self.out_layer.next = self.fabric.out_layer.val();
                self.out_f.next = self.fabric.out_f.val();
                self.out_x.next = self.fabric.out_x.val();
                self.out_y.next = self.fabric.out_y.val();
                self.out_value.next = self.fabric.out_value.val();
                self.fabric.cfg_valid.next = self.cfg_valid.val();
                self.fabric.cfg_addr.next = self.cfg_addr.val();
                self.fabric.cfg_data.next = self.cfg_data.val();
                self.idle.next = self.fabric.idle.val();
                $(
                    self.$core.clock.next = self.clock.val();
                    self.$core.reset.next = self.reset.val();
                    self.$core.cfg_valid.next = self.fabric.ccfg[$i].val();
                    self.$core.cfg_addr.next = self.cfg_addr.val().get_bits::<20>(0);
                    self.$core.cfg_data.next = self.cfg_data.val();
                    self.$core.in_valid.next = self.fabric.ci_valid[$i].val();
                    self.fabric.ci_ready[$i].next = self.$core.in_ready.val();
                    self.$core.in_kind.next = self.fabric.ci_item[$i].val().get_bits::<2>(45);
                    self.$core.in_c.next = bit_cast::<16, 11>(self.fabric.ci_item[$i].val().get_bits::<11>(30));
                    self.$core.in_f.next = bit_cast::<16, 11>(self.fabric.ci_item[$i].val().get_bits::<11>(30));
                    self.$core.in_x.next = bit_cast::<16, 7>(self.fabric.ci_item[$i].val().get_bits::<7>(23));
                    self.$core.in_y.next = bit_cast::<16, 7>(self.fabric.ci_item[$i].val().get_bits::<7>(16));
                    self.$core.in_value.next = self.fabric.ci_item[$i].val().get_bits::<16>(0);
                    self.fabric.co_valid[$i].next = self.$core.out_valid.val();
                    self.$core.out_ready.next = self.fabric.co_ready[$i].val();
                    if self.$core.out_kind.val() {
                        self.fabric.co_word[$i].next = 0x4000_0000_0000_u64.into();
                    } else {
                        self.fabric.co_word[$i].next = 0x2000_0000_0000_u64.into();
                    }
                    self.fabric.co_word[$i].next = self.fabric.co_word[$i].val()
                        | (bit_cast::<47, 10>(self.$core.out_f.val()) << 30)
                        | (bit_cast::<47, 6>(self.$core.out_x.val()) << 23)
                        | (bit_cast::<47, 6>(self.$core.out_y.val()) << 16)
                        | bit_cast::<47, 16>(self.$core.out_value.val());
                    self.fabric.core_idle[$i].next = self.$core.idle.val() && !self.$core.out_valid.val();
                    self.$ov.next = self.fabric.ci_valid[$i].val() && self.$core.in_ready.val();
                    self.$oi.next = self.fabric.ci_item[$i].val();
                    self.$err.next = self.$core.err_count.val();
                    self.$drop.next = self.fabric.drops[$i].val();
                )*
                self.$dd.next = self.fabric.drops[$n].val();
            }
        }
    };
}

crate::for_each_chip!(define_chip_top);

// keep the word layout and the HDL literals in one place
const _: () = assert!(word::BITS == 47 && word::KIND == 45 && word::LAYER == 41 && word::A == 30);
