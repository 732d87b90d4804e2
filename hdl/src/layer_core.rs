//! # LayerCore — one convolution core (spec §2, §3, §4, §6, §8)
//!
//! **Purpose.** Holds one layer's kernel, bias and neuron memories and
//! processes the core input stream item by item, bit-exact with
//! `spikehdl_model::CoreModel`: input spikes update the neurons in the spec
//! §4 order (ky, kx, f ascending; invalid taps are skipped and cost no
//! cycle), leak ticks update every neuron in neuron-address order with its
//! feature's bias (§6, only with leak_enable), and neuron write/read items are
//! served in stream order. Every update follows §3: zero-weight skip,
//! saturating add, spike if ≥ threshold_high, reset to 0 or subtract,
//! floor at threshold_low. The configuration map is [`crate::regmap`].
//!
//! **Ports** (flat scalars; widths in [`crate::regmap::width`]):
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | rising-edge clock |
//! | `reset` | in | 1 | synchronous, active high: empties the pipeline and output queue, clears `err_count`, holds `in_ready` low; keeps configuration and memories |
//! | `in_valid`, `in_ready` | in, out | 1, 1 | input stream handshake |
//! | `in_kind` | in | 2 | 0 spike, 1 leak tick, 2 write neuron, 3 read neuron |
//! | `in_c`, `in_x`, `in_y`, `in_f` | in | 16 each | spike: c, x, y; write/read: f, x, y |
//! | `in_value` | in | 16 | write neuron: int16 value |
//! | `out_valid`, `out_ready` | out, in | 1, 1 | output stream handshake |
//! | `out_kind` | out | 1 | 0 output spike, 1 neuron value |
//! | `out_f`, `out_x`, `out_y` | out | 10, 6, 6 | neuron of the spike / value |
//! | `out_value` | out | 16 | neuron value (0 for spikes) |
//! | `cfg_valid`, `cfg_addr`, `cfg_data` | in | 1, 20, 32 | one configuration write per cycle with `cfg_valid` high |
//! | `idle` | out | 1 | no item in progress and the update pipeline is empty |
//! | `err_count` | out | 32 | items dropped for lying outside the configured shapes (§4 **[decision]**) |
//!
//! **Stream contract** (both streams): a transfer happens on a rising clock
//! edge where valid and ready are both high. Once valid rises, the payload
//! holds until the transfer; valid never waits for ready; ready may change
//! at any time. Output backpressure (`out_ready` low) stalls the core and
//! loses nothing.
//!
//! **Configuration.** `cfg_valid` writes may only happen while `idle` is high
//! and `in_valid` is low; a write at any other time is undefined. Registers
//! and memories keep their values across `reset`. A write to the neuron
//! region passes through the M2 registers (`m2_naddr`, `m2_s16`,
//! selected by the registered `m2_cfgw` / `m2_ovr`) and reaches the memory one edge
//! later than the other regions, before any item presented afterwards can
//! read it (the first neuron read of an item is two edges after its transfer).
//!
//! **Pipeline.** Decode (D) -> Issue (I) -> M1 -> M2 -> output queue (4 entries).
//! - D: an item is transferred into the decode registers: shape check flag
//!   (`d_ok`), the first valid tap (oxhi, oyhi, kx0, ky0) and the kernel
//!   channel base; a leak tick without leak_enable is dropped here. An
//!   out-of-shape spike or neuron item is counted in `err_count` when I
//!   takes it, and costs one issue cycle without an operation.
//! - I: takes the decoded item (kernel row index ky0·k by a balanced
//!   shift-and-add tree); from the next cycle on, one neuron operation per
//!   cycle is issued (kernel, bias and neuron memory read addresses
//!   presented). I takes the next item from D in the cycle that issues the
//!   last operation of the current one, and D takes the next input item in
//!   that same cycle, so updates run back to back across items. A spike with
//!   no valid tap passes D and I without an operation (one idle issue cycle).
//! - M1: memory data arrive (synchronous-read RAMs); operand select
//!   (forwarding) and the 17-bit saturating add v + w; registered.
//! - M2: spike compare with threshold_high, reset to 0 or subtract, floor at
//!   threshold_low (the three compares run in parallel: s < tl and
//!   s − th < tl as s < tl + th, exact because th ≥ 1), written back on the
//!   next edge, and a spike or neuron value is pushed into the output queue.
//!   Reset-to-zero is folded into two derived registers (`r_thsum_b` all
//!   ones, `r_k0` = max(tl, 0)) and write items carry their value in
//!   `m2_s16` with the compares killed by the registered `m2_ovr`, so the
//!   written word is two 2:1 mux levels after the compares (iCE40 UP5K:
//!   from 29.5 to ≥ 30 MHz, see docs/fpga.md).
//! - Read-after-write on one neuron (same f, x, y): an operation issued while
//!   the M2 operation writes its neuron reads the old word on the write
//!   edge; the match is registered at issue (`m_fwd`) and M1 takes the
//!   write-back register `fw_data` instead (distance 2). An operation
//!   whose neuron is the one in M1 (distance 1, possible only between the
//!   last operation of one item and the first of the next, or between leak
//!   ticks of a single-neuron layer: inside an item consecutive operations
//!   differ in f or in the tap) is flagged at issue (`m_fwd1`) and M1 takes
//!   M2's result combinationally (`m2_new`) — no stall, one update per clock
//!   also on back-to-back updates of one neuron. Single-port presets hold
//!   such an operation one cycle instead (`hazard`), keeping that path out
//!   of their M1. Distance ≥ 3 reads the written word from the RAM.
//! - Credit: I issues only if the output queue can take every operation in
//!   flight (queue count + M1 + M2 occupancy ≤ 3), so M1 and M2 never stall;
//!   with `out_ready` held high the core sustains one update per clock.
//! - Single-port neuron memory (presets with `neuron_single_port`, for
//!   iCE40 UP5K SPRAM, see [`crate::neuron_ram`]): I also waits while M2
//!   holds an operation, because M2's write-back uses the memory's only
//!   port; two reads then two write-backs alternate and the core sustains one
//!   update every two clocks. Results are identical; only the cycle counts
//!   differ.
//! - Registers derived from the configuration (`r_fl`, `r_wl`, `r_hl`,
//!   `r_thsum_b`, `r_k0`) follow it one cycle later; the stages that use them
//!   start at least two cycles after the last configuration write.
//!
//! **Latency.** For an item transferred on edge E0 into an idle core: I
//! takes it on E1, its first operation is issued in the cycle after E1, its
//! first neuron write happens on edge E4, and its first output is on the
//! output port (out_valid high) after E4, i.e. it can be transferred on E5
//! at the earliest. While the core is busy, D holds the next item and it
//! follows the current one without a gap. An input spike with T valid taps
//! occupies the issue stage for T·F cycles (2·T·F with a single-port neuron
//! memory); a leak tick F·H·W.
//!
//! **Undefined.** Configuration writes while busy; register values outside
//! the ranges of [`crate::regmap`]; memory offsets at or beyond the preset's
//! capacity (they alias); a layer larger than the memories.

use rust_hdl::prelude::*;
use rust_hdl::widgets::prelude::{DFF, RAM};

use crate::neuron_ram::NeuronRam;
use crate::regmap;

/// `comment!("...")` inside `#[hdl_gen]` code becomes a Verilog comment;
/// in the Rust simulation it does nothing.
macro_rules! comment {
    ($($t:tt)*) => {};
}

/// Issue-stage mode codes (`s_mode`).
mod mode {
    pub const IDLE: u64 = 0;
    pub const SPIKE: u64 = 1;
    pub const LEAK: u64 = 2;
    pub const WRITE: u64 = 3;
    pub const READ: u64 = 4;
}

