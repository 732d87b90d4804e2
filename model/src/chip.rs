//! The whole chip (spec §1, §5, §7, §8): DVS layer, N cores, router, host port.
//!
//! [`ChipModel::accept`] processes one host input item to completion (the chip
//! is idle again afterwards) and appends the host outputs it causes.
//!
//! Event order inside one host item **[decision, project]**: the model keeps one
//! FIFO of pending core items; a core's output spikes are routed in the order
//! they were produced (monitor copy, destination 0, destination 1) and appended
//! to that FIFO. A leak tick is queued to every core (ascending core id) before
//! any spike it causes. Per-source order is all the spec fixes (§5); the
//! interleaving at a core with several sources is one legal choice of many.

use std::collections::VecDeque;

use crate::core::{CoreCounters, CoreItem, CoreModel, CoreOutput};
use crate::dvs;
use crate::events::{HostInput, HostOutput, Timed};
use crate::presets::{DVS_LAYER, HOST_LAYER};
use crate::validate::{limits, Destination, ValidConfig};

/// A host input item that breaks a static limit of spec §8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("{item}: field {field} = {value} is out of range {limit}")]
    OutOfRange { item: &'static str, field: &'static str, value: i64, limit: String },
    #[error("chip did not settle: more than {0} core items caused by one input item (destination cycle?)")]
    Runaway(u64),
}

/// Counters of the router and the DVS layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RouterCounters {
    /// Events dropped because they fell outside the destination core's input
    /// shape, by source layer (index N is the DVS layer).
    pub drops: Vec<u64>,
    /// Events delivered to core inputs, by destination core.
    pub delivered: Vec<u64>,
    /// DVS events received / passed the filter and crop.
    pub dvs_in: u64,
    pub dvs_out: u64,
    /// Events sent to another chip of a chain (pooled and shifted; the
    /// receiving chip delivers them, see [`crate::chain`]).
    pub link_out: u64,
}

/// The golden model of the whole chip.
#[derive(Debug, Clone)]
pub struct ChipModel {
    cfg: ValidConfig,
    cores: Vec<Option<CoreModel>>,
    /// Items accepted by cores with no layer configured, by core (counted as errors).
    unconfigured_errors: Vec<u64>,
    router: RouterCounters,
    queue: VecDeque<(usize, CoreItem)>,
    scratch: Vec<CoreOutput>,
    /// Guard against destination cycles that never settle.
    pub max_items_per_input: u64,
    /// When set, every item a core accepts is recorded here (core id, item):
    /// the per-core streams a co-simulation scoreboard replays.
    pub trace: Option<Vec<(usize, CoreItem)>>,
    /// Pipeline stage view (see [`crate::pipeline`]): cores marked remote
    /// live in another stage; events routed to them go to `outbox`.
    remote: Vec<bool>,
    pub(crate) outbox: Vec<Forward>,
    /// Only the first stage checks host items and runs the DVS layer.
    first_stage: bool,
    /// Pipeline stages only: this stage's part of a core whose features
    /// several stages share (`cores[i]` then holds the feature slice).
    shared: Vec<Option<SharedPart>>,
}

impl ChipModel {
    pub fn new(cfg: &ValidConfig) -> Self {
        let n = cfg.n_cores();
        Self {
            cores: cfg.layers.iter().map(|l| l.as_ref().map(CoreModel::new)).collect(),
            unconfigured_errors: vec![0; n],
            router: RouterCounters { drops: vec![0; n + 1], delivered: vec![0; n], ..Default::default() },
            queue: VecDeque::new(),
            scratch: Vec::new(),
            max_items_per_input: 100_000_000,
            trace: None,
            remote: vec![false; n],
            outbox: Vec::new(),
            first_stage: true,
            shared: vec![None; n],
            cfg: cfg.clone(),
        }
    }

