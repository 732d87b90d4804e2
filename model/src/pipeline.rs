//! Streaming runs of the chip model, on several threads when that provably
//! gives the sequential result.
//!
//! [`run_stream`] pulls host input items from an iterator, runs them through
//! a [`ChipModel`] and hands every host output to a sink as it is produced:
//! memory stays flat with the length of the input.
//!
//! **Layered** ([`StreamOptions::layered`], the default when the rule below
//! holds): items go in batches ([`BATCH`]) and each core runs all of its
//! items of a batch before the next core starts, instead of every item
//! running through the chip before the next one (the golden order,
//! [`StreamOptions::sequential`]). A core then works through a long run of
//! items with its state and weights in cache, and no event is queued or
//! sent on its own. Under the rule every core accepts the same sequence and
//! the host outputs come in the same order; the argument is at
//! [`ChipModel::layered_front`](crate::chip::ChipModel).
//!
//! With `threads` ≥ 2 and the rule satisfied it runs in one of three ways
//! ([`ThreadMode`]), plus one thread that reads the input:
//! - **whole-core pipeline** (the default, [`ThreadMode::Auto`] and
//!   [`ThreadMode::Pipeline`]): the cores in topological order become
//!   pipeline stages, one thread each, connected by bounded channels.
//!   Layered, each batch of host items travels from stage to stage as one
//!   message, each stage running its cores over it; item by item, stages
//!   exchange batches of per-event messages (both recycled: no allocation
//!   in the steady state);
//! - **cut pipeline** ([`ThreadMode::Cut`]): the same, but [`plan`] may cut a dominant core by output features
//!   between consecutive stages: each stage holds a slice (ascending
//!   feature ranges in ascending stages); the first holder checks shapes,
//!   counts the core's items and takes its direct host items; every holder
//!   runs its slice on each item and merges its outputs with those of the
//!   holders before it (sent ahead of the item) into the core's order (a
//!   spike's by kernel row, column, feature, spec §4; a leak tick's by
//!   feature first, so the earlier holders' come first; a read has one
//!   answer); the last holder routes them. Whole-core stages only unless
//!   the cost model says the cut beats them clearly. Not the default: on
//!   the 2-CPU machine, where the input reader and the output writer share
//!   the CPUs with the stages, a cut core's duplicated per-item work cost
//!   more than the second stage gave, even on a one-core chip with 1 480
//!   updates per item (`docs/benchmarks.md`);
//! - **feature split** ([`ThreadMode::Split`]): every core's output
//!   features are shared out between the threads, each owning the neurons
//!   of its share; all threads see the same items in the same order, batch
//!   by batch, and the spikes of each input item are merged back into the
//!   sequential order — see [`crate::split`]. Every thread pays every item's
//!   fixed costs and routing, so on the benchmark network it is slower than
//!   one thread on a 2-CPU machine (`docs/benchmarks.md`).
//!
//! **The thread rule [decision, project]** ([`thread_rule`]; the pipeline
//! also needs two configured cores, [`pipeline_rule`]): threads are used
//! only when
//! 1. every core has at most one source among the DVS layer and the cores
//!    (no fan-in), and the destination graph has no cycle; then each core's
//!    input sequence is fixed by its single source: its routed events arrive
//!    in the order the source emitted them, host items addressed to it arrive
//!    in input order, and a host item reaches every stage before any event it
//!    causes (the stage that reads it forwards it first), after every event
//!    caused by earlier items (stages process messages in order). So every
//!    core accepts exactly the sequence the sequential model gives it, and
//!    its states, counters and output spikes are the same;
//! 2. at most one core sends events to the host (readout destination or
//!    monitor); then the host outputs of one input item come from one place
//!    in a fixed order (the DVS monitor copy first, then that core's outputs
//!    in its own order, or the one answer to a neuron read), and items are
//!    delivered in input order, so the host output sequence is the
//!    sequential one, timestamps included.
//!
//! The same two conditions make cut cores and the feature split exact: each core's item
//! list for a batch is rebuilt from its direct host items and its one
//! source's merged outputs, and an item's host outputs come from one core.
//! Neurons are independent, so cutting a core by features changes no state,
//! only the order of emission, which the merge restores.
//!
//! Otherwise (fan-in, a cycle, two host-output cores, `threads` = 1, a
//! recorded trace) the run is sequential; [`RunReport::fallback`] says why.
//! With fan-in the interleaving at a core would depend on thread timing
//! (spec §5 leaves it open; the model fixes one order, the pipeline could
//! not reproduce it), and with two host-output cores the interleaving of
//! their outputs inside one item would.
//!
//! Stages are contiguous runs of the cores (or core parts) in topological
//! order, balanced by the synaptic updates and items each core had during a
//! one-thread warm-up ([`WARMUP_ITEMS`] items or [`WARMUP_UPDATES`]
//! updates, whichever first); see [`plan`] and [`ITEM_COST`].

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::chip::{check_item, ChipModel, ItemError};
use crate::chip::Forward;
use crate::core::{CoreItem, CoreOutput};
use crate::events::{HostInput, HostOutput, Timed};
use crate::presets::HOST_LAYER;
use crate::validate::ValidConfig;

/// Items run on one thread (layered, in batches, when [`StreamOptions::layered`])
/// before the stages are balanced.
pub const WARMUP_ITEMS: u64 = 50_000;
/// ... or until this many synaptic updates were done.
pub const WARMUP_UPDATES: u64 = 20_000_000;
/// Host items per layered batch; messages per batch on a channel item by item.
pub const BATCH: usize = 2048;
/// Batches in flight per channel (the bound of each queue).
const DEPTH: usize = 8;