/// One convolution core; `KA`, `NA`, `BA` are the kernel, neuron and bias
/// memory address widths (see [`crate::presets`]).
#[derive(LogicBlock)]
pub struct LayerCore<const KA: usize, const NA: usize, const BA: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_kind: Signal<In, Bits<2>>,
    pub in_c: Signal<In, Bits<16>>,
    pub in_x: Signal<In, Bits<16>>,
    pub in_y: Signal<In, Bits<16>>,
    pub in_f: Signal<In, Bits<16>>,
    pub in_value: Signal<In, Bits<16>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_kind: Signal<Out, Bit>,
    pub out_f: Signal<Out, Bits<10>>,
    pub out_x: Signal<Out, Bits<6>>,
    pub out_y: Signal<Out, Bits<6>>,
    pub out_value: Signal<Out, Bits<16>>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<20>>,
    pub cfg_data: Signal<In, Bits<32>>,
    pub idle: Signal<Out, Bit>,
    pub err_count: Signal<Out, Bits<32>>,

    // Memories (no initial contents: the host loads them).
    kmem: RAM<Bits<8>, KA>,
    nmem: NeuronRam<NA>,
    bmem: RAM<Bits<16>, BA>,

    // Constants from the register map and the item kind codes.
    reg_c: Constant<Bits<16>>,
    reg_w_in: Constant<Bits<16>>,
    reg_h_in: Constant<Bits<16>>,
    reg_k: Constant<Bits<16>>,
    reg_lsx: Constant<Bits<16>>,
    reg_lsy: Constant<Bits<16>>,
    reg_pad_x: Constant<Bits<16>>,
    reg_pad_y: Constant<Bits<16>>,
    reg_f: Constant<Bits<16>>,
    reg_w_out: Constant<Bits<16>>,
    reg_h_out: Constant<Bits<16>>,
    reg_kb: Constant<Bits<16>>,
    reg_fb: Constant<Bits<16>>,
    reg_xb: Constant<Bits<16>>,
    reg_yb: Constant<Bits<16>>,
    reg_thh: Constant<Bits<16>>,
    reg_thl: Constant<Bits<16>>,
    reg_flags: Constant<Bits<16>>,
    region_regs: Constant<Bits<4>>,
    region_kernel: Constant<Bits<4>>,
    region_neuron: Constant<Bits<4>>,
    region_bias: Constant<Bits<4>>,
    kind_spike: Constant<Bits<2>>,
    kind_leak: Constant<Bits<2>>,
    kind_write: Constant<Bits<2>>,
    kind_read: Constant<Bits<2>>,
    mode_idle: Constant<Bits<3>>,
    mode_spike: Constant<Bits<3>>,
    mode_leak: Constant<Bits<3>>,
    mode_write: Constant<Bits<3>>,
    mode_read: Constant<Bits<3>>,
    /// Neuron memory is single-port (FPGA SPRAM): issue only when M will not write.
    sp_mode: Constant<Bit>,

    // Configuration registers.
    r_c: DFF<Bits<11>>,
    r_w_in: DFF<Bits<8>>,
    r_h_in: DFF<Bits<8>>,
    r_k: DFF<Bits<5>>,
    r_lsx: DFF<Bits<2>>,
    r_lsy: DFF<Bits<2>>,
    r_pad_x: DFF<Bits<3>>,
    r_pad_y: DFF<Bits<3>>,
    r_f: DFF<Bits<11>>,
    r_w_out: DFF<Bits<7>>,
    r_h_out: DFF<Bits<7>>,
    r_kb: DFF<Bits<4>>,
    r_fb: DFF<Bits<4>>,
    r_xb: DFF<Bits<3>>,
    r_yb: DFF<Bits<3>>,
    r_thh: DFF<Bits<16>>,
    r_thl: DFF<Bits<16>>,
    r_rtz: DFF<Bit>,
    r_leak: DFF<Bit>,
    /// Derived every cycle from the thresholds (configuration is static while
    /// items are in flight): threshold_low + threshold_high as 17-bit signed,
    /// sign bit flipped (all ones with reset-to-zero, so that the floor
    /// compare selects `r_k0`); the word a spiking neuron gets when it is
    /// floored or reset to zero: max(threshold_low, 0) with reset-to-zero,
    /// threshold_low otherwise.
    r_thsum_b: DFF<Bits<17>>,
    r_k0: DFF<Bits<16>>,
    /// F-1, W_out-1, H_out-1 registered for the issue stage (which starts at
    /// least two cycles after the last configuration write).
    r_fl: DFF<Bits<10>>,
    r_wl: DFF<Bits<6>>,
    r_hl: DFF<Bits<6>>,

    // Decode stage (D): one accepted item, its first tap precomputed.
    d_valid: DFF<Bit>,
    d_mode: DFF<Bits<3>>,
    d_kx0: DFF<Bits<8>>,
    d_ky0: DFF<Bits<8>>,
    d_ox: DFF<Bits<6>>,
    d_oy: DFF<Bits<6>>,
    d_f: DFF<Bits<10>>,
    d_cbase: DFF<Bits<KA>>,
    d_value: DFF<Bits<16>>,
    /// The item lies inside the configured shapes (else it is counted in err when I takes it).
    d_ok: DFF<Bit>,

    // Issue stage state.
    s_mode: DFF<Bits<3>>,
    s_f: DFF<Bits<10>>,
    s_ox: DFF<Bits<6>>,
    s_oy: DFF<Bits<6>>,
    s_kx: DFF<Bits<5>>,
    s_ky: DFF<Bits<5>>,
    s_t: DFF<Bits<8>>,
    s_trow: DFF<Bits<8>>,
    s_kx0: DFF<Bits<5>>,
    s_ox0: DFF<Bits<6>>,
    s_cbase: DFF<Bits<KA>>,
    /// Another valid tap follows in this kernel row / column (registered x_more, y_more).
    s_xm: DFF<Bit>,
    s_xm0: DFF<Bit>,
    s_ym: DFF<Bit>,
    s_value: DFF<Bits<16>>,

    // M1 stage registers (operand select, saturating add).
    m_valid: DFF<Bit>,
    m_kind: DFF<Bits<2>>,
    m_f: DFF<Bits<10>>,
    m_x: DFF<Bits<6>>,
    m_y: DFF<Bits<6>>,
    m_naddr: DFF<Bits<NA>>,
    m_value: DFF<Bits<16>>,
    /// Registered address match: the operation in M2 when this one was
    /// issued writes this neuron (its RAM read missed that write).
    m_fwd: DFF<Bit>,
    /// Registered match: the operation in M1 when this one was issued
    /// updates this neuron (dual-port only; forwarded from M2's result).
    m_fwd1: DFF<Bit>,

    // M2 stage registers (thresholds, reset, floor, write-back, output push).
    m2_valid: DFF<Bit>,
    m2_kind: DFF<Bits<2>>,
    m2_f: DFF<Bits<10>>,
    m2_x: DFF<Bits<6>>,
    m2_y: DFF<Bits<6>>,
    m2_naddr: DFF<Bits<NA>>,
    /// Saturated sum v + w.
    m2_s16: DFF<Bits<16>>,
    /// Write: the value to write; read: the neuron value to output.
    m2_val: DFF<Bits<16>>,
    /// The update's weight (or bias) is non-zero.
    m2_wnz: DFF<Bit>,
    /// A write item or a configuration write of the neuron region is in M2:
    /// `m2_s16` holds the value to write and both compares are killed, so
    /// `new16` passes it through (a registered select: no configuration
    /// decode and no kind decode on the compare -> `new16` -> write-data path).
    m2_ovr: DFF<Bit>,
    /// A configuration write of the neuron region was registered into
    /// `m2_naddr` / `m2_val` on the last edge: it is written now.
    m2_cfgw: DFF<Bit>,

    // Write-back forwarding register: the word M2 wrote on the last edge.
    fw_data: DFF<Bits<16>>,

    // Output queue: q0 is the head; {kind[38], f[37:28], x[27:22], y[21:16], value[15:0]}.
    q0: DFF<Bits<39>>,
    q1: DFF<Bits<39>>,
    q2: DFF<Bits<39>>,
    q3: DFF<Bits<39>>,
    q_count: DFF<Bits<3>>,

    err: DFF<Bits<32>>,

    // Combinational signals.
    cfg_region: Signal<Local, Bits<4>>,
    cfg_off: Signal<Local, Bits<16>>,
    cfg_neuron: Signal<Local, Bit>,
    ksh: Signal<Local, Bits<5>>,
    nsh: Signal<Local, Bits<4>>,
    fm1: Signal<Local, Bits<11>>,
    f_last: Signal<Local, Bits<10>>,
    wm1: Signal<Local, Bits<7>>,
    w_last: Signal<Local, Bits<6>>,
    hm1: Signal<Local, Bits<7>>,
    h_last: Signal<Local, Bits<6>>,
    sx5: Signal<Local, Bits<5>>,
    sy5: Signal<Local, Bits<5>>,
    k8: Signal<Local, Bits<8>>,
    active: Signal<Local, Bit>,
    can_issue: Signal<Local, Bit>,
    hazard: Signal<Local, Bit>,
    m2_match: Signal<Local, Bit>,
    m2_wr: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    f_end: Signal<Local, Bit>,
    kx_n: Signal<Local, Bits<5>>,
    kx_nn: Signal<Local, Bits<5>>,
    ky_nn: Signal<Local, Bits<5>>,
    xm_load: Signal<Local, Bit>,
    ym_load: Signal<Local, Bit>,
    ky_n: Signal<Local, Bits<5>>,
    x_more: Signal<Local, Bit>,
    y_more: Signal<Local, Bit>,
    t_x: Signal<Local, Bits<8>>,
    ksy: Signal<Local, Bits<8>>,
    trow_n: Signal<Local, Bits<8>>,
    t_y: Signal<Local, Bits<8>>,
    lx_end: Signal<Local, Bit>,
    ly_end: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    na_f: Signal<Local, Bits<NA>>,
    na_y: Signal<Local, Bits<NA>>,
    naddr: Signal<Local, Bits<NA>>,
    ka_f: Signal<Local, Bits<KA>>,
    kaddr: Signal<Local, Bits<KA>>,
    mk: Signal<Local, Bits<3>>,
    rdy: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    d_take: Signal<Local, Bit>,
    xmask: Signal<Local, Bits<8>>,
    ymask: Signal<Local, Bits<8>>,
    wls: Signal<Local, Bits<8>>,
    hls: Signal<Local, Bits<8>>,
    pa: Signal<Local, Bits<8>>,
    pb: Signal<Local, Bits<8>>,
    spike_in_shape: Signal<Local, Bit>,
    neuron_in_shape: Signal<Local, Bit>,
    ax: Signal<Local, Bits<8>>,
    axs: Signal<Local, Bits<8>>,
    wl8: Signal<Local, Bits<8>>,
    oxhi: Signal<Local, Bits<8>>,
    kx0: Signal<Local, Bits<8>>,
    ay: Signal<Local, Bits<8>>,
    ays: Signal<Local, Bits<8>>,
    hl8: Signal<Local, Bits<8>>,
    oyhi: Signal<Local, Bits<8>>,
    ky0: Signal<Local, Bits<8>>,
    taps_ok: Signal<Local, Bit>,
    p0: Signal<Local, Bits<8>>,
    p1: Signal<Local, Bits<8>>,
    p2: Signal<Local, Bits<8>>,
    p3: Signal<Local, Bits<8>>,
    trow0: Signal<Local, Bits<8>>,
    t0: Signal<Local, Bits<8>>,
    cbase: Signal<Local, Bits<KA>>,
    fwd: Signal<Local, Bit>,
    fwd1: Signal<Local, Bit>,
    m2_new: Signal<Local, Bits<16>>,
    v16: Signal<Local, Bits<16>>,
    w16: Signal<Local, Bits<16>>,
    v17: Signal<Local, Bits<17>>,
    w17: Signal<Local, Bits<17>>,
    sum17: Signal<Local, Bits<17>>,
    sum_b16: Signal<Local, Bit>,
    sum_b15: Signal<Local, Bit>,
    s16: Signal<Local, Bits<16>>,
    s_biased: Signal<Local, Bits<16>>,
    th_biased: Signal<Local, Bits<16>>,
    spike: Signal<Local, Bit>,
    s_sub: Signal<Local, Bits<16>>,
    lo_s: Signal<Local, Bit>,
    lo_sub: Signal<Local, Bit>,
    s17_biased: Signal<Local, Bits<17>>,
    thl17: Signal<Local, Bits<17>>,
    thh17: Signal<Local, Bits<17>>,
    tl_biased: Signal<Local, Bits<16>>,
    new16: Signal<Local, Bits<16>>,
    spike_g: Signal<Local, Bit>,
    lo_s_g: Signal<Local, Bit>,
    sb16: Signal<Local, Bits<16>>,
    nb16: Signal<Local, Bits<16>>,
    ovr_next: Signal<Local, Bit>,
    is_upd: Signal<Local, Bit>,
    do_upd: Signal<Local, Bit>,
    do_write: Signal<Local, Bit>,
    do_read: Signal<Local, Bit>,
    wr_en: Signal<Local, Bit>,
    wr_addr: Signal<Local, Bits<NA>>,
    wr_data: Signal<Local, Bits<16>>,
    pop: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
    nap: Signal<Local, Bits<3>>,
    okind: Signal<Local, Bits<39>>,
    ovalue: Signal<Local, Bits<16>>,
    payload: Signal<Local, Bits<39>>,
}