    pub fn config(&self) -> &ValidConfig {
        &self.cfg
    }
    pub fn n_cores(&self) -> usize {
        self.cores.len()
    }
    /// The model of core `i`, if a layer is configured on it.
    pub fn core(&self, i: usize) -> Option<&CoreModel> {
        self.cores.get(i).and_then(|c| c.as_ref())
    }
    /// Selects the update loop of every core; `false` (and no change) if the
    /// CPU lacks it. Every level gives the same results bit for bit.
    pub fn set_kernel_level(&mut self, level: crate::kernel::Level) -> bool {
        if !level.is_supported() {
            return false;
        }
        for c in self.cores.iter_mut().flatten() {
            c.set_kernel_level(level);
        }
        true
    }

    /// Counters of core `i` (an unconfigured core only counts errors).
    pub fn core_counters(&self, i: usize) -> CoreCounters {
        match self.core(i) {
            Some(c) => *c.counters(),
            None => CoreCounters { errors: self.unconfigured_errors.get(i).copied().unwrap_or(0), ..Default::default() },
        }
    }
    pub fn router_counters(&self) -> &RouterCounters {
        &self.router
    }

    /// Processes one host input item to completion; host outputs are appended to `out`.
    pub fn accept(&mut self, item: &HostInput, out: &mut Vec<HostOutput>) -> Result<(), ItemError> {
        if self.first_stage {
            check_item(item, self.n_cores())?;
        }
        // A pipeline stage queues only what is addressed to its own cores.
        // A later holder of a shared core gets its items from the holder before it, never directly.
        let to = |q: &mut VecDeque<(usize, CoreItem)>, remote: &[bool], shared: &[Option<SharedPart>], j: usize, it: CoreItem| {
            if !remote[j] && shared[j].as_ref().is_none_or(|s| s.first) {
                q.push_back((j, it))
            }
        };
        match *item {
            HostInput::Dvs { x, y, p } => {
                if self.first_stage {
                    self.dvs_event(x.into(), y.into(), p, out)
                }
            }
            HostInput::Spike { layer, c, x, y } => to(&mut self.queue, &self.remote, &self.shared, layer.into(), CoreItem::Spike { c, x, y }),
            HostInput::LeakTick => {
                // Cores without a layer ignore the tick (it is not an error).
                for i in (0..self.n_cores()).filter(|&i| self.cores[i].is_some()) {
                    to(&mut self.queue, &self.remote, &self.shared, i, CoreItem::LeakTick);
                }
            }
            HostInput::WriteNeuron { layer, f, x, y, value } => {
                to(&mut self.queue, &self.remote, &self.shared, layer.into(), CoreItem::WriteNeuron { f, x, y, value })
            }
            HostInput::ReadNeuron { layer, f, x, y } => {
                to(&mut self.queue, &self.remote, &self.shared, layer.into(), CoreItem::ReadNeuron { f, x, y })
            }
        }
        self.drain(out)
    }

    /// Pipeline stage: an event routed here by an earlier stage (the router
    /// already checked and counted it there).
    pub(crate) fn accept_routed(&mut self, core: usize, item: CoreItem, out: &mut Vec<HostOutput>) -> Result<(), ItemError> {
        self.queue.push_back((core, item));
        self.drain(out)
    }

    pub(crate) fn is_first_stage(&self) -> bool {
        self.first_stage
    }

    pub(crate) fn is_remote(&self, core: usize) -> bool {
        self.remote[core]
    }

    /// Turns this model into the pipeline stage owning `local` (every other
    /// core becomes remote); `first` stages check items and run the DVS layer.
    /// Turns this copy of the chip into a pipeline stage that runs the cores
    /// of `parts`: `(core, lo, hi, first, last)`, where a part that is not
    /// the whole core's features `0..F` is a slice shared with the stages
    /// before (`!first`) and after (`!last`) it.
    pub(crate) fn make_stage(&mut self, parts: &[(usize, usize, usize, bool, bool)], first: bool) {
        self.remote = (0..self.n_cores()).map(|i| !parts.iter().any(|p| p.0 == i)).collect();
        self.first_stage = first;
        for &(j, lo, hi, first, last) in parts {
            let Some(core) = self.cores[j].as_mut() else { continue };
            let f = core.layer().f as usize;
            if (lo, hi) != (0, f) {
                *core = core.feature_slice(lo, hi);
                self.shared[j] = Some(SharedPart { lo, f, first, last, pending: Vec::new(), own: Vec::new(), merged: Vec::new(), items: 0, errors: 0 });
            }
        }
    }