/// How [`run_stream`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// Model threads; with two or more, the input reader is one more thread.
    pub threads: usize,
    /// Run batches of [`batch`](Self::batch) items layered, core by core (on
    /// one thread, and through the whole-core pipeline), when the thread
    /// rule holds (module docs); `false`: item by item through the whole
    /// chip, the golden model's own order ([`StreamOptions::sequential`]).
    pub layered: bool,
    /// Pipeline: items run sequentially first to balance the stages (see [`WARMUP_ITEMS`]).
    pub warmup_items: u64,
    /// Host items per layered batch; item-by-item pipeline: messages per channel batch (see [`BATCH`]).
    pub batch: usize,
    /// Pipeline with cores cut by features, whole-core pipeline or feature split.
    pub mode: ThreadMode,
    /// Feature split: host items per batch (see [`crate::split::SPLIT_BATCH`]).
    pub split_batch: usize,
    /// Cut pipeline ([`ThreadMode::Cut`]): these stages instead of [`plan`]'s
    /// (tests and measurements). It must list the cores of the thread rule's
    /// order, each core's features `0..F` as ascending contiguous ranges in
    /// ascending stages, no stage empty; anything else is a programming
    /// error and panics (no user input reaches it).
    pub plan: Option<Vec<Vec<Part>>>,
}

impl StreamOptions {
    pub fn threads(threads: usize) -> Self {
        Self { threads, layered: true, warmup_items: WARMUP_ITEMS, batch: BATCH, mode: ThreadMode::Auto, split_batch: crate::split::SPLIT_BATCH, plan: None }
    }

    /// One thread, every item through the whole chip before the next (the
    /// reference the other ways of running are tested against).
    pub fn sequential() -> Self {
        Self { layered: false, ..Self::threads(1) }
    }
}

/// How several threads share the work (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadMode {
    /// The default: the whole-core pipeline (measured the fastest on the
    /// 2-CPU machine, `docs/benchmarks.md`).
    #[default]
    Auto,
    /// The pipeline of whole cores ([`partition`]).
    Pipeline,
    /// The pipeline whose stages may cut a core by features ([`plan`]).
    Cut,
    /// Features of every core shared between threads (pipeline if no core has two features).
    Split,
}

/// Why a run is sequential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    OneThread,
    /// Nothing to share: fewer than two configured cores (for the cut
    /// pipeline: one core with one feature).
    OneCore,
    Cycle,
    /// A core with several sources.
    FanIn { core: usize, sources: Vec<String> },
    /// Several cores send events to the host.
    HostOutputs { cores: Vec<usize> },
    /// The model records a trace (co-simulation scoreboards).
    Trace,
    /// The warm-up put all the work on one stage.
    Unbalanced,
    /// A core sends to another chip of a chain (the chain runs on one thread).
    Link { core: usize },
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::OneThread => write!(f, "one thread requested"),
            Fallback::OneCore => write!(f, "fewer than two configured cores"),
            Fallback::Cycle => write!(f, "the destination graph has a cycle"),
            Fallback::FanIn { core, sources } => write!(f, "core {core} has several sources ({}): fan-in", sources.join(", ")),
            Fallback::HostOutputs { cores } => {
                let c: Vec<String> = cores.iter().map(|c| c.to_string()).collect();
                write!(f, "cores {} all send events to the host", c.join(", "))
            }
            Fallback::Trace => write!(f, "a trace is being recorded"),
            Fallback::Unbalanced => write!(f, "the work is all in one stage"),
            Fallback::Link { core } => write!(f, "core {core} sends to another chip"),
        }
    }
}

/// The configured cores in topological order, if the thread rule allows a
/// pipeline (module docs); else why not.
pub fn pipeline_rule(cfg: &ValidConfig) -> Result<Vec<usize>, Fallback> {
    let order = thread_rule(cfg)?;
    if order.len() < 2 {
        return Err(Fallback::OneCore);
    }
    Ok(order)
}