fn c16(v: u32) -> Constant<Bits<16>> {
    Constant::new(u64::from(v).into())
}
fn c4(v: u32) -> Constant<Bits<4>> {
    Constant::new(u64::from(v).into())
}
fn c2(v: u8) -> Constant<Bits<2>> {
    Constant::new(u64::from(v).into())
}
fn c3(v: u64) -> Constant<Bits<3>> {
    Constant::new(v.into())
}

impl<const KA: usize, const NA: usize, const BA: usize> Default for LayerCore<KA, NA, BA> {
    fn default() -> Self {
        use regmap::reg;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_kind: Default::default(),
            in_c: Default::default(),
            in_x: Default::default(),
            in_y: Default::default(),
            in_f: Default::default(),
            in_value: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_kind: Default::default(),
            out_f: Default::default(),
            out_x: Default::default(),
            out_y: Default::default(),
            out_value: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            idle: Default::default(),
            err_count: Default::default(),
            kmem: Default::default(),
            nmem: Default::default(),
            bmem: Default::default(),
            reg_c: c16(reg::C),
            reg_w_in: c16(reg::W_IN),
            reg_h_in: c16(reg::H_IN),
            reg_k: c16(reg::K),
            reg_lsx: c16(reg::LOG2_STRIDE_X),
            reg_lsy: c16(reg::LOG2_STRIDE_Y),
            reg_pad_x: c16(reg::PAD_X),
            reg_pad_y: c16(reg::PAD_Y),
            reg_f: c16(reg::F),
            reg_w_out: c16(reg::W_OUT),
            reg_h_out: c16(reg::H_OUT),
            reg_kb: c16(reg::KB),
            reg_fb: c16(reg::FB),
            reg_xb: c16(reg::XB),
            reg_yb: c16(reg::YB),
            reg_thh: c16(reg::THRESHOLD_HIGH),
            reg_thl: c16(reg::THRESHOLD_LOW),
            reg_flags: c16(reg::FLAGS),
            region_regs: c4(regmap::REGION_REGS),
            region_kernel: c4(regmap::REGION_KERNEL),
            region_neuron: c4(regmap::REGION_NEURON),
            region_bias: c4(regmap::REGION_BIAS),
            kind_spike: c2(regmap::IN_KIND_SPIKE),
            kind_leak: c2(regmap::IN_KIND_LEAK),
            kind_write: c2(regmap::IN_KIND_WRITE),
            kind_read: c2(regmap::IN_KIND_READ),
            mode_idle: c3(mode::IDLE),
            mode_spike: c3(mode::SPIKE),
            mode_leak: c3(mode::LEAK),
            mode_write: c3(mode::WRITE),
            mode_read: c3(mode::READ),
            sp_mode: Constant::new(false),
            r_c: Default::default(),
            r_w_in: Default::default(),
            r_h_in: Default::default(),
            r_k: Default::default(),
            r_lsx: Default::default(),
            r_lsy: Default::default(),
            r_pad_x: Default::default(),
            r_pad_y: Default::default(),
            r_f: Default::default(),
            r_w_out: Default::default(),
            r_h_out: Default::default(),
            r_kb: Default::default(),
            r_fb: Default::default(),
            r_xb: Default::default(),
            r_yb: Default::default(),
            r_thh: Default::default(),
            r_thl: Default::default(),
            r_rtz: Default::default(),
            r_leak: Default::default(),
            r_thsum_b: Default::default(),
            r_k0: Default::default(),
            r_fl: Default::default(),
            r_wl: Default::default(),
            r_hl: Default::default(),
            d_valid: Default::default(),
            d_mode: Default::default(),
            d_kx0: Default::default(),
            d_ky0: Default::default(),
            d_ox: Default::default(),
            d_oy: Default::default(),
            d_f: Default::default(),
            d_cbase: Default::default(),
            d_value: Default::default(),
            d_ok: Default::default(),
            s_mode: Default::default(),
            s_f: Default::default(),
            s_ox: Default::default(),
            s_oy: Default::default(),
            s_kx: Default::default(),
            s_ky: Default::default(),
            s_t: Default::default(),
            s_trow: Default::default(),
            s_kx0: Default::default(),
            s_ox0: Default::default(),
            s_cbase: Default::default(),
            s_xm: Default::default(),
            s_xm0: Default::default(),
            s_ym: Default::default(),
            s_value: Default::default(),
            m_valid: Default::default(),
            m_kind: Default::default(),
            m_f: Default::default(),
            m_x: Default::default(),
            m_y: Default::default(),
            m_naddr: Default::default(),
            m_value: Default::default(),
            m_fwd: Default::default(),
            m_fwd1: Default::default(),
            m2_valid: Default::default(),
            m2_kind: Default::default(),
            m2_f: Default::default(),
            m2_x: Default::default(),
            m2_y: Default::default(),
            m2_naddr: Default::default(),
            m2_s16: Default::default(),
            m2_val: Default::default(),
            m2_wnz: Default::default(),
            m2_ovr: Default::default(),
            m2_cfgw: Default::default(),
            fw_data: Default::default(),
            q0: Default::default(),
            q1: Default::default(),
            q2: Default::default(),
            q3: Default::default(),
            q_count: Default::default(),
            err: Default::default(),
            cfg_region: Default::default(),
            cfg_off: Default::default(),
            cfg_neuron: Default::default(),
            ksh: Default::default(),
            nsh: Default::default(),
            fm1: Default::default(),
            f_last: Default::default(),
            wm1: Default::default(),
            w_last: Default::default(),
            hm1: Default::default(),
            h_last: Default::default(),
            sx5: Default::default(),
            sy5: Default::default(),
            k8: Default::default(),
            active: Default::default(),
            can_issue: Default::default(),
            hazard: Default::default(),
            m2_match: Default::default(),
            m2_wr: Default::default(),
            issue: Default::default(),
            f_end: Default::default(),
            kx_n: Default::default(),
            kx_nn: Default::default(),
            ky_nn: Default::default(),
            xm_load: Default::default(),
            ym_load: Default::default(),
            ky_n: Default::default(),
            x_more: Default::default(),
            y_more: Default::default(),
            t_x: Default::default(),
            ksy: Default::default(),
            trow_n: Default::default(),
            t_y: Default::default(),
            lx_end: Default::default(),
            ly_end: Default::default(),
            last: Default::default(),
            na_f: Default::default(),
            na_y: Default::default(),
            naddr: Default::default(),
            ka_f: Default::default(),
            kaddr: Default::default(),
            mk: Default::default(),
            rdy: Default::default(),
            accept: Default::default(),
            d_take: Default::default(),
            xmask: Default::default(),
            ymask: Default::default(),
            wls: Default::default(),
            hls: Default::default(),
            pa: Default::default(),
            pb: Default::default(),
            spike_in_shape: Default::default(),
            neuron_in_shape: Default::default(),
            ax: Default::default(),
            axs: Default::default(),
            wl8: Default::default(),
            oxhi: Default::default(),
            kx0: Default::default(),
            ay: Default::default(),
            ays: Default::default(),
            hl8: Default::default(),
            oyhi: Default::default(),
            ky0: Default::default(),
            taps_ok: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            trow0: Default::default(),
            t0: Default::default(),
            cbase: Default::default(),
            fwd: Default::default(),
            fwd1: Default::default(),
            m2_new: Default::default(),
            v16: Default::default(),
            w16: Default::default(),
            v17: Default::default(),
            w17: Default::default(),
            sum17: Default::default(),
            sum_b16: Default::default(),
            sum_b15: Default::default(),
            s16: Default::default(),
            s_biased: Default::default(),
            th_biased: Default::default(),
            spike: Default::default(),
            s_sub: Default::default(),
            lo_s: Default::default(),
            lo_sub: Default::default(),
            s17_biased: Default::default(),
            thl17: Default::default(),
            thh17: Default::default(),
            tl_biased: Default::default(),
            new16: Default::default(),
            spike_g: Default::default(),
            lo_s_g: Default::default(),
            sb16: Default::default(),
            nb16: Default::default(),
            ovr_next: Default::default(),
            is_upd: Default::default(),
            do_upd: Default::default(),
            do_write: Default::default(),
            do_read: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            pop: Default::default(),
            push: Default::default(),
            nap: Default::default(),
            okind: Default::default(),
            ovalue: Default::default(),
            payload: Default::default(),
        }
    }
}