    /// This stage's part of a shared core and the whole core's item and
    /// error counts (the first holder's), taking the slice out; `None` for a
    /// core this stage runs whole or not at all.
    pub(crate) fn take_part(&mut self, j: usize) -> Option<(usize, CoreModel, bool, u64, u64)> {
        let sh = self.shared[j].take()?;
        let slice = self.cores[j].take().expect("a shared part holds its slice");
        Some((sh.lo, slice, sh.first, sh.items, sh.errors))
    }

    /// Outputs of the earlier holders of shared core `j` for the next item
    /// forwarded to this stage; `false` if this stage holds no later part of it.
    pub(crate) fn take_forwarded_output(&mut self, j: usize, o: CoreOutput) -> bool {
        match self.shared.get_mut(j).and_then(|s| s.as_mut()) {
            Some(sh) if !sh.first => {
                sh.pending.push(o);
                true
            }
            _ => false,
        }
    }

    /// Takes back the cores and counters of a pipeline stage cloned from
    /// this model when its counters were `base`: every counter a stage
    /// changed adds its increase (each event is counted by one stage only).
    pub(crate) fn absorb_stage(&mut self, stage: ChipModel, base: &(RouterCounters, Vec<u64>)) {
        let add = |acc: &mut [u64], now: &[u64], then: &[u64]| {
            for (a, (n, t)) in acc.iter_mut().zip(now.iter().zip(then)) {
                *a += n - t;
            }
        };
        add(&mut self.router.drops, &stage.router.drops, &base.0.drops);
        add(&mut self.router.delivered, &stage.router.delivered, &base.0.delivered);
        add(&mut self.unconfigured_errors, &stage.unconfigured_errors, &base.1);
        self.router.dvs_in += stage.router.dvs_in - base.0.dvs_in;
        self.router.dvs_out += stage.router.dvs_out - base.0.dvs_out;
        for (i, core) in stage.cores.into_iter().enumerate() {
            if !stage.remote[i] && core.is_some() {
                self.cores[i] = core;
            }
        }
    }

    pub(crate) fn core_mut(&mut self, i: usize) -> Option<&mut CoreModel> {
        self.cores.get_mut(i).and_then(|c| c.as_mut())
    }

    /// Adds router counters and unconfigured-core errors counted elsewhere
    /// (the threads of a feature-split run).
    pub(crate) fn add_counts(&mut self, r: &RouterCounters, unconfigured: &[u64]) {
        let add = |acc: &mut [u64], d: &[u64]| acc.iter_mut().zip(d).for_each(|(a, d)| *a += d);
        add(&mut self.router.drops, &r.drops);
        add(&mut self.router.delivered, &r.delivered);
        add(&mut self.unconfigured_errors, unconfigured);
        self.router.dvs_in += r.dvs_in;
        self.router.dvs_out += r.dvs_out;
    }

    /// The counters [`absorb_stage`](Self::absorb_stage) needs as its base.
    pub(crate) fn stage_base(&self) -> (RouterCounters, Vec<u64>) {
        (self.router.clone(), self.unconfigured_errors.clone())
    }