/// The thread rule itself (module docs): the configured cores in
/// topological order (any number), or why threads would not be exact.
pub fn thread_rule(cfg: &ValidConfig) -> Result<Vec<usize>, Fallback> {
    let n = cfg.n_cores();
    let configured: Vec<usize> = (0..n).filter(|&i| cfg.layers[i].is_some()).collect();
    let mut sources: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut add = |j: usize, s: String| {
        if j < n && cfg.layers[j].is_some() && !sources[j].contains(&s) {
            sources[j].push(s);
        }
    };
    if let Some(d) = &cfg.dvs {
        for j in d.destinations.iter().flatten() {
            add(usize::from(*j), "DVS".into());
        }
    }
    if let Some(&core) = configured.iter().find(|&&i| cfg.layers[i].as_ref().is_some_and(|l| l.destinations.iter().any(|d| d.enable && d.chip.is_some()))) {
        return Err(Fallback::Link { core });
    }
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut host_cores = Vec::new();
    for &i in &configured {
        let l = cfg.layers[i].as_ref().expect("configured");
        let mut to_host = l.monitor_enable;
        for d in l.destinations.iter().filter(|d| d.enable) {
            if d.layer == HOST_LAYER {
                to_host = true;
            } else {
                add(usize::from(d.layer), format!("core {i}"));
                if usize::from(d.layer) < n && cfg.layers[usize::from(d.layer)].is_some() {
                    succ[i].push(usize::from(d.layer));
                }
            }
        }
        if to_host {
            host_cores.push(i);
        }
    }
    if let Some(core) = (0..n).find(|&j| sources[j].len() > 1) {
        return Err(Fallback::FanIn { core, sources: sources[core].clone() });
    }
    if host_cores.len() > 1 {
        return Err(Fallback::HostOutputs { cores: host_cores });
    }
    // Kahn's algorithm, lowest core id first.
    let mut indeg = vec![0usize; n];
    for &i in &configured {
        for &j in &succ[i] {
            indeg[j] += 1;
        }
    }
    let mut ready: Vec<usize> = configured.iter().copied().filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::new();
    while let Some(pos) = ready.iter().enumerate().min_by_key(|(_, &c)| c).map(|(p, _)| p) {
        let i = ready.swap_remove(pos);
        order.push(i);
        for &j in &succ[i] {
            indeg[j] -= 1;
            if indeg[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() < configured.len() {
        return Err(Fallback::Cycle);
    }
    Ok(order)
}

/// A two-stage cut plan (for [`StreamOptions::plan`]): the thread rule's
/// order with core `core` cut after output feature `at` (0 < at < F), the
/// cores before it whole in the first stage, the ones after it in the
/// second. `None` if the rule does not hold, `core` is not configured or
/// `at` is not inside its features.
pub fn cut_at(cfg: &ValidConfig, core: usize, at: usize) -> Option<Vec<Vec<Part>>> {
    let order = thread_rule(cfg).ok()?;
    let pos = order.iter().position(|&j| j == core)?;
    let f = |j: usize| cfg.layers[j].as_ref().map_or(0, |l| l.f as usize);
    if !(1..f(core)).contains(&at) {
        return None;
    }
    let mut first: Vec<Part> = order[..pos].iter().map(|&j| (j, 0, f(j))).collect();
    first.push((core, 0, at));
    let mut second = vec![(core, at, f(core))];
    second.extend(order[pos + 1..].iter().map(|&j| (j, 0, f(j))));
    Some(vec![first, second])
}

/// Splits `order` into at most `stages` contiguous runs minimizing the
/// largest summed cost (linear partition, exact).
pub fn partition(order: &[usize], cost: &[u64], stages: usize) -> Vec<Vec<usize>> {
    let n = order.len();
    let s = stages.clamp(1, n.max(1));
    let w: Vec<u64> = order.iter().map(|&i| cost[i] + 1).collect();
    let mut pre = vec![0u64; n + 1];
    for i in 0..n {
        pre[i + 1] = pre[i] + w[i];
    }
    // best[k][i]: minimal max cost of the first i cores in k runs; cut[k][i]: start of the last run.
    let mut best = vec![vec![u64::MAX; n + 1]; s + 1];
    let mut cut = vec![vec![0usize; n + 1]; s + 1];
    best[0][0] = 0;
    for k in 1..=s {
        for i in 1..=n {
            for j in (k - 1)..i {
                if best[k - 1][j] == u64::MAX {
                    continue;
                }
                let v = best[k - 1][j].max(pre[i] - pre[j]);
                if v < best[k][i] {
                    best[k][i] = v;
                    cut[k][i] = j;
                }
            }
        }
    }
    let k_best = (1..=s).min_by_key(|&k| (best[k][n], k)).unwrap_or(1);
    let mut runs = Vec::new();
    let (mut k, mut i) = (k_best, n);
    while k > 0 {
        let j = cut[k][i];
        runs.push(order[j..i].to_vec());
        i = j;
        k -= 1;
    }
    runs.reverse();
    runs
}

/// The cost of one item at a core, in neuron updates: the per-item work
/// (shape check, kernel rows, strip calls, queueing, forwarding) that every
/// stage holding a part of a core pays. Measured on the benchmark network
/// (`spikehdl bench`, AVX2): cutting core 5 by 16 of 64 features added about
/// 240 ns of CPU per core-5 item, against about 0.5 ns an update.
pub const ITEM_COST: u64 = 500;

/// A plan that cuts a core is taken only if its largest stage is at most this
/// fraction (in percent) of the best whole-core plan's: the cost model is
/// coarse, and a cut that the model put 10 % ahead ran 25 % slower.
pub const CUT_GAIN_PERCENT: u64 = 80;

/// A stage's share of a core: `(core, lo, hi)`, output features `lo..hi`.
pub type Part = (usize, usize, usize);

/// Cuts `order` (each core `j` with `features[j]` output features, `updates[j]`
/// updates and `items[j]` items in the warm-up) into at most `stages`
/// contiguous stages of parts, minimizing the largest stage cost, where a
/// part of m of F features costs m/F of the core's updates plus
/// [`ITEM_COST`] per item (every part sees every item). Its parts hold
/// ascending feature ranges in ascending stages. Minimal largest cost by
/// bisection, each candidate checked by a greedy fill (stages take as much
/// as fits); the plan with cuts is kept only if it beats the best whole-core
/// plan ([`partition`]) by [`CUT_GAIN_PERCENT`].
pub fn plan(order: &[usize], features: &[usize], updates: &[u64], items: &[u64], stages: usize) -> Vec<Vec<Part>> {
    let fill = |bound: u64| -> Option<Vec<Vec<Part>>> {
        let mut out: Vec<Vec<Part>> = vec![Vec::new()];
        let mut load = 0u64;
        for &j in order {
            let (u, f) = (updates[j], features[j].max(1));
            let fixed = ITEM_COST.saturating_mul(items[j]).saturating_add(1);
            let mut lo = 0;
            while lo < f {
                let rest = f - lo;
                let all = (u as u128 * rest as u128 / f as u128) as u64 + fixed;
                if load + all <= bound {
                    out.last_mut().expect("a stage").push((j, lo, f));
                    load += all;
                    break;
                }
                // The most features that still fit in this stage.
                let room = bound.saturating_sub(load + fixed);
                let m = if u == 0 { rest } else { (room as u128 * f as u128 / u as u128) as usize }.min(rest - 1);
                // Cuts on whole vector chunks where possible: a slice of an odd
                // feature count pays a padded tail on every strip.
                let align = if f >= 32 { 16 } else { 8 };
                let m = if m >= align { m / align * align } else { m };
                if m >= 1 {
                    out.last_mut().expect("a stage").push((j, lo, lo + m));
                    lo += m;
                } else if out.last().is_some_and(|s| s.is_empty()) {
                    return None;
                }
                if out.len() == stages.max(1) {
                    return None;
                }
                out.push(Vec::new());
                load = 0;
            }
        }
        out.retain(|s| !s.is_empty());
        Some(out)
    };
    let total: u64 = order.iter().map(|&j| updates[j].saturating_add(ITEM_COST.saturating_mul(items[j])).saturating_add(1)).sum();
    let (mut lo, mut hi) = (0u64, total.max(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fill(mid).is_some() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let cut = fill(hi).unwrap_or_else(|| vec![order.iter().map(|&j| (j, 0, features[j])).collect()]);
    // The same cost model for whole cores; a cut must beat it clearly.
    let cost = |s: &[Part]| -> u64 {
        s.iter()
            .map(|&(j, lo, hi)| {
                let f = features[j].max(1) as u128;
                (updates[j] as u128 * (hi - lo) as u128 / f) as u64 + ITEM_COST.saturating_mul(items[j]) + 1
            })
            .sum()
    };
    let whole: Vec<Vec<Part>> = partition(order, &order_costs(order, updates, items), stages)
        .into_iter()
        .map(|s| s.into_iter().map(|j| (j, 0, features[j])).collect())
        .collect();
    let worst = |p: &[Vec<Part>]| p.iter().map(|s| cost(s)).max().unwrap_or(0);
    if (worst(&cut) as u128) * 100 <= (worst(&whole) as u128) * CUT_GAIN_PERCENT as u128 {
        cut
    } else {
        whole
    }
}

/// Panics unless `p` is a legal stage plan over `order` (see [`StreamOptions::plan`]).
fn check_plan(order: &[usize], features: &[usize], p: &[Vec<Part>]) {
    let flat: Vec<Part> = p.iter().flatten().copied().collect();
    assert!(p.iter().all(|s| !s.is_empty()), "stage plan {p:?}: an empty stage");
    let mut k = 0;
    for &j in order {
        let mut lo = 0;
        while lo < features[j].max(1) {
            let part = flat.get(k).copied();
            assert!(matches!(part, Some((c, l, h)) if c == j && l == lo && h > lo), "stage plan {p:?}: expected core {j} from feature {lo}, found {part:?}");
            lo = part.map_or(lo, |q| q.2);
            k += 1;
        }
        assert_eq!(lo, features[j].max(1), "stage plan {p:?}: core {j} has {} features", features[j]);
    }
    assert_eq!(k, flat.len(), "stage plan {p:?}: parts beyond the cores of {order:?}");
}

/// Per core id: updates plus [`ITEM_COST`] per item (whole cores).
fn order_costs(order: &[usize], updates: &[u64], items: &[u64]) -> Vec<u64> {
    let mut c = vec![0u64; updates.len()];
    for &j in order {
        c[j] = updates[j].saturating_add(ITEM_COST.saturating_mul(items[j]));
    }
    c
}

/// A failed streaming run.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The input iterator failed (after `index` good items).
    Input { index: u64, error: E },
    /// Host item `index` (0-based) broke a static limit.
    Item { index: u64, t: u64, error: ItemError },
    /// The sink failed.
    Output(std::io::Error),
}

impl<E: std::fmt::Display> std::fmt::Display for StreamError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Input { error, .. } => write!(f, "{error}"),
            StreamError::Item { index, t, error } => write!(f, "input item {index} (t = {t}): {error}"),
            StreamError::Output(e) => write!(f, "writing outputs: {e}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for StreamError<E> {}

/// What a streaming run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Host input items read.
    pub items: u64,
    /// Host output events produced.
    pub outputs: u64,
    /// The cores of each pipeline stage (one stage = sequential); a core
    /// cut by features is listed in every stage holding a part of it.
    pub stages: Vec<Vec<usize>>,
    /// Pipeline: each stage's `(core, lo, hi)` feature ranges.
    pub parts: Vec<Vec<Part>>,
    /// Why the run was sequential, if it was despite `threads` ≥ 2.
    pub fallback: Option<Fallback>,
    /// The run (one thread or the whole-core pipeline) was layered ([`StreamOptions::layered`]).
    pub layered: bool,
    /// Items run sequentially before the pipeline started.
    pub warmup_items: u64,
    /// Feature split: per core (id), the `(thread, lo, hi)` feature ranges; empty otherwise.
    pub split: Vec<(usize, Vec<(usize, usize, usize)>)>,
}

enum Msg<E> {
    Host { t: u64, item: HostInput },
    /// `t`: the timestamp of the host item that caused it (DVS host items do not travel past the first stage).
    Core { t: u64, core: u8, item: CoreItem },
    /// An output of an earlier stage's part of a shared core, sent before the item that caused it.
    Output { t: u64, core: u8, o: CoreOutput },
    Out(Timed<HostOutput>),
    /// Boxed: keeps every message small (they are copied through the channels).
    Fail(Box<StreamError<E>>),
}

/// A batching sender with recycled buffers.
struct Tx<E> {
    tx: SyncSender<Vec<Msg<E>>>,
    recycled: Receiver<Vec<Msg<E>>>,
    buf: Vec<Msg<E>>,
    batch: usize,
}

impl<E> Tx<E> {
    fn new(tx: SyncSender<Vec<Msg<E>>>, recycled: Receiver<Vec<Msg<E>>>, batch: usize) -> Self {
        Self { tx, recycled, buf: Vec::with_capacity(batch), batch }
    }
    /// `false` once the receiver is gone.
    fn push(&mut self, m: Msg<E>) -> bool {
        self.buf.push(m);
        self.buf.len() < self.batch || self.flush()
    }
    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let next = self.recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(self.batch));
        let full = std::mem::replace(&mut self.buf, next);
        self.tx.send(full).is_ok()
    }
}

/// One channel: the batching sender, its receiver, and the receiver's recycling sender.
type Channel<E> = (Tx<E>, Receiver<Vec<Msg<E>>>, SyncSender<Vec<Msg<E>>>);

fn channel<E>(batch: usize) -> Channel<E> {
    let (tx, rx) = sync_channel(DEPTH);
    let (rtx, rrx) = sync_channel(DEPTH + 2);
    (Tx::new(tx, rrx, batch.max(1)), rx, rtx)
}

/// Runs `inputs` through `chip`, giving each host output to `sink` as it is
/// produced, on up to `threads` stage threads when the thread rule allows
/// (module docs). Outputs, final states and counters are the sequential
/// model's. On an error, outputs of the items before it have been given to
/// the sink.
pub fn run_stream<I, E, S>(chip: &mut ChipModel, opts: &StreamOptions, mut inputs: I, mut sink: S) -> Result<RunReport, StreamError<E>>
where
    I: Iterator<Item = Result<Timed<HostInput>, E>> + Send,
    E: Send,
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let threads = opts.threads;
    let mut report = RunReport::default();
    let rule = if chip.trace.is_some() { Err(Fallback::Trace) } else { thread_rule(chip.config()) };
    if threads < 2 {
        report.stages = vec![(0..chip.n_cores()).filter(|&i| chip.core(i).is_some()).collect()];
        return match rule {
            Ok(order) if opts.layered && order.len() >= 2 => {
                report.layered = true;
                run_layered(chip, &order, opts.batch, &mut inputs, &mut sink, &mut report, |_, _| false).map(|_| report)
            }
            _ => {
                let mut buf = Vec::new();
                for r in inputs {
                    step_one(chip, &mut report, r, &mut sink, &mut buf)?;
                }
                Ok(report)
            }
        };
    }
    let features: Vec<usize> = (0..chip.n_cores()).map(|j| chip.core(j).map_or(0, |c| c.layer().f as usize)).collect();
    let max_f = features.iter().copied().max().unwrap_or(0);
    // The feature split needs no warm-up: every thread gets a share of every core.
    if let Ok(order) = &rule {
        if opts.mode == ThreadMode::Split && max_f >= 2 {
            let workers = threads.min(max_f);
            let shares = crate::split::shares(chip, order, workers);
            report.split = order.iter().map(|&j| (j, shares[j].clone())).collect();
            report.stages = vec![order.clone()];
            let (items, outputs, result) = crate::split::run_split(chip, order, workers, opts.split_batch, inputs, &mut sink);
            report.items = items;
            report.outputs = outputs;
            return result.map(|()| report);
        }
    }
    // Stages need two cores, or for the cut pipeline a core with two features.
    let cut = opts.mode == ThreadMode::Cut;
    let rule = rule.and_then(|order| if order.len() >= 2 || (cut && max_f >= 2) { Ok(order) } else { Err(Fallback::OneCore) });
    let mut buf = Vec::new();
    let order = match rule {
        Ok(order) => order,
        Err(why) => {
            report.fallback = (threads >= 2).then_some(why);
            report.stages = vec![(0..chip.n_cores()).filter(|&i| chip.core(i).is_some()).collect()];
            for r in inputs {
                step_one(chip, &mut report, r, &mut sink, &mut buf)?;
            }
            return Ok(report);
        }
    };
    // Warm-up: sequential, measuring where the work is.
    let updates = |chip: &ChipModel| (0..chip.n_cores()).map(|i| chip.core_counters(i).synaptic_updates).collect::<Vec<u64>>();
    let core_items = |chip: &ChipModel| (0..chip.n_cores()).map(|i| chip.core_counters(i).items_in).collect::<Vec<u64>>();
    let (before, items_before) = (updates(chip), core_items(chip));
    let mut done = false;
    let warm_updates = |chip: &ChipModel| updates(chip).iter().zip(&before).map(|(a, b)| a - b).sum::<u64>();
    if opts.layered && opts.warmup_items > 0 {
        let limit = opts.warmup_items;
        done = run_layered(chip, &order, opts.batch.min(limit as usize), &mut inputs, &mut sink, &mut report, |chip, r| r.items >= limit || warm_updates(chip) >= WARMUP_UPDATES)?;
    }
    while !opts.layered && report.items < opts.warmup_items {
        match inputs.next() {
            Some(r) => step_one(chip, &mut report, r, &mut sink, &mut buf)?,
            None => {
                done = true;
                break;
            }
        }
        if report.items % 256 == 0 && warm_updates(chip) >= WARMUP_UPDATES {
            break;
        }
    }
    report.warmup_items = report.items;
    let cost: Vec<u64> = updates(chip).iter().zip(&before).map(|(a, b)| a - b).collect();
    let mut stages: Vec<Vec<Part>> = if cut {
        let items: Vec<u64> = core_items(chip).iter().zip(&items_before).map(|(a, b)| a - b).collect();
        match &opts.plan {
            Some(p) => {
                check_plan(&order, &features, p);
                p.clone()
            }
            None => plan(&order, &features, &cost, &items, threads),
        }
    } else {
        partition(&order, &cost, threads).into_iter().map(|s| s.into_iter().map(|j| (j, 0, features[j])).collect()).collect()
    };
    if done || stages.len() < 2 {
        report.fallback = (!done).then_some(Fallback::Unbalanced);
        if opts.layered {
            // Whatever the warm-up left, on this one thread.
            report.layered = true;
            run_layered(chip, &order, opts.batch, &mut inputs, &mut sink, &mut report, |_, _| false)?;
        } else {
            for r in inputs {
                step_one(chip, &mut report, r, &mut sink, &mut buf)?;
            }
        }
        report.stages = vec![order];
        return Ok(report);
    }
    // Unconfigured cores belong to the first stage (it counts items sent to them).
    stages[0].extend((0..chip.n_cores()).filter(|&i| chip.core(i).is_none()).map(|i| (i, 0, 0)));
    report.parts = stages.iter().map(|s| s.iter().copied().filter(|p| chip.core(p.0).is_some()).collect()).collect();
    report.stages = report.parts.iter().map(|s| s.iter().map(|p| p.0).collect()).collect();
    let whole = stages.iter().flatten().all(|&(j, lo, hi)| (lo, hi) == (0, features[j]));
    let (items, outputs, result) = if opts.layered && whole {
        report.layered = true;
        let cores: Vec<Vec<usize>> = report.stages.clone();
        run_layered_pipeline(chip, &cores, opts.batch, inputs, &mut sink)
    } else {
        run_pipeline(chip, &stages, opts.batch, inputs, &mut sink)
    };
    report.items += items;
    report.outputs += outputs;
    let w = report.warmup_items;
    result.map(|()| report).map_err(|e| match e {
        StreamError::Input { index, error } => StreamError::Input { index: index + w, error },
        StreamError::Item { index, t, error } => StreamError::Item { index: index + w, t, error },
        other => other,
    })
}

/// One host item through the whole chip (the sequential run and the warm-up).
fn step_one<E, S>(chip: &mut ChipModel, report: &mut RunReport, r: Result<Timed<HostInput>, E>, sink: &mut S, buf: &mut Vec<HostOutput>) -> Result<(), StreamError<E>>
where
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let ti = r.map_err(|error| StreamError::Input { index: report.items, error })?;
    buf.clear();
    chip.accept(&ti.item, buf).map_err(|error| StreamError::Item { index: report.items, t: ti.t, error })?;
    for &item in buf.iter() {
        sink(&Timed { t: ti.t, item }).map_err(StreamError::Output)?;
    }
    report.items += 1;
    report.outputs += buf.len() as u64;
    Ok(())
}