impl<const KA: usize, const NA: usize, const BA: usize> LayerCore<KA, NA, BA> {
    /// A core with its top-level inputs marked as driven (as a Verilog top
    /// or a simulation testbench drives them), ready for `check_all`.
    pub fn new_top() -> Self {
        Self::new_top_with_neuron_single_port(false)
    }

    /// A core whose neuron memory is dual-port (false, the default: one
    /// update per clock) or single-port (true: iCE40 UP5K SPRAM, one update
    /// every two clocks); see [`crate::neuron_ram`].
    pub fn with_neuron_single_port(single_port: bool) -> Self {
        Self { nmem: NeuronRam::new(single_port), sp_mode: Constant::new(single_port), ..Self::default() }
    }

    /// [`new_top`](Self::new_top) with the neuron memory form of
    /// [`with_neuron_single_port`](Self::with_neuron_single_port).
    pub fn new_top_with_neuron_single_port(single_port: bool) -> Self {
        let mut c = Self::with_neuron_single_port(single_port);
        c.clock.connect();
        c.reset.connect();
        c.in_valid.connect();
        c.in_kind.connect();
        c.in_c.connect();
        c.in_x.connect();
        c.in_y.connect();
        c.in_f.connect();
        c.in_value.connect();
        c.out_ready.connect();
        c.cfg_valid.connect();
        c.cfg_addr.connect();
        c.cfg_data.connect();
        c.connect_all();
        c
    }
}