    /// Runs a whole timed input stream; every output carries its cause's timestamp.
    pub fn run(&mut self, items: &[Timed<HostInput>]) -> Result<Vec<Timed<HostOutput>>, (usize, ItemError)> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for (i, ti) in items.iter().enumerate() {
            buf.clear();
            self.accept(&ti.item, &mut buf).map_err(|e| (i, e))?;
            out.extend(buf.iter().map(|&item| Timed { t: ti.t, item }));
        }
        Ok(out)
    }

    fn dvs_event(&mut self, x: u32, y: u32, p: u8, out: &mut Vec<HostOutput>) {
        let Self { cfg, router, remote, outbox, queue, .. } = self;
        dvs_event(cfg, router, x, y, p, |o| out.push(o), |j, it| fifo_push(remote, outbox, queue, j, it));
    }

    fn drain(&mut self, out: &mut Vec<HostOutput>) -> Result<(), ItemError> {
        let mut budget = self.max_items_per_input;
        let mut outs = std::mem::take(&mut self.scratch);
        while let Some((i, item)) = self.queue.pop_front() {
            if budget == 0 {
                self.queue.clear();
                self.scratch = outs;
                return Err(ItemError::Runaway(self.max_items_per_input));
            }
            budget -= 1;
            if self.shared[i].is_some() {
                self.shared_item(i, item, out);
                continue;
            }
            let Some(core) = self.cores[i].as_mut() else {
                self.unconfigured_errors[i] += 1;
                continue;
            };
            outs.clear();
            if let Some(t) = self.trace.as_mut() {
                t.push((i, item));
            }
            core.accept(item, &mut outs);
            self.route_outputs(i, &outs, out);
        }
        self.scratch = outs;
        Ok(())
    }

    /// One item of a core whose features several pipeline stages share:
    /// the first holder checks the whole core's shapes and counts; each
    /// holder runs its slice and merges its outputs with those of the
    /// holders before it (lower features) into the whole core's order; the
    /// last holder routes them, the others forward them and the item.
    fn shared_item(&mut self, i: usize, item: CoreItem, out: &mut Vec<HostOutput>) {
        let core = self.cores[i].as_mut().expect("a shared part holds its slice");
        let sh = self.shared[i].as_mut().expect("shared part");
        let l = core.layer();
        let (lo, hi) = (sh.lo, sh.lo + l.f as usize);
        if sh.first {
            sh.items += 1;
            let in_shape = match item {
                CoreItem::WriteNeuron { f, x, y, .. } | CoreItem::ReadNeuron { f, x, y } => {
                    usize::from(f) < sh.f && u32::from(x) < l.w_out && u32::from(y) < l.h_out
                }
                CoreItem::Spike { .. } | CoreItem::LeakTick => core.in_shape(&item),
            };
            if !in_shape {
                sh.errors += 1;
                return;
            }
        }
        let mine = |f: u16| (lo..hi).contains(&usize::from(f));
        let local = match item {
            CoreItem::Spike { .. } | CoreItem::LeakTick => Some(item),
            CoreItem::WriteNeuron { f, x, y, value } if mine(f) => Some(CoreItem::WriteNeuron { f: f - lo as u16, x, y, value }),
            CoreItem::ReadNeuron { f, x, y } if mine(f) => Some(CoreItem::ReadNeuron { f: f - lo as u16, x, y }),
            CoreItem::WriteNeuron { .. } | CoreItem::ReadNeuron { .. } => None,
        };
        let mut own = std::mem::take(&mut sh.own);
        own.clear();
        if let Some(it) = local {
            core.accept(it, &mut own);
        }
        for o in &mut own {
            match o {
                CoreOutput::Spike { f, .. } | CoreOutput::NeuronValue { f, .. } => *f += lo as u16,
            }
        }
        let (mut merged, pending) = (std::mem::take(&mut sh.merged), &mut sh.pending);
        merged.clear();
        if matches!(item, CoreItem::Spike { .. }) {
            // A spike's outputs: (oy descending, ox descending, f ascending), see `crate::split`.
            let key = |o: &CoreOutput| crate::split::merge_key(0, true, o);
            let (mut a, mut b) = (0, 0);
            while a < pending.len() && b < own.len() {
                if key(&pending[a]) < key(&own[b]) {
                    merged.push(pending[a]);
                    a += 1;
                } else {
                    merged.push(own[b]);
                    b += 1;
                }
            }
            merged.extend_from_slice(&pending[a..]);
            merged.extend_from_slice(&own[b..]);
        } else {
            // A leak tick's outputs go by feature first (earlier holders own
            // the lower features); a read has one answer.
            merged.extend_from_slice(pending);
            merged.extend_from_slice(&own);
        }
        pending.clear();
        let last = sh.last;
        sh.own = own;
        if last {
            self.route_outputs(i, &merged, out);
        } else {
            self.outbox.extend(merged.iter().map(|&o| Forward::Output(i, o)));
            self.outbox.push(Forward::Item(i, item));
        }
        if let Some(sh) = self.shared[i].as_mut() {
            sh.merged = merged;
        }
    }

    /// Routes the outputs of core i (spec §5), see [`route_outputs`].
    fn route_outputs(&mut self, i: usize, outs: &[CoreOutput], out: &mut Vec<HostOutput>) {
        let Self { cfg, router, remote, outbox, queue, .. } = self;
        // A lone chip of a chain counts what it sends to other chips (`link_out`); a chain delivers it.
        route_outputs(cfg, router, i, outs, |o| out.push(o), |j, it| fifo_push(remote, outbox, queue, j, it), |_, _, _, _, _| {});
    }

    /// Chain runs ([`crate::chain`]): DVS event (x, y, p) of this chip's
    /// DVS layer; the items for its cores go to `to_core`.
    pub(crate) fn dvs_into(&mut self, x: u16, y: u16, p: u8, host: impl FnMut(HostOutput), to_core: impl FnMut(usize, CoreItem)) {
        dvs_event(&self.cfg, &mut self.router, x.into(), y.into(), p, host, to_core);
    }

    /// Chain runs: core `i` takes `item` (recorded in the trace); its
    /// outputs go to `host`, to this chip's cores through `to_core`, and to
    /// other chips through `to_chip` (chip, layer, c, x, y).
    pub(crate) fn step(
        &mut self,
        i: usize,
        item: CoreItem,
        host: impl FnMut(HostOutput),
        to_core: impl FnMut(usize, CoreItem),
        to_chip: impl FnMut(u8, u8, u16, u16, u16),
    ) {
        let Some(core) = self.cores[i].as_mut() else {
            self.unconfigured_errors[i] += 1;
            return;
        };
        if let Some(t) = self.trace.as_mut() {
            t.push((i, item));
        }
        let mut outs = std::mem::take(&mut self.scratch);
        outs.clear();
        core.accept(item, &mut outs);
        route_outputs(&self.cfg, &mut self.router, i, &outs, host, to_core, to_chip);
        self.scratch = outs;
    }

    /// Chain runs: whether an event from another chip's link lies inside
    /// core j's input shape (then it is counted as delivered to j; else the
    /// chain drops it and counts the drop on this chip's link).
    pub(crate) fn link_accepts(&mut self, j: usize, c: u16, x: u16, y: u16) -> bool {
        let ok = fits(&self.cfg, j, c, x, y);
        if ok {
            self.router.delivered[j] += 1;
        }
        ok
    }

    /// Layered runs, first step: checks the batch's host items up to the
    /// first bad one (which is recorded in `b.failed` and ends the batch),
    /// runs the DVS layer, and files every core's direct items.
    ///
    /// A layered run processes a batch of host items core by core: each
    /// core runs all of its items of the batch ([`layered_cores`]) before
    /// the next core starts, instead of every item running through the chip
    /// before the next item. The cores must be run in
    /// [`crate::pipeline::thread_rule`]'s order (no fan-in, no cycle, at most
    /// one host-output core); then every core accepts the sequence
    /// [`accept`](Self::accept) would give it, and [`Batch::outputs`] gives
    /// the host outputs in the same order:
    /// - item by item, a core's input for host item i is its direct item (a
    ///   host spike, write, read or leak tick addressed to it, or a DVS
    ///   event delivered to it) and then the events its one source emitted
    ///   for item i, in emission order (a leak tick is queued to every core
    ///   before any spike it causes). Layered, a core merges its direct
    ///   items and its source's events by item index, direct first; its
    ///   source ran earlier, so all of them are there;
    /// - the host outputs of item i come from the DVS monitor and one core
    ///   (or are one read answer), so a stable sort by item index restores
    ///   their order.
    ///
    /// [`layered_cores`]: Self::layered_cores
    pub(crate) fn layered_front(&mut self, b: &mut Batch) {
        let n = self.n_cores();
        b.direct.resize_with(n, Vec::new);
        b.routed.resize_with(n, Vec::new);
        b.failed = None;
        let Self { cfg, router, cores, unconfigured_errors, .. } = self;
        let Batch { items, direct: lists, host, failed, .. } = b;
        for (i, ti) in items.iter().enumerate() {
            if let Err(e) = check_item(&ti.item, n) {
                *failed = Some((i, e));
                break;
            }
            let tag = i as u32;
            let mut direct = |j: usize, it: CoreItem| match cores[j] {
                Some(_) => lists[j].push((tag, it)),
                None => unconfigured_errors[j] += 1,
            };
            match ti.item {
                HostInput::Dvs { x, y, p } => dvs_event(cfg, router, x.into(), y.into(), p, |o| host.push((tag, o)), &mut direct),
                HostInput::Spike { layer, c, x, y } => direct(layer.into(), CoreItem::Spike { c, x, y }),
                HostInput::LeakTick => {
                    for j in (0..n).filter(|&j| cores[j].is_some()) {
                        direct(j, CoreItem::LeakTick);
                    }
                }
                HostInput::WriteNeuron { layer, f, x, y, value } => direct(layer.into(), CoreItem::WriteNeuron { f, x, y, value }),
                HostInput::ReadNeuron { layer, f, x, y } => direct(layer.into(), CoreItem::ReadNeuron { f, x, y }),
            }
        }
    }

    /// Layered runs, second step: runs `cores` (a stretch of the thread
    /// rule's order, after the cores before it) over the batch, filing the
    /// events they send to later cores and the host outputs they cause.
    /// See [`layered_front`](Self::layered_front).
    pub(crate) fn layered_cores(&mut self, cores: &[usize], b: &mut Batch) {
        let Batch { direct, routed, host, .. } = b;
        let mut outs = std::mem::take(&mut self.scratch);
        for &j in cores {
            let (mine, from_source) = (std::mem::take(&mut direct[j]), std::mem::take(&mut routed[j]));
            let core = self.cores[j].as_mut().expect("a layered run lists configured cores");
            let (mut a, mut s) = (0, 0);
            while a < mine.len() || s < from_source.len() {
                // Direct items first for the same host item.
                let (tag, item) = if s == from_source.len() || (a < mine.len() && mine[a].0 <= from_source[s].0) {
                    a += 1;
                    mine[a - 1]
                } else {
                    s += 1;
                    from_source[s - 1]
                };
                outs.clear();
                core.accept(item, &mut outs);
                if !outs.is_empty() {
                    route_outputs(&self.cfg, &mut self.router, j, &outs, |o| host.push((tag, o)), |d, it| routed[d].push((tag, it)), |_, _, _, _, _| {});
                }
            }
            (direct[j], routed[j]) = (mine, from_source);
            direct[j].clear();
            routed[j].clear();
        }
        self.scratch = outs;
    }

    /// Runs a batch of host items layered on one thread (`order`: the
    /// thread rule's), appending the host outputs with their item's
    /// timestamp; on a bad item, the items before it are processed and
    /// `(index in batch, error)` returned, as item by item.
    pub(crate) fn accept_layered(&mut self, order: &[usize], b: &mut Batch, out: &mut Vec<Timed<HostOutput>>) -> Result<(), (usize, ItemError)> {
        self.layered_front(b);
        self.layered_cores(order, b);
        b.outputs(|o| out.push(o));
        b.failed.take().map_or(Ok(()), Err)
    }
}