/// One thread, layered: batches of `batch` items through
/// [`ChipModel::accept_layered`] (`order`: the thread rule's).
/// Returns `true` once the input is exhausted, `false` as soon as `stop`
/// says so after a batch (the pipeline's warm-up).
fn run_layered<I, E, S>(
    chip: &mut ChipModel,
    order: &[usize],
    batch: usize,
    inputs: &mut I,
    sink: &mut S,
    report: &mut RunReport,
    mut stop: impl FnMut(&ChipModel, &RunReport) -> bool,
) -> Result<bool, StreamError<E>>
where
    I: Iterator<Item = Result<Timed<HostInput>, E>>,
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let mut b = crate::chip::Batch::default();
    let mut outs: Vec<Timed<HostOutput>> = Vec::new();
    loop {
        let input_error = fill(inputs, &mut b.items, batch);
        if b.items.is_empty() && input_error.is_none() {
            return Ok(true);
        }
        outs.clear();
        let r = chip.accept_layered(order, &mut b, &mut outs);
        for o in &outs {
            sink(o).map_err(StreamError::Output)?;
        }
        report.outputs += outs.len() as u64;
        if let Err((i, error)) = r {
            report.items += i as u64;
            return Err(StreamError::Item { index: report.items, t: b.items[i].t, error });
        }
        report.items += b.items.len() as u64;
        if let Some(error) = input_error {
            return Err(StreamError::Input { index: report.items, error });
        }
        if stop(chip, report) {
            return Ok(false);
        }
    }
}