impl<const KA: usize, const NA: usize, const BA: usize> Logic for LayerCore<KA, NA, BA> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r_c, r_w_in, r_h_in, r_k, r_lsx, r_lsy, r_pad_x, r_pad_y, r_f, r_w_out, r_h_out, r_kb,
            r_fb, r_xb, r_yb, r_thh, r_thl, r_rtz, r_leak, r_thsum_b, r_k0, r_fl, r_wl, r_hl, d_valid, d_mode, d_kx0, d_ky0, d_ox, d_oy, d_f, d_cbase, d_value, d_ok, s_mode, s_f, s_ox, s_oy, s_kx, s_ky, s_t, s_trow,
            s_kx0, s_ox0, s_cbase, s_xm, s_xm0, s_ym, s_value, m_valid, m_kind, m_f, m_x, m_y, m_naddr, m_value, m_fwd, m_fwd1,
            m2_valid, m2_kind, m2_f, m2_x, m2_y, m2_naddr, m2_s16, m2_val, m2_wnz, m2_ovr, m2_cfgw, fw_data, q0, q1, q2, q3,
            q_count, err
        );
        self.kmem.read_clock.next = self.clock.val();
        self.kmem.write_clock.next = self.clock.val();
        self.nmem.read_clock.next = self.clock.val();
        self.nmem.write_clock.next = self.clock.val();
        self.bmem.read_clock.next = self.clock.val();
        self.bmem.write_clock.next = self.clock.val();

        // ---------------- configuration writes
        self.cfg_region.next = self.cfg_addr.val().get_bits::<4>(16);
        self.cfg_off.next = self.cfg_addr.val().get_bits::<16>(0);
        if self.cfg_valid.val() && (self.cfg_region.val() == self.region_regs.val()) {
            if self.cfg_off.val() == self.reg_c.val() {
                self.r_c.d.next = self.cfg_data.val().get_bits::<11>(0);
            }
            if self.cfg_off.val() == self.reg_w_in.val() {
                self.r_w_in.d.next = self.cfg_data.val().get_bits::<8>(0);
            }
            if self.cfg_off.val() == self.reg_h_in.val() {
                self.r_h_in.d.next = self.cfg_data.val().get_bits::<8>(0);
            }
            if self.cfg_off.val() == self.reg_k.val() {
                self.r_k.d.next = self.cfg_data.val().get_bits::<5>(0);
            }
            if self.cfg_off.val() == self.reg_lsx.val() {
                self.r_lsx.d.next = self.cfg_data.val().get_bits::<2>(0);
            }
            if self.cfg_off.val() == self.reg_lsy.val() {
                self.r_lsy.d.next = self.cfg_data.val().get_bits::<2>(0);
            }
            if self.cfg_off.val() == self.reg_pad_x.val() {
                self.r_pad_x.d.next = self.cfg_data.val().get_bits::<3>(0);
            }
            if self.cfg_off.val() == self.reg_pad_y.val() {
                self.r_pad_y.d.next = self.cfg_data.val().get_bits::<3>(0);
            }
            if self.cfg_off.val() == self.reg_f.val() {
                self.r_f.d.next = self.cfg_data.val().get_bits::<11>(0);
            }
            if self.cfg_off.val() == self.reg_w_out.val() {
                self.r_w_out.d.next = self.cfg_data.val().get_bits::<7>(0);
            }
            if self.cfg_off.val() == self.reg_h_out.val() {
                self.r_h_out.d.next = self.cfg_data.val().get_bits::<7>(0);
            }
            if self.cfg_off.val() == self.reg_kb.val() {
                self.r_kb.d.next = self.cfg_data.val().get_bits::<4>(0);
            }
            if self.cfg_off.val() == self.reg_fb.val() {
                self.r_fb.d.next = self.cfg_data.val().get_bits::<4>(0);
            }
            if self.cfg_off.val() == self.reg_xb.val() {
                self.r_xb.d.next = self.cfg_data.val().get_bits::<3>(0);
            }
            if self.cfg_off.val() == self.reg_yb.val() {
                self.r_yb.d.next = self.cfg_data.val().get_bits::<3>(0);
            }
            if self.cfg_off.val() == self.reg_thh.val() {
                self.r_thh.d.next = self.cfg_data.val().get_bits::<16>(0);
            }
            if self.cfg_off.val() == self.reg_thl.val() {
                self.r_thl.d.next = self.cfg_data.val().get_bits::<16>(0);
            }
            if self.cfg_off.val() == self.reg_flags.val() {
                self.r_rtz.d.next = self.cfg_data.val().get_bit(0);
                self.r_leak.d.next = self.cfg_data.val().get_bit(1);
            }
        }
        self.kmem.write_enable.next =
            self.cfg_valid.val() && (self.cfg_region.val() == self.region_kernel.val());
        self.kmem.write_address.next = bit_cast::<KA, 16>(self.cfg_off.val());
        self.kmem.write_data.next = self.cfg_data.val().get_bits::<8>(0);
        self.bmem.write_enable.next = self.cfg_valid.val() && (self.cfg_region.val() == self.region_bias.val());
        self.bmem.write_address.next = bit_cast::<BA, 16>(self.cfg_off.val());
        self.bmem.write_data.next = self.cfg_data.val().get_bits::<16>(0);

        // ---------------- values derived from the configuration
        comment!("Field shifts of the spec section 2 addresses: kernel c << (kb+fb), neuron f << (xb+yb).");
        self.ksh.next = bit_cast::<5, 4>(self.r_kb.q.val()) + bit_cast::<5, 4>(self.r_fb.q.val());
        self.nsh.next = bit_cast::<4, 3>(self.r_xb.q.val()) + bit_cast::<4, 3>(self.r_yb.q.val());
        self.fm1.next = self.r_f.q.val() - 1;
        self.f_last.next = bit_cast::<10, 11>(self.fm1.val());
        self.wm1.next = self.r_w_out.q.val() - 1;
        self.w_last.next = bit_cast::<6, 7>(self.wm1.val());
        self.hm1.next = self.r_h_out.q.val() - 1;
        self.h_last.next = bit_cast::<6, 7>(self.hm1.val());
        self.sx5.next = bits::<5>(1) << self.r_lsx.q.val();
        self.sy5.next = bits::<5>(1) << self.r_lsy.q.val();
        self.k8.next = bit_cast::<8, 5>(self.r_k.q.val());
        self.r_fl.d.next = self.f_last.val();
        self.r_wl.d.next = self.w_last.val();
        self.r_hl.d.next = self.h_last.val();

        comment!("Threshold-derived registers (see r_thsum_b, r_k0): reset-to-zero folded in, so M2's spike branch is one compare and one mux.");
        if self.r_thl.q.val().get_bit(15) {
            self.thl17.next = bit_cast::<17, 16>(self.r_thl.q.val()) | 0x10000;
        } else {
            self.thl17.next = bit_cast::<17, 16>(self.r_thl.q.val());
        }
        if self.r_thh.q.val().get_bit(15) {
            self.thh17.next = bit_cast::<17, 16>(self.r_thh.q.val()) | 0x10000;
        } else {
            self.thh17.next = bit_cast::<17, 16>(self.r_thh.q.val());
        }
        if self.r_rtz.q.val() {
            comment!("s17_biased is at most 0x17fff: lo_sub always holds and the spike branch writes max(tl, 0).");
            self.r_thsum_b.d.next = 0x1ffff.into();
            if self.r_thl.q.val().get_bit(15) {
                self.r_k0.d.next = 0.into();
            } else {
                self.r_k0.d.next = self.r_thl.q.val();
            }
        } else {
            self.r_thsum_b.d.next = (self.thl17.val() + self.thh17.val()) ^ 0x10000;
            self.r_k0.d.next = self.r_thl.q.val();
        }

        // ---------------- what the operation in M2 does (registered flags only)
        self.is_upd.next = self.m2_valid.q.val() && !self.m2_kind.q.val().get_bit(1);
        comment!("Zero weights are killed: no write, no spike check.");
        self.do_upd.next = self.is_upd.val() && self.m2_wnz.q.val();
        self.do_write.next = self.m2_valid.q.val() && (self.m2_kind.q.val() == 2);
        self.do_read.next = self.m2_valid.q.val() && (self.m2_kind.q.val() == 3);
        self.m2_wr.next = self.do_upd.val() || self.do_write.val();

        // ---------------- issue stage
        comment!("Credit: issue only if the output queue can absorb every operation in flight (M1 and M2), so M1/M2 never stall.");
        self.active.next = self.s_mode.q.val() != self.mode_idle.val();
        self.can_issue.next = !((self.q_count.q.val() == 4)
            || ((self.q_count.q.val() == 3) && (self.m_valid.q.val() || self.m2_valid.q.val()))
            || ((self.q_count.q.val() == 2) && self.m_valid.q.val() && self.m2_valid.q.val()));
        comment!("Read-after-write at distance 1: the operation in M1 updates the same neuron (f, x, y) and writes only");
        comment!("at the end of the next cycle. Dual-port: M1 takes M2's result then (m_fwd1). Single-port: wait one cycle.");
        self.hazard.next = self.m_valid.q.val()
            && (self.s_f.q.val() == self.m_f.q.val())
            && (self.s_ox.q.val() == self.m_x.q.val())
            && (self.s_oy.q.val() == self.m_y.q.val());
        if self.hazard.val() && self.sp_mode.val() {
            self.can_issue.next = false;
        }
        comment!("Single-port neuron memory: its one port is busy with the M2 write-back whenever M2 holds an operation.");
        if self.sp_mode.val() && self.m2_valid.q.val() {
            self.can_issue.next = false;
        }
        self.issue.next = self.active.val() && self.can_issue.val();
        comment!("Distance 2: the operation in M2 writes this neuron on the edge that reads it; M1 takes fw_data instead.");
        self.m2_match.next = (self.s_f.q.val() == self.m2_f.q.val())
            && (self.s_ox.q.val() == self.m2_x.q.val())
            && (self.s_oy.q.val() == self.m2_y.q.val());

        self.f_end.next = self.s_f.q.val() == self.r_fl.q.val();
        comment!("Next tap: kx and ky step by the stride, so taps on the wrong stride phase are never visited.");
        self.kx_n.next = self.s_kx.q.val() + self.sx5.val();
        self.ky_n.next = self.s_ky.q.val() + self.sy5.val();
        comment!("x_more = (kx + sx < k) && (ox != 0), y_more likewise, are kept in registers (s_xm, s_ym) computed one");
        comment!("step ahead, so the item-end decision (and in_ready) does not wait for an adder and a compare.");
        self.x_more.next = self.s_xm.q.val();
        self.y_more.next = self.s_ym.q.val();
        self.kx_nn.next = self.kx_n.val() + self.sx5.val();
        self.ky_nn.next = self.ky_n.val() + self.sy5.val();
        self.t_x.next = self.s_t.q.val() + bit_cast::<8, 5>(self.sx5.val());
        self.ksy.next = self.k8.val() << self.r_lsy.q.val();
        self.trow_n.next = self.s_trow.q.val() + self.ksy.val();
        self.t_y.next = self.trow_n.val() + bit_cast::<8, 5>(self.s_kx0.q.val());
        self.lx_end.next = self.s_ox.q.val() == self.r_wl.q.val();
        self.ly_end.next = self.s_oy.q.val() == self.r_hl.q.val();
        self.last.next = true;
        if self.s_mode.q.val() == self.mode_spike.val() {
            self.last.next = self.f_end.val() && !self.x_more.val() && !self.y_more.val();
        }
        if self.s_mode.q.val() == self.mode_leak.val() {
            self.last.next = self.f_end.val() && self.lx_end.val() && self.ly_end.val();
        }

        self.na_f.next = bit_cast::<NA, 10>(self.s_f.q.val()) << self.nsh.val();
        self.na_y.next = bit_cast::<NA, 6>(self.s_oy.q.val()) << self.r_xb.q.val();
        self.naddr.next = self.na_f.val() | self.na_y.val() | bit_cast::<NA, 6>(self.s_ox.q.val());
        self.ka_f.next = bit_cast::<KA, 10>(self.s_f.q.val()) << self.r_kb.q.val();
        self.kaddr.next = self.s_cbase.q.val() | self.ka_f.val() | bit_cast::<KA, 8>(self.s_t.q.val());
        self.kmem.read_address.next = self.kaddr.val();
        self.nmem.read_address.next = self.naddr.val();
        self.bmem.read_address.next = bit_cast::<BA, 10>(self.s_f.q.val());
        self.mk.next = self.s_mode.q.val() - 1;

        self.m_valid.d.next = false;
        if self.issue.val() {
            self.m_valid.d.next = true;
            self.m_kind.d.next = bit_cast::<2, 3>(self.mk.val());
            self.m_f.d.next = self.s_f.q.val();
            self.m_x.d.next = self.s_ox.q.val();
            self.m_y.d.next = self.s_oy.q.val();
            self.m_naddr.d.next = self.naddr.val();
            self.m_value.d.next = self.s_value.q.val();
            self.m_fwd.d.next = self.m2_wr.val() && self.m2_match.val();
            self.m_fwd1.d.next = self.hazard.val() && !self.sp_mode.val();
            if self.s_mode.q.val() == self.mode_spike.val() {
                if !self.f_end.val() {
                    self.s_f.d.next = self.s_f.q.val() + 1;
                } else {
                    self.s_f.d.next = 0.into();
                    if self.x_more.val() {
                        self.s_kx.d.next = self.kx_n.val();
                        self.s_ox.d.next = self.s_ox.q.val() - 1;
                        self.s_t.d.next = self.t_x.val();
                        self.s_xm.d.next = (self.kx_nn.val() < self.r_k.q.val()) && (self.s_ox.q.val() != 1);
                    } else {
                        self.s_ky.d.next = self.ky_n.val();
                        self.s_oy.d.next = self.s_oy.q.val() - 1;
                        self.s_trow.d.next = self.trow_n.val();
                        self.s_t.d.next = self.t_y.val();
                        self.s_kx.d.next = self.s_kx0.q.val();
                        self.s_ox.d.next = self.s_ox0.q.val();
                        self.s_xm.d.next = self.s_xm0.q.val();
                        self.s_ym.d.next = (self.ky_nn.val() < self.r_k.q.val()) && (self.s_oy.q.val() != 1);
                    }
                }
            }
            if self.s_mode.q.val() == self.mode_leak.val() {
                if !self.lx_end.val() {
                    self.s_ox.d.next = self.s_ox.q.val() + 1;
                } else {
                    self.s_ox.d.next = 0.into();
                    if !self.ly_end.val() {
                        self.s_oy.d.next = self.s_oy.q.val() + 1;
                    } else {
                        self.s_oy.d.next = 0.into();
                        self.s_f.d.next = self.s_f.q.val() + 1;
                    }
                }
            }
            if self.last.val() {
                self.s_mode.d.next = self.mode_idle.val();
            }
        }

        // ---------------- input acceptance (into D)
        comment!("I takes the decoded item in the cycle that issues the last operation of the current one (or when idle);");
        comment!("D takes the next input item in that same cycle, so items flow back to back.");
        self.d_take.next = !self.active.val() || (self.issue.val() && self.last.val());
        self.rdy.next = !self.reset.val() && (!self.d_valid.q.val() || self.d_take.val());
        self.in_ready.next = self.rdy.val();
        self.accept.next = self.rdy.val() && self.in_valid.val();
        comment!("Shape checks as narrow compares plus zero tests of the high bits (short carry chains).");
        self.spike_in_shape.next = (self.in_c.val().get_bits::<5>(11) == 0)
            && (self.in_c.val().get_bits::<11>(0) < self.r_c.q.val())
            && (self.in_x.val().get_bits::<8>(8) == 0)
            && (self.in_x.val().get_bits::<8>(0) < self.r_w_in.q.val())
            && (self.in_y.val().get_bits::<8>(8) == 0)
            && (self.in_y.val().get_bits::<8>(0) < self.r_h_in.q.val());
        self.neuron_in_shape.next = (self.in_f.val().get_bits::<5>(11) == 0)
            && (self.in_f.val().get_bits::<11>(0) < self.r_f.q.val())
            && (self.in_x.val().get_bits::<9>(7) == 0)
            && (self.in_x.val().get_bits::<7>(0) < self.r_w_out.q.val())
            && (self.in_y.val().get_bits::<9>(7) == 0)
            && (self.in_y.val().get_bits::<7>(0) < self.r_h_out.q.val());
        comment!("First valid tap: largest output coordinate reachable (oxhi = min(ax >> lsx, w_last)), then the kernel");
        comment!("offset that reaches it, kx0 = ax - (oxhi << lsx): the low lsx bits of ax, or ax - (w_last << lsx).");
        self.xmask.next = bit_cast::<8, 5>(self.sx5.val()) - 1;
        self.ymask.next = bit_cast::<8, 5>(self.sy5.val()) - 1;
        self.wl8.next = bit_cast::<8, 6>(self.w_last.val());
        self.hl8.next = bit_cast::<8, 6>(self.h_last.val());
        self.wls.next = self.wl8.val() << self.r_lsx.q.val();
        self.hls.next = self.hl8.val() << self.r_lsy.q.val();
        self.ax.next = bit_cast::<8, 16>(self.in_x.val()) + bit_cast::<8, 3>(self.r_pad_x.q.val());
        self.axs.next = self.ax.val() >> self.r_lsx.q.val();
        if self.axs.val() < self.wl8.val() {
            self.oxhi.next = self.axs.val();
            self.kx0.next = self.ax.val() & self.xmask.val();
        } else {
            self.oxhi.next = self.wl8.val();
            self.kx0.next = self.ax.val() - self.wls.val();
        }
        self.ay.next = bit_cast::<8, 16>(self.in_y.val()) + bit_cast::<8, 3>(self.r_pad_y.q.val());
        self.ays.next = self.ay.val() >> self.r_lsy.q.val();
        if self.ays.val() < self.hl8.val() {
            self.oyhi.next = self.ays.val();
            self.ky0.next = self.ay.val() & self.ymask.val();
        } else {
            self.oyhi.next = self.hl8.val();
            self.ky0.next = self.ay.val() - self.hls.val();
        }
        self.cbase.next = bit_cast::<KA, 16>(self.in_c.val()) << self.ksh.val();

        if self.d_take.val() {
            self.d_valid.d.next = false;
        }
        if self.accept.val() {
            self.d_mode.d.next = self.mode_idle.val();
            self.d_kx0.d.next = self.kx0.val();
            self.d_ky0.d.next = self.ky0.val();
            self.d_ox.d.next = bit_cast::<6, 8>(self.oxhi.val());
            self.d_oy.d.next = bit_cast::<6, 8>(self.oyhi.val());
            self.d_f.d.next = 0.into();
            self.d_cbase.d.next = self.cbase.val();
            self.d_value.d.next = self.in_value.val();
            self.d_ok.d.next = self.spike_in_shape.val();
            if self.in_kind.val() == self.kind_spike.val() {
                self.d_valid.d.next = true;
                self.d_mode.d.next = self.mode_spike.val();
            }
            if (self.in_kind.val() == self.kind_leak.val()) && self.r_leak.q.val() {
                self.d_valid.d.next = true;
                self.d_mode.d.next = self.mode_leak.val();
                self.d_ox.d.next = 0.into();
                self.d_oy.d.next = 0.into();
            }
            if (self.in_kind.val() == self.kind_write.val()) || (self.in_kind.val() == self.kind_read.val()) {
                self.d_valid.d.next = true;
                self.d_ok.d.next = self.neuron_in_shape.val();
                if self.in_kind.val() == self.kind_write.val() {
                    self.d_mode.d.next = self.mode_write.val();
                } else {
                    self.d_mode.d.next = self.mode_read.val();
                }
                self.d_f.d.next = self.in_f.val().get_bits::<10>(0);
                self.d_ox.d.next = self.in_x.val().get_bits::<6>(0);
                self.d_oy.d.next = self.in_y.val().get_bits::<6>(0);
            }
        }

        // ---------------- D -> I: the first tap's kernel index
        self.taps_ok.next = (self.d_kx0.q.val() < self.k8.val()) && (self.d_ky0.q.val() < self.k8.val());
        comment!("ky0 * k by shift-and-add, as a balanced tree (ky0 < 16 whenever it is used).");
        self.p0.next = 0.into();
        if self.d_ky0.q.val().get_bit(0) {
            self.p0.next = self.k8.val();
        }
        self.p1.next = 0.into();
        if self.d_ky0.q.val().get_bit(1) {
            self.p1.next = self.k8.val() << 1;
        }
        self.p2.next = 0.into();
        if self.d_ky0.q.val().get_bit(2) {
            self.p2.next = self.k8.val() << 2;
        }
        self.p3.next = 0.into();
        if self.d_ky0.q.val().get_bit(3) {
            self.p3.next = self.k8.val() << 3;
        }
        self.pa.next = self.p0.val() + self.p1.val();
        self.pb.next = self.p2.val() + self.p3.val();
        self.trow0.next = self.pa.val() + self.pb.val();
        self.t0.next = self.trow0.val() + self.d_kx0.q.val();
        self.xm_load.next = ((self.d_kx0.q.val() + bit_cast::<8, 5>(self.sx5.val())) < self.k8.val()) && (self.d_ox.q.val() != 0);
        self.ym_load.next = ((self.d_ky0.q.val() + bit_cast::<8, 5>(self.sy5.val())) < self.k8.val()) && (self.d_oy.q.val() != 0);

        comment!("Out-of-shape spikes and neuron items are counted here and cost one issue cycle (leak ticks are always in shape).");
        if self.d_take.val() && self.d_valid.q.val() && !self.d_ok.q.val() && (self.d_mode.q.val() != self.mode_leak.val()) {
            self.err.d.next = self.err.q.val() + 1;
        }
        if self.d_take.val() && self.d_valid.q.val() && (self.d_ok.q.val() || (self.d_mode.q.val() == self.mode_leak.val())) {
            if self.d_mode.q.val() == self.mode_spike.val() {
                if self.taps_ok.val() {
                    self.s_mode.d.next = self.mode_spike.val();
                    self.s_f.d.next = 0.into();
                    self.s_kx.d.next = bit_cast::<5, 8>(self.d_kx0.q.val());
                    self.s_kx0.d.next = bit_cast::<5, 8>(self.d_kx0.q.val());
                    self.s_ky.d.next = bit_cast::<5, 8>(self.d_ky0.q.val());
                    self.s_ox.d.next = self.d_ox.q.val();
                    self.s_ox0.d.next = self.d_ox.q.val();
                    self.s_oy.d.next = self.d_oy.q.val();
                    self.s_trow.d.next = self.trow0.val();
                    self.s_t.d.next = self.t0.val();
                    self.s_cbase.d.next = self.d_cbase.q.val();
                    self.s_xm.d.next = self.xm_load.val();
                    self.s_xm0.d.next = self.xm_load.val();
                    self.s_ym.d.next = self.ym_load.val();
                }
            } else {
                self.s_mode.d.next = self.d_mode.q.val();
                self.s_f.d.next = self.d_f.q.val();
                self.s_ox.d.next = self.d_ox.q.val();
                self.s_oy.d.next = self.d_oy.q.val();
                self.s_value.d.next = self.d_value.q.val();
            }
        }

        // ---------------- M2 stage: thresholds, reset, floor, write-back (spec section 3, second half)
        comment!("Signed compares as unsigned compares with the sign bit flipped.");
        self.s_biased.next = self.m2_s16.q.val() ^ 0x8000;
        self.th_biased.next = self.r_thh.q.val() ^ 0x8000;
        self.spike.next = self.s_biased.val() >= self.th_biased.val();
        self.s_sub.next = self.m2_s16.q.val() - self.r_thh.q.val();
        comment!("Floor compares in parallel with the spike compare: s < tl, and (s - th) < tl as s < tl + th");
        comment!("(exact: on a spike s >= th >= 1, so s - th cannot wrap).");
        self.tl_biased.next = self.r_thl.q.val() ^ 0x8000;
        self.lo_s.next = self.s_biased.val() < self.tl_biased.val();
        if self.m2_s16.q.val().get_bit(15) {
            self.s17_biased.next = bit_cast::<17, 16>(self.m2_s16.q.val());
        } else {
            self.s17_biased.next = bit_cast::<17, 16>(self.m2_s16.q.val()) | 0x10000;
        }
        self.lo_sub.next = self.s17_biased.val() < self.r_thsum_b.q.val();
        comment!("Two LUT levels after the compares: m2_ovr (registered) kills both compares, so a write item or a");
        comment!("neuron configuration write (m2_s16 = the value to write) passes m2_s16 through.");
        self.spike_g.next = self.spike.val() && !self.m2_ovr.q.val();
        self.lo_s_g.next = self.lo_s.val() && !self.m2_ovr.q.val();
        if self.lo_sub.val() {
            self.sb16.next = self.r_k0.q.val();
        } else {
            self.sb16.next = self.s_sub.val();
        }
        if self.lo_s_g.val() {
            self.nb16.next = self.r_thl.q.val();
        } else {
            self.nb16.next = self.m2_s16.q.val();
        }
        if self.spike_g.val() {
            self.new16.next = self.sb16.val();
        } else {
            self.new16.next = self.nb16.val();
        }

        comment!("The neuron's word after M2 (written or not): forwarded to M1 at distance 1.");
        if self.do_upd.val() {
            self.m2_new.next = self.new16.val();
        } else {
            self.m2_new.next = self.m2_val.q.val();
        }

        // ---------------- M1 stage: operand select and saturating add (spec section 3, first half)
        comment!("The RAM read missed the write M2 made on the same edge: take the forwarding register (match registered at issue).");
        self.fwd.next = self.m_fwd.q.val();
        self.fwd1.next = self.m_fwd1.q.val();
        if self.fwd1.val() && !self.sp_mode.val() {
            self.v16.next = self.m2_new.val();
        } else if self.fwd.val() {
            self.v16.next = self.fw_data.q.val();
        } else {
            self.v16.next = self.nmem.read_data.val();
        }
        if self.m_kind.q.val() == 1 {
            self.w16.next = self.bmem.read_data.val();
        } else if self.kmem.read_data.val().get_bit(7) {
            self.w16.next = bit_cast::<16, 8>(self.kmem.read_data.val()) | 0xff00;
        } else {
            self.w16.next = bit_cast::<16, 8>(self.kmem.read_data.val());
        }
        comment!("17-bit two's complement sum cannot wrap; saturation is decided by its top two bits.");
        if self.v16.val().get_bit(15) {
            self.v17.next = bit_cast::<17, 16>(self.v16.val()) | 0x10000;
        } else {
            self.v17.next = bit_cast::<17, 16>(self.v16.val());
        }
        if self.w16.val().get_bit(15) {
            self.w17.next = bit_cast::<17, 16>(self.w16.val()) | 0x10000;
        } else {
            self.w17.next = bit_cast::<17, 16>(self.w16.val());
        }
        self.sum17.next = self.v17.val() + self.w17.val();
        self.sum_b16.next = self.sum17.val().get_bit(16);
        self.sum_b15.next = self.sum17.val().get_bit(15);
        if self.sum_b16.val() != self.sum_b15.val() {
            if self.sum_b16.val() {
                self.s16.next = 0x8000.into();
            } else {
                self.s16.next = 0x7fff.into();
            }
        } else {
            self.s16.next = bit_cast::<16, 17>(self.sum17.val());
        }
        self.m2_valid.d.next = self.m_valid.q.val();
        self.m2_kind.d.next = self.m_kind.q.val();
        self.m2_f.d.next = self.m_f.q.val();
        self.m2_x.d.next = self.m_x.q.val();
        self.m2_y.d.next = self.m_y.q.val();
        self.m2_wnz.d.next = self.w16.val() != 0;
        comment!("Config writes of the neuron region go through the M2 registers (the core is idle then, M1 and M2 are empty):");
        comment!("they reach the memory one edge after cfg_valid; like a write item, they pass through new16 (m2_ovr).");
        self.cfg_neuron.next = self.cfg_valid.val() && (self.cfg_region.val() == self.region_neuron.val());
        self.m2_cfgw.d.next = self.cfg_neuron.val();
        self.ovr_next.next = self.cfg_neuron.val() || (self.m_kind.q.val() == 2);
        self.m2_ovr.d.next = self.ovr_next.val();
        if self.cfg_neuron.val() {
            self.m2_naddr.d.next = bit_cast::<NA, 16>(self.cfg_off.val());
            self.m2_val.d.next = self.cfg_data.val().get_bits::<16>(0);
            self.m2_s16.d.next = self.cfg_data.val().get_bits::<16>(0);
        } else if self.m_kind.q.val() == 2 {
            self.m2_naddr.d.next = self.m_naddr.q.val();
            self.m2_val.d.next = self.m_value.q.val();
            self.m2_s16.d.next = self.m_value.q.val();
        } else {
            self.m2_naddr.d.next = self.m_naddr.q.val();
            self.m2_val.d.next = self.v16.val();
            self.m2_s16.d.next = self.s16.val();
        }

        self.wr_en.next = self.m2_wr.val() || self.m2_cfgw.q.val();
        self.wr_addr.next = self.m2_naddr.q.val();
        self.wr_data.next = self.new16.val();
        self.nmem.write_enable.next = self.wr_en.val();
        self.nmem.write_address.next = self.wr_addr.val();
        self.nmem.write_data.next = self.wr_data.val();
        self.fw_data.d.next = self.wr_data.val();

        // ---------------- output queue
        self.push.next = (self.do_upd.val() && self.spike.val()) || self.do_read.val();
        self.okind.next = 0.into();
        self.ovalue.next = 0.into();
        if self.do_read.val() {
            self.okind.next = 0x40_0000_0000_u64.into();
            self.ovalue.next = self.m2_val.q.val();
        }
        self.payload.next = self.okind.val()
            | (bit_cast::<39, 10>(self.m2_f.q.val()) << 28)
            | (bit_cast::<39, 6>(self.m2_x.q.val()) << 22)
            | (bit_cast::<39, 6>(self.m2_y.q.val()) << 16)
            | bit_cast::<39, 16>(self.ovalue.val());
        self.pop.next = (self.q_count.q.val() != 0) && self.out_ready.val();
        if self.pop.val() {
            self.nap.next = self.q_count.q.val() - 1;
            self.q0.d.next = self.q1.q.val();
            self.q1.d.next = self.q2.q.val();
            self.q2.d.next = self.q3.q.val();
        } else {
            self.nap.next = self.q_count.q.val();
        }
        if self.push.val() {
            self.q_count.d.next = self.nap.val() + 1;
            if self.nap.val() == 0 {
                self.q0.d.next = self.payload.val();
            } else if self.nap.val() == 1 {
                self.q1.d.next = self.payload.val();
            } else if self.nap.val() == 2 {
                self.q2.d.next = self.payload.val();
            } else {
                self.q3.d.next = self.payload.val();
            }
        } else {
            self.q_count.d.next = self.nap.val();
        }
        self.out_valid.next = self.q_count.q.val() != 0;
        self.out_kind.next = self.q0.q.val().get_bit(38);
        self.out_f.next = self.q0.q.val().get_bits::<10>(28);
        self.out_x.next = self.q0.q.val().get_bits::<6>(22);
        self.out_y.next = self.q0.q.val().get_bits::<6>(16);
        self.out_value.next = self.q0.q.val().get_bits::<16>(0);
        self.idle.next = !self.d_valid.q.val() && !self.active.val() && !self.m_valid.q.val() && !self.m2_valid.q.val();
        self.err_count.next = self.err.q.val();

        // ---------------- reset (configuration and memories are kept)
        if self.reset.val() {
            self.d_valid.d.next = false;
            self.s_mode.d.next = self.mode_idle.val();
            self.m_valid.d.next = false;
            self.m2_valid.d.next = false;
            self.q_count.d.next = 0.into();
            self.err.d.next = 0.into();
        }
    }
}