/// A batch of host items on its way through a layered run
/// ([`ChipModel::layered_front`]); its buffers are reused batch after batch.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The host items (set by the caller).
    pub(crate) items: Vec<Timed<HostInput>>,
    /// Per core: the direct items and the events from its source, each
    /// tagged with its host item's index in the batch.
    direct: Vec<Vec<(u32, CoreItem)>>,
    routed: Vec<Vec<(u32, CoreItem)>>,
    /// Host outputs, tagged likewise.
    host: Vec<(u32, HostOutput)>,
    /// The first bad item and why: the batch ends before it.
    pub(crate) failed: Option<(usize, ItemError)>,
}

impl Batch {
    /// Hands over the batch's host outputs in the item-by-item order, each
    /// with its item's timestamp (after every core ran).
    pub(crate) fn outputs(&mut self, mut out: impl FnMut(Timed<HostOutput>)) {
        self.host.sort_by_key(|h| h.0);
        for (tag, item) in self.host.drain(..) {
            out(Timed { t: self.items[tag as usize].t, item });
        }
    }
}

/// Where the item-by-item run puts an event for core `j`: its queue, or a
/// pipeline stage's outbox when another stage runs `j`.
fn fifo_push(remote: &[bool], outbox: &mut Vec<Forward>, queue: &mut VecDeque<(usize, CoreItem)>, j: usize, it: CoreItem) {
    if remote[j] {
        outbox.push(Forward::Item(j, it));
    } else {
        queue.push_back((j, it));
    }
}