/// Refills `items` with up to `batch` input items; the input's error, if it
/// ends the batch early.
fn fill<I, E>(inputs: &mut I, items: &mut Vec<Timed<HostInput>>, batch: usize) -> Option<E>
where
    I: Iterator<Item = Result<Timed<HostInput>, E>>,
{
    items.clear();
    // Items are tagged with their index in the batch as u32.
    while items.len() < batch.clamp(1, u32::MAX as usize) {
        match inputs.next()? {
            Ok(ti) => items.push(ti),
            Err(error) => return Some(error),
        }
    }
    None
}

/// A batch of a layered pipeline: `start` is the index of its first item
/// in the pipelined part of the run; `input_error` ends the input after it.
struct Job<E> {
    start: u64,
    b: crate::chip::Batch,
    input_error: Option<E>,
}

/// The pipelined part of a layered run (whole cores; `stages`: the cores of
/// each stage, a partition of the thread rule's order): a reader thread
/// fills batches of `batch` items, stage k runs its cores layered over each
/// batch (stage 0 first checks the items and runs the DVS layer,
/// [`ChipModel::layered_front`]), and this thread hands each batch's host
/// outputs to the sink. Returns (items read, outputs given to the sink, result).
fn run_layered_pipeline<I, E, S>(chip: &mut ChipModel, stages: &[Vec<usize>], batch: usize, inputs: I, sink: &mut S) -> (u64, u64, Result<(), StreamError<E>>)
where
    I: Iterator<Item = Result<Timed<HostInput>, E>> + Send,
    E: Send,
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let base = chip.stage_base();
    let n = stages.len();
    let models: Vec<ChipModel> = stages
        .iter()
        .enumerate()
        .map(|(k, cores)| {
            let whole = |j: usize| (j, 0, chip.core(j).map_or(0, |c| c.layer().f as usize), true, true);
            let mut parts: Vec<_> = cores.iter().map(|&j| whole(j)).collect();
            if k == 0 {
                // Unconfigured cores: the first stage counts items sent to them.
                parts.extend((0..chip.n_cores()).filter(|&i| chip.core(i).is_none()).map(whole));
            }
            let mut m = chip.clone();
            m.make_stage(&parts, k == 0);
            m
        })
        .collect();
    let mut items = 0u64;
    let mut outputs = 0u64;
    let mut result = Ok(());
    let finished: Vec<ChipModel> = std::thread::scope(|s| {
        // Channel k feeds stage k; channel n feeds this thread; `back` returns used batches to the reader.
        let (mut txs, mut rxs) = (Vec::new(), Vec::new());
        for _ in 0..=n {
            let (tx, rx) = sync_channel::<Job<E>>(DEPTH);
            txs.push(Some(tx));
            rxs.push(Some(rx));
        }
        let (back_tx, back_rx) = sync_channel::<crate::chip::Batch>(DEPTH * (n + 2));
        let tx0 = txs[0].take().expect("feeder channel");
        let items_ref = &mut items;
        s.spawn(move || {
            let mut inputs = inputs;
            loop {
                let mut b = back_rx.try_recv().unwrap_or_default();
                let input_error = fill(&mut inputs, &mut b.items, batch);
                let (start, len, end) = (*items_ref, b.items.len() as u64, input_error.is_some());
                if len == 0 && !end {
                    return;
                }
                *items_ref += len;
                if tx0.send(Job { start, b, input_error }).is_err() || end {
                    return;
                }
            }
        });
        let mut handles = Vec::new();
        for (k, mut model) in models.into_iter().enumerate() {
            let rx = rxs[k].take().expect("stage channel");
            let tx = txs[k + 1].take().expect("stage output channel");
            let cores = &stages[k];
            handles.push(s.spawn(move || {
                for mut job in rx.iter() {
                    if k == 0 {
                        model.layered_front(&mut job.b);
                    }
                    model.layered_cores(cores, &mut job.b);
                    // After a bad item or the input's end, nothing more may run.
                    let stop = job.b.failed.is_some() || job.input_error.is_some();
                    if tx.send(job).is_err() || stop {
                        break;
                    }
                }
                model
            }));
        }
        drop(txs);
        let rx = rxs[n].take().expect("sink channel");
        for mut job in rx.iter() {
            let mut failed = None;
            job.b.outputs(|o| {
                if failed.is_none() {
                    match sink(&o) {
                        Ok(()) => outputs += 1,
                        Err(e) => failed = Some(StreamError::Output(e)),
                    }
                }
            });
            let item_error = job.b.failed.take().map(|(i, error)| StreamError::Item { index: job.start + i as u64, t: job.b.items[i].t, error });
            let input_error = job.input_error.take().map(|error| StreamError::Input { index: job.start + job.b.items.len() as u64, error });
            if let Some(e) = failed.or(item_error).or(input_error) {
                result = Err(e);
                break;
            }
            let _ = back_tx.try_send(job.b);
        }
        // Stop the stages and the reader if the sink gave up early: their sends now fail.
        drop(rx);
        drop(back_tx);
        handles.into_iter().map(|h| h.join().expect("pipeline stage panicked")).collect()
    });
    for m in finished {
        chip.absorb_stage(m, &base);
    }
    if let Err(StreamError::Item { index, .. }) | Err(StreamError::Input { index, .. }) = &result {
        items = *index;
    }
    (items, outputs, result)
}

/// The pipelined part of a run: (items read, outputs given to the sink, result).
fn run_pipeline<I, E, S>(chip: &mut ChipModel, stages: &[Vec<Part>], batch: usize, inputs: I, sink: &mut S) -> (u64, u64, Result<(), StreamError<E>>)
where
    I: Iterator<Item = Result<Timed<HostInput>, E>> + Send,
    E: Send,
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let base = chip.stage_base();
    let n = stages.len();
    let mut models: Vec<ChipModel> = stages
        .iter()
        .enumerate()
        .map(|(k, parts)| {
            // A core's first and last holders (module docs, cut pipeline).
            let holders = |j: usize| stages.iter().enumerate().filter(move |(_, s)| s.iter().any(|p| p.0 == j)).map(|(h, _)| h);
            let flagged: Vec<_> = parts
                .iter()
                .map(|&(j, lo, hi)| (j, lo, hi, holders(j).min() == Some(k), holders(j).max() == Some(k)))
                .collect();
            let mut m = chip.clone();
            m.make_stage(&flagged, k == 0);
            m
        })
        .collect();
    // Channel k feeds stage k; channel n feeds this thread (the sink).
    let mut txs = Vec::new();
    let mut rxs = Vec::new();
    for _ in 0..=n {
        let (tx, rx, recycle) = channel::<E>(batch);
        txs.push(Some(tx));
        rxs.push(Some((rx, recycle)));
    }
    let mut items = 0u64;
    let mut outputs = 0u64;
    let mut result = Ok(());
    let finished: Vec<ChipModel> = std::thread::scope(|s| {
        // Reader.
        let mut tx0 = txs[0].take().expect("feeder channel");
        let items_ref = &mut items;
        s.spawn(move || {
            for r in inputs {
                let alive = match r {
                    Ok(ti) => {
                        *items_ref += 1;
                        tx0.push(Msg::Host { t: ti.t, item: ti.item })
                    }
                    Err(error) => {
                        let _ = tx0.push(Msg::Fail(Box::new(StreamError::Input { index: *items_ref, error })));
                        break;
                    }
                };
                if !alive {
                    break;
                }
            }
            tx0.flush();
        });
        // Stages.
        let mut handles = Vec::new();
        for (k, mut model) in models.drain(..).enumerate() {
            let (rx, recycle) = rxs[k].take().expect("stage channel");
            let mut tx = txs[k + 1].take().expect("stage output channel");
            let last = k + 1 == n;
            handles.push(s.spawn(move || {
                stage_loop(&mut model, last, rx, recycle, &mut tx);
                tx.flush();
                model
            }));
        }
        // Sink.
        let (rx, recycle) = rxs[n].take().expect("sink channel");
        'recv: for mut batch in rx.iter() {
            for m in batch.drain(..) {
                match m {
                    Msg::Out(o) => {
                        if let Err(e) = sink(&o) {
                            result = Err(StreamError::Output(e));
                            break 'recv;
                        }
                        outputs += 1;
                    }
                    Msg::Fail(e) => {
                        result = Err(*e);
                        break 'recv;
                    }
                    Msg::Host { .. } | Msg::Core { .. } | Msg::Output { .. } => unreachable!("the last stage forwards only outputs and failures"),
                }
            }
            let _ = recycle.try_send(batch);
        }
        // Stop the stages if the sink gave up early: their sends now fail.
        drop(rx);
        drop(recycle);
        handles.into_iter().map(|h| h.join().expect("pipeline stage panicked")).collect()
    });
    // Slices of shared cores go back into their whole cores; the rest as before.
    let mut slices: Vec<Vec<(usize, crate::core::CoreModel)>> = vec![Vec::new(); chip.n_cores()];
    let mut counts = vec![(0u64, 0u64); chip.n_cores()];
    for mut m in finished {
        for j in 0..chip.n_cores() {
            if let Some((lo, slice, first, items, errors)) = m.take_part(j) {
                slices[j].push((lo, slice));
                if first {
                    counts[j] = (items, errors);
                }
            }
        }
        chip.absorb_stage(m, &base);
    }
    for (j, s) in slices.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
        if let Some(core) = chip.core_mut(j) {
            core.absorb_slices(s, counts[j].0, counts[j].1);
        }
    }
    if let Err(StreamError::Item { index, .. }) | Err(StreamError::Input { index, .. }) = &result {
        items = *index;
    }
    (items, outputs, result)
}