/// Spec §7 for one sensor event: the DVS layer's monitor copy goes to
/// `host`, then the event to each destination core through [`deliver`].
fn dvs_event(cfg: &ValidConfig, router: &mut RouterCounters, x: u32, y: u32, p: u8, mut host: impl FnMut(HostOutput), mut to_core: impl FnMut(usize, CoreItem)) {
    let Some(d) = cfg.dvs else { return };
    router.dvs_in += 1;
    let Some((c, x, y)) = dvs::transform(&d, x, y, p) else { return };
    router.dvs_out += 1;
    if d.monitor_enable {
        host(HostOutput::Monitor { layer: DVS_LAYER, f: c, x, y });
    }
    let src = cfg.n_cores();
    for j in d.destinations.into_iter().flatten() {
        deliver(cfg, router, src, j.into(), c, x, y, &mut to_core);
    }
}

/// Delivers (c, x, y) from `src` to core j through `to_core`, or drops and
/// counts it if outside j's input shape.
#[inline]
fn deliver(cfg: &ValidConfig, router: &mut RouterCounters, src: usize, j: usize, c: u16, x: u16, y: u16, to_core: &mut impl FnMut(usize, CoreItem)) {
    if fits(cfg, j, c, x, y) {
        router.delivered[j] += 1;
        to_core(j, CoreItem::Spike { c, x, y });
    } else {
        router.drops[src] += 1;
    }
}