/// One stage: processes messages in order, forwards what later stages need.
fn stage_loop<E>(model: &mut ChipModel, last: bool, rx: Receiver<Vec<Msg<E>>>, recycle: SyncSender<Vec<Msg<E>>>, tx: &mut Tx<E>) {
    let mut index = 0u64;
    let mut outs: Vec<HostOutput> = Vec::new();
    for mut batch in rx.iter() {
        for m in batch.drain(..) {
            // Every message that can cause outputs carries its host item's timestamp.
            let alive = match m {
                Msg::Host { t, item } => {
                    index += 1;
                    // Only the first stage checks items; a bad one never leaves it.
                    if model.is_first_stage() {
                        if let Err(error) = check_item(&item, model.n_cores()) {
                            let _ = tx.push(Msg::Fail(Box::new(StreamError::Item { index: index - 1, t, error })));
                            return;
                        }
                    }
                    // Forward first: later stages must see the item before any event it
                    // causes. A DVS event concerns only the first stage (the DVS
                    // layer's): the events it causes carry its timestamp.
                    let dvs = matches!(item, HostInput::Dvs { .. });
                    if !last && !(dvs && model.is_first_stage()) && !tx.push(Msg::Host { t, item }) {
                        return;
                    }
                    // Only the first stage has the DVS layer: a DVS event is nothing
                    // to a later one but its timestamp.
                    if !model.is_first_stage() && matches!(item, HostInput::Dvs { .. }) {
                        true
                    } else {
                        outs.clear();
                        // Checked above; acyclic, so the runaway guard cannot trigger either.
                        let _ = model.accept(&item, &mut outs);
                        emit(model, t, &outs, tx)
                    }
                }
                Msg::Core { t, core, item } => {
                    if model.is_remote(core.into()) {
                        tx.push(Msg::Core { t, core, item })
                    } else {
                        outs.clear();
                        // Acyclic: the runaway guard cannot trigger.
                        let _ = model.accept_routed(core.into(), item, &mut outs);
                        emit(model, t, &outs, tx)
                    }
                }
                Msg::Output { t, core, o } => model.take_forwarded_output(core.into(), o) || tx.push(Msg::Output { t, core, o }),
                Msg::Out(o) => tx.push(Msg::Out(o)),
                Msg::Fail(e) => {
                    let _ = tx.push(Msg::Fail(e));
                    return;
                }
            };
            if !alive {
                return;
            }
        }
        let _ = recycle.try_send(batch);
        // Keep latency bounded when input arrives slowly.
        if !tx.flush() {
            return;
        }
    }
}

fn emit<E>(model: &mut ChipModel, t: u64, outs: &[HostOutput], tx: &mut Tx<E>) -> bool {
    if outs.is_empty() && model.outbox.is_empty() {
        return true;
    }
    for &o in outs.iter() {
        if !tx.push(Msg::Out(Timed { t, item: o })) {
            return false;
        }
    }
    for f in model.outbox.drain(..) {
        let m = match f {
            Forward::Item(core, item) => Msg::Core { t, core: core as u8, item },
            Forward::Output(core, o) => Msg::Output { t, core: core as u8, o },
        };
        if !tx.push(m) {
            return false;
        }
    }
    true
}