/// Routes the outputs of core i (spec §5): a read's answer to `host`, a
/// spike's monitor copy to `host`, then each enabled destination (the host,
/// a core through [`deliver`], or a core of another chip through `to_chip`:
/// chip, layer and the pooled, shifted c, x, y).
fn route_outputs(
    cfg: &ValidConfig,
    router: &mut RouterCounters,
    i: usize,
    outs: &[CoreOutput],
    mut host: impl FnMut(HostOutput),
    mut to_core: impl FnMut(usize, CoreItem),
    mut to_chip: impl FnMut(u8, u8, u16, u16, u16),
) {
    let l = cfg.layers[i].as_ref().expect("only configured cores emit");
    let (monitor, dests): (bool, [Destination; 2]) = (l.monitor_enable, l.destinations);
    let layer = i as u8;
    for o in outs {
        match *o {
            CoreOutput::NeuronValue { f, x, y, value } => host(HostOutput::NeuronValue { layer, f, x, y, value }),
            CoreOutput::Spike { f, x, y } => {
                if monitor {
                    host(HostOutput::Monitor { layer, f, x, y });
                }
                for d in dests.iter().filter(|d| d.enable) {
                    let (c, px, py) = route(d, f, x, y);
                    if let Some(k) = d.chip {
                        router.link_out += 1;
                        to_chip(k, d.layer, c, px, py);
                    } else if d.layer == HOST_LAYER {
                        host(HostOutput::Spike { layer, f: c, x: px, y: py });
                    } else {
                        deliver(cfg, router, i, d.layer.into(), c, px, py, &mut to_core);
                    }
                }
            }
        }
    }
}

/// What a pipeline stage passes on to the next about a core it does not
/// finish: an item for a core of a later stage, or an output of its part of a
/// shared core (sent before that item).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Forward {
    Item(usize, CoreItem),
    Output(usize, CoreOutput),
}

/// A pipeline stage's part of a core whose output features several stages
/// share (see `crate::pipeline`); the stage's `cores` entry holds the slice.
#[derive(Debug, Clone)]
pub(crate) struct SharedPart {
    /// First feature of the slice.
    lo: usize,
    /// The whole core's feature count.
    f: usize,
    /// The first holder checks shapes, counts the core's items and errors, and takes direct host items.
    first: bool,
    /// The last holder routes the merged outputs; the others forward them with the item.
    last: bool,
    /// Outputs of the earlier holders for the next forwarded item, in the whole core's order.
    pending: Vec<CoreOutput>,
    /// Reused buffers: this slice's outputs, the merge.
    own: Vec<CoreOutput>,
    merged: Vec<CoreOutput>,
    items: u64,
    errors: u64,
}

/// Whether the router delivers (c, x, y) to core `j`: a configured core and
/// inside its input shape; otherwise the event is dropped and counted
/// against its source.
pub(crate) fn fits(cfg: &ValidConfig, j: usize, c: u16, x: u16, y: u16) -> bool {
    cfg.layers[j].as_ref().is_some_and(|t| u32::from(c) < t.c && u32::from(x) < t.w_in && u32::from(y) < t.h_in)
}

/// Spec §5 step 2: pooling (floor) and feature shift of one output spike.
pub fn route(d: &Destination, f: u16, x: u16, y: u16) -> (u16, u16, u16) {
    let p = d.pooling as u16;
    (f + d.feature_shift as u16, x / p, y / p)
}

/// Checks the static limits of spec §8 for a host input item.
/// The static limit (inclusive) of one field of a host input item (spec §8),
/// for a chip with `n_cores` cores: the one table both [`check_item`] and the
/// event-file readers use. `None` for a field the kind does not have.
pub fn static_limit(kind: &str, field: &str, n_cores: usize) -> Option<(i64, i64)> {
    let xy = limits::DVS_SIZE - 1;
    let neuron_xy = limits::MAX_OUTPUT_SIZE - 1;
    let ch = limits::MAX_CHANNELS - 1;
    let layer = (0, n_cores as i64 - 1);
    match (kind, field) {
        ("dvs", "x" | "y") => Some((0, xy)),
        ("dvs", "p") => Some((0, 1)),
        ("spike", "layer") | ("write_neuron" | "read_neuron", "layer") => Some(layer),
        ("spike", "c") | ("write_neuron" | "read_neuron", "f") => Some((0, ch)),
        ("spike", "x" | "y") => Some((0, xy)),
        ("write_neuron" | "read_neuron", "x" | "y") => Some((0, neuron_xy)),
        ("write_neuron", "value") => Some((i16::MIN.into(), i16::MAX.into())),
        _ => None,
    }
}

/// Checks the static limits of spec §8 for a host input item.
pub fn check_item(item: &HostInput, n_cores: usize) -> Result<(), ItemError> {
    let check = |kind: &'static str, fields: &[(&'static str, i64)]| -> Result<(), ItemError> {
        for &(field, v) in fields {
            let (lo, hi) = static_limit(kind, field, n_cores).unwrap_or((i64::MIN, i64::MAX));
            if v < lo || v > hi {
                return Err(ItemError::OutOfRange { item: kind, field, value: v, limit: format!("{lo}..={hi}") });
            }
        }
        Ok(())
    };
    match *item {
        HostInput::Dvs { x, y, p } => check("dvs", &[("x", x.into()), ("y", y.into()), ("p", p.into())]),
        HostInput::Spike { layer, c, x, y } => {
            check("spike", &[("layer", layer.into()), ("c", c.into()), ("x", x.into()), ("y", y.into())])
        }
        HostInput::LeakTick => Ok(()),
        HostInput::WriteNeuron { layer, f, x, y, .. } => {
            check("write_neuron", &[("layer", layer.into()), ("f", f.into()), ("x", x.into()), ("y", y.into())])
        }
        HostInput::ReadNeuron { layer, f, x, y } => {
            check("read_neuron", &[("layer", layer.into()), ("f", f.into()), ("x", x.into()), ("y", y.into())])
        }
    }
}
