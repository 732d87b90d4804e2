//! Feature-split runs: the output features of every core shared out between
//! threads, so that one dominant core runs on all of them.
//!
//! | item | contract |
//! |---|---|
//! | when | the thread rule holds (see [`crate::pipeline`]; it decides, this module only executes) |
//! | threads | W workers (the calling thread is worker 0 and feeds the sink) plus one input reader |
//! | shares | core j's F features are cut into min(W, F) contiguous ranges of ⌊F/W⌋ or ⌈F/W⌉; the k-th core in topological order gives range p to worker (p + k) mod W, so odd remainders do not all land on one thread |
//! | state | each worker owns the neurons of its ranges ([`CoreModel::feature_slice`]): no neuron is shared, so no update needs a lock |
//! | batches | host items go in batches of [`StreamOptions::split_batch`](crate::pipeline::StreamOptions); every worker sees every item of a batch in input order |
//! | sync | per batch: one barrier to publish the batch, one after each core (its slices' outputs are then complete) |
//! | output | host outputs in the sequential model's order, timestamps included; final states and every counter the sequential ones |
//! | undefined | nothing: a failed input, a bad item or a failed sink stop the run after the outputs of the items before it, like the sequential run |
//!
//! Why the result is the sequential one, core by core in topological order:
//!
//! 1. *Inputs.* With at most one source per core (the thread rule), the
//!    sequential model gives core j, for each host item in turn, first the
//!    item's direct share (a host spike, read or write addressed to j, or
//!    its leak tick: all are queued before any event they cause), then the
//!    events its source emitted for that item, in emission order. Every
//!    worker rebuilds exactly this list for the batch from the host items
//!    and the merged outputs of the source (merge by item index, direct
//!    items first). Out-of-shape items are counted and dropped here, as
//!    [`CoreModel::accept`] would.
//! 2. *Updates.* A neuron's update depends only on its own state, its own
//!    weight or bias and the layer's thresholds, so a slice fed the same
//!    item list reaches the same states as the whole core, and the spikes
//!    it emits for one item are the whole core's spikes of its features.
//! 3. *Order within one item.* The whole core emits the spikes of an input
//!    spike by kernel row, then column, then feature, all ascending (spec
//!    §4, `CoreModel::spike`). For one input position, row ky ascending is
//!    output row oy = (y + pad − ky)/stride strictly descending (valid rows
//!    differ by multiples of the stride), and likewise column kx is ox, so
//!    the order is the key (oy descending, ox descending, f ascending). Each
//!    slice's spikes are sorted by that key; merging the slices by it is the
//!    whole core's order. A leak tick emits by feature, then y, then x
//!    (spec §6): the slices concatenated in ascending feature order. A read
//!    has one answer, from the slice owning the feature; a write none.
//! 4. *Host outputs.* With at most one host-output core, an item's host
//!    outputs are the DVS monitor copies (emitted first, when the DVS layer
//!    handles the item) and then those of one core (the readout core, or the
//!    core answering a read), in that core's merged order.
//!
//! Counters: item and error counts of a core come from worker 0's input
//! lists (every worker builds the same ones); spikes and updates are the
//! sums over slices; router counters are worker 0's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex, RwLock};

use crate::chip::{check_item, fits, route, ChipModel, RouterCounters};
use crate::core::{CoreItem, CoreModel, CoreOutput};
use crate::dvs;
use crate::events::{HostInput, HostOutput, Timed};
use crate::pipeline::StreamError;
use crate::presets::{DVS_LAYER, HOST_LAYER};
use crate::validate::limits;

/// Host items per batch (one barrier per core per batch).
pub const SPLIT_BATCH: usize = 4096;

/// The parts of each core (indexed by core id): `(worker, lo, hi)` by ascending `lo`.
pub type Shares = Vec<Vec<(usize, usize, usize)>>;

/// The shares of `workers` threads over the cores of `order` (module docs).
pub fn shares(chip: &ChipModel, order: &[usize], workers: usize) -> Shares {
    let mut s = vec![Vec::new(); chip.n_cores()];
    for (k, &j) in order.iter().enumerate() {
        let f = chip.core(j).map_or(0, |c| c.layer().f as usize);
        let w = workers.min(f);
        for p in 0..w {
            let (lo, hi) = (p * f / w, (p + 1) * f / w);
            s[j].push(((p + k) % workers, lo, hi));
        }
    }
    s
}

/// A barrier that a panicking thread poisons, so that the others stop instead of waiting forever.
struct Gate {
    state: Mutex<(usize, u64, bool)>,
    cv: Condvar,
    n: usize,
}

impl Gate {
    fn new(n: usize) -> Self {
        Self { state: Mutex::new((0, 0, false)), cv: Condvar::new(), n }
    }
    /// `false` if poisoned.
    fn wait(&self) -> bool {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if g.2 {
            return false;
        }
        let gen = g.1;
        g.0 += 1;
        if g.0 == self.n {
            g.0 = 0;
            g.1 += 1;
            self.cv.notify_all();
            return true;
        }
        while g.1 == gen && !g.2 {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        !g.2
    }
    fn poison(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).2 = true;
        self.cv.notify_all();
    }
}

struct PoisonOnPanic<'a>(&'a Gate);
impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poison();
        }
    }
}

/// One slice's outputs for the current core and batch, each with its merge
/// key ([`merge_key`]), ascending.
#[derive(Default)]
struct Part {
    outs: Vec<(u64, CoreOutput)>,
}

/// Bits of an output x or y, and of a feature (from the static limits).
const XY_BITS: u32 = (limits::MAX_OUTPUT_SIZE as u64).next_power_of_two().trailing_zeros();
const F_BITS: u32 = (limits::MAX_CHANNELS as u64).next_power_of_two().trailing_zeros();
const LOW_BITS: u32 = 2 * XY_BITS + F_BITS;

/// The position of an output in the whole core's order for one batch: the
/// position of its input item in the core's input list, then (module docs,
/// 3) for a spike input (oy descending, ox descending, f ascending), for a
/// leak tick (f, y, x) ascending; a read has one answer.
#[inline]
pub(crate) fn merge_key(pos: usize, spike_input: bool, o: &CoreOutput) -> u64 {
    let xy_max = (1u64 << XY_BITS) - 1;
    let low = match *o {
        CoreOutput::Spike { f, x, y } if spike_input => {
            ((xy_max - u64::from(y)) << (XY_BITS + F_BITS)) | ((xy_max - u64::from(x)) << F_BITS) | u64::from(f)
        }
        CoreOutput::Spike { f, x, y } => (u64::from(f) << (2 * XY_BITS)) | (u64::from(y) << XY_BITS) | u64::from(x),
        CoreOutput::NeuronValue { .. } => 0,
    };
    ((pos as u64) << LOW_BITS) | low
}

struct Shared {
    batch: RwLock<Vec<Timed<HostInput>>>,
    stop: AtomicBool,
    gate: Gate,
    /// `[worker][core]`.
    parts: Vec<Vec<RwLock<Part>>>,
}

/// A worker's own data: its slices and the per-batch lists it rebuilds.
struct Worker<'a> {
    id: usize,
    chip: &'a ChipModel,
    order: &'a [usize],
    shares: &'a Shares,
    /// This worker's slice of each core: (lo, slice).
    slices: Vec<Option<(usize, CoreModel)>>,
    direct: Vec<Vec<(u32, CoreItem)>>,
    routed: Vec<Vec<(u32, CoreItem)>>,
    input: Vec<(u32, CoreItem)>,
    /// A slice's outputs of one item, reused.
    scratch: Vec<CoreOutput>,
    /// Merge cursors, one per part.
    heads: Vec<usize>,
    /// Every worker counts (it costs nothing); worker 0's counts are kept.
    router: RouterCounters,
    unconfigured: Vec<u64>,
    items: Vec<u64>,
    errors: Vec<u64>,
    /// Worker 0 only: (item, rank: 0 = DVS monitor, 1 = a core, output).
    host: Vec<(u32, u8, HostOutput)>,
}

impl<'a> Worker<'a> {
    fn new(id: usize, chip: &'a ChipModel, order: &'a [usize], shares: &'a Shares) -> Self {
        let n = chip.n_cores();
        let slices = (0..n)
            .map(|j| {
                shares[j].iter().find(|&&(w, _, _)| w == id).map(|&(_, lo, hi)| (lo, chip.core(j).expect("shared cores are configured").feature_slice(lo, hi)))
            })
            .collect();
        Self {
            id,
            chip,
            order,
            shares,
            slices,
            direct: vec![Vec::new(); n],
            routed: vec![Vec::new(); n],
            input: Vec::new(),
            scratch: Vec::new(),
            heads: Vec::new(),
            router: RouterCounters { drops: vec![0; n + 1], delivered: vec![0; n], ..Default::default() },
            unconfigured: vec![0; n],
            items: vec![0; n],
            errors: vec![0; n],
            host: Vec::new(),
        }
    }

    fn deliver(&mut self, src: usize, j: usize, c: u16, x: u16, y: u16, i: u32) {
        if fits(self.chip.config(), j, c, x, y) {
            self.router.delivered[j] += 1;
            self.routed[j].push((i, CoreItem::Spike { c, x, y }));
        } else {
            self.router.drops[src] += 1;
        }
    }

    fn direct(&mut self, core: usize, i: u32, item: CoreItem) {
        if self.chip.core(core).is_some() {
            self.direct[core].push((i, item));
        } else {
            self.unconfigured[core] += 1;
        }
    }

    /// The host items of a batch: DVS layer, direct items, leak ticks (as `ChipModel::accept`).
    fn scan(&mut self, batch: &[Timed<HostInput>]) {
        let n = self.chip.n_cores();
        for (i, ti) in batch.iter().enumerate() {
            let i = i as u32;
            match ti.item {
                HostInput::Dvs { x, y, p } => {
                    let Some(d) = self.chip.config().dvs else { continue };
                    self.router.dvs_in += 1;
                    let Some((c, x, y)) = dvs::transform(&d, x.into(), y.into(), p) else { continue };
                    self.router.dvs_out += 1;
                    if d.monitor_enable && self.id == 0 {
                        self.host.push((i, 0, HostOutput::Monitor { layer: DVS_LAYER, f: c, x, y }));
                    }
                    for j in d.destinations.into_iter().flatten() {
                        self.deliver(n, j.into(), c, x, y, i);
                    }
                }
                HostInput::Spike { layer, c, x, y } => self.direct(layer.into(), i, CoreItem::Spike { c, x, y }),
                HostInput::LeakTick => {
                    for j in 0..n {
                        if self.chip.core(j).is_some() {
                            self.direct[j].push((i, CoreItem::LeakTick));
                        }
                    }
                }
                HostInput::WriteNeuron { layer, f, x, y, value } => self.direct(layer.into(), i, CoreItem::WriteNeuron { f, x, y, value }),
                HostInput::ReadNeuron { layer, f, x, y } => self.direct(layer.into(), i, CoreItem::ReadNeuron { f, x, y }),
            }
        }
    }

    /// Core j's input list for the batch: direct and routed items merged by
    /// item index, direct first; out-of-shape items counted and left out.
    fn build_input(&mut self, j: usize) {
        let core = self.chip.core(j).expect("ordered cores are configured");
        let (d, r) = (&self.direct[j], &self.routed[j]);
        self.input.clear();
        let (mut a, mut b) = (0, 0);
        while a < d.len() || b < r.len() {
            let it = if a < d.len() && (b >= r.len() || d[a].0 <= r[b].0) {
                a += 1;
                d[a - 1]
            } else {
                b += 1;
                r[b - 1]
            };
            self.items[j] += 1;
            if core.in_shape(&it.1) {
                self.input.push(it);
            } else {
                self.errors[j] += 1;
            }
        }
        self.direct[j].clear();
        self.routed[j].clear();
    }

    /// Runs this worker's slice of core j on the input list.
    fn run_slice(&mut self, j: usize, part: &mut Part) {
        part.outs.clear();
        let Some((lo, slice)) = self.slices[j].as_mut() else { return };
        let lo = *lo;
        let n = slice.layer().f as usize;
        let mine = |f: u16| (lo..lo + n).contains(&usize::from(f));
        for (pos, &(_, item)) in self.input.iter().enumerate() {
            let local = match item {
                CoreItem::Spike { .. } | CoreItem::LeakTick => item,
                CoreItem::WriteNeuron { f, x, y, value } if mine(f) => CoreItem::WriteNeuron { f: f - lo as u16, x, y, value },
                CoreItem::ReadNeuron { f, x, y } if mine(f) => CoreItem::ReadNeuron { f: f - lo as u16, x, y },
                CoreItem::WriteNeuron { .. } | CoreItem::ReadNeuron { .. } => continue,
            };
            self.scratch.clear();
            slice.accept(local, &mut self.scratch);
            let spike = matches!(item, CoreItem::Spike { .. });
            for &o in &self.scratch {
                let o = match o {
                    CoreOutput::Spike { f, x, y } => CoreOutput::Spike { f: f + lo as u16, x, y },
                    CoreOutput::NeuronValue { f, x, y, value } => CoreOutput::NeuronValue { f: f + lo as u16, x, y, value },
                };
                part.outs.push((merge_key(pos, spike, &o), o));
            }
        }
    }

    /// Merges the slices' outputs of core j into the whole core's order
    /// (by [`merge_key`]) and routes each as `ChipModel::drain` does.
    fn merge_route(&mut self, j: usize, sh: &Shared) {
        let guards: Vec<_> = self.shares[j].iter().map(|&(w, _, _)| sh.parts[w][j].read().unwrap_or_else(|e| e.into_inner())).collect();
        let l = self.chip.core(j).expect("configured").layer();
        let r = Router { layer: j as u8, monitor: l.monitor_enable && self.id == 0, dests: l.destinations, host: self.id == 0 };
        if let [a, b] = &guards[..] {
            let (a, b) = (&a.outs[..], &b.outs[..]);
            let (mut x, mut y) = (0, 0);
            while x < a.len() && y < b.len() {
                let o = if a[x].0 < b[y].0 {
                    x += 1;
                    a[x - 1]
                } else {
                    y += 1;
                    b[y - 1]
                };
                self.route(&r, o);
            }
            for &o in a[x..].iter().chain(&b[y..]) {
                self.route(&r, o);
            }
            return;
        }
        self.heads.clear();
        self.heads.resize(guards.len(), 0);
        loop {
            let best = guards.iter().enumerate().filter_map(|(p, g)| g.outs.get(self.heads[p]).map(|o| (o.0, p))).min();
            let Some((_, p)) = best else { break };
            let o = guards[p].outs[self.heads[p]];
            self.heads[p] += 1;
            self.route(&r, o);
        }
    }

    /// Routes one output (with its merge key) of a core (as `ChipModel::drain`).
    #[inline]
    fn route(&mut self, r: &Router, (key, o): (u64, CoreOutput)) {
        let i = self.input[(key >> LOW_BITS) as usize].0;
        let layer = r.layer;
        match o {
            CoreOutput::NeuronValue { f, x, y, value } => {
                if r.host {
                    self.host.push((i, 1, HostOutput::NeuronValue { layer, f, x, y, value }));
                }
            }
            CoreOutput::Spike { f, x, y } => {
                if r.monitor {
                    self.host.push((i, 1, HostOutput::Monitor { layer, f, x, y }));
                }
                for d in r.dests.iter().filter(|d| d.enable) {
                    let (c, px, py) = route(d, f, x, y);
                    if d.layer == HOST_LAYER {
                        if r.host {
                            self.host.push((i, 1, HostOutput::Spike { layer, f: c, x: px, y: py }));
                        }
                    } else {
                        self.deliver(layer.into(), d.layer.into(), c, px, py, i);
                    }
                }
            }
        }
    }

    /// One batch, all cores; `false` if the gate was poisoned.
    fn batch(&mut self, sh: &Shared) -> bool {
        {
            let b = sh.batch.read().unwrap_or_else(|e| e.into_inner());
            self.scan(&b);
        }
        for &j in self.order {
            self.build_input(j);
            {
                let mut part = sh.parts[self.id][j].write().unwrap_or_else(|e| e.into_inner());
                self.run_slice(j, &mut part);
            }
            if !sh.gate.wait() {
                return false;
            }
            self.merge_route(j, sh);
        }
        true
    }
}

/// What [`Worker::route`] needs of a core, looked up once per batch.
struct Router {
    layer: u8,
    /// Monitor copies go to the host (worker 0 only).
    monitor: bool,
    dests: [crate::validate::Destination; 2],
    /// This worker collects host outputs (worker 0).
    host: bool,
}

/// What the reader hands worker 0: a batch, and the input error that ended it, if any.
type Batch<E> = (Vec<Timed<HostInput>>, Option<E>);

/// Runs `inputs` through `chip` with `workers` threads sharing every core by
/// features (module docs). `order`: the configured cores in topological
/// order, from the thread rule. Returns (items read, outputs, result).
pub(crate) fn run_split<I, E, S>(
    chip: &mut ChipModel,
    order: &[usize],
    workers: usize,
    batch: usize,
    inputs: I,
    sink: &mut S,
) -> (u64, u64, Result<(), StreamError<E>>)
where
    I: Iterator<Item = Result<Timed<HostInput>, E>> + Send,
    E: Send,
    S: FnMut(&Timed<HostOutput>) -> std::io::Result<()>,
{
    let batch = batch.max(1);
    let shares = shares(chip, order, workers);
    let n = chip.n_cores();
    let sh = Shared {
        batch: RwLock::new(Vec::with_capacity(batch)),
        stop: AtomicBool::new(false),
        gate: Gate::new(workers),
        parts: (0..workers).map(|_| (0..n).map(|_| RwLock::new(Part::default())).collect()).collect(),
    };
    let (tx, rx) = sync_channel::<Batch<E>>(2);
    let (recycle_tx, recycle_rx) = sync_channel::<Vec<Timed<HostInput>>>(4);
    let mut items = 0u64;
    let mut outputs = 0u64;
    let mut result: Result<(), StreamError<E>> = Ok(());
    let view: &ChipModel = chip;
    let done: Vec<Worker> = std::thread::scope(|s| {
        s.spawn(move || reader(inputs, batch, tx, recycle_rx));
        let mut handles = Vec::new();
        for id in 1..workers {
            let (sh, order, shares) = (&sh, order, &shares);
            handles.push(s.spawn(move || {
                let _poison = PoisonOnPanic(&sh.gate);
                let mut w = Worker::new(id, view, order, shares);
                while sh.gate.wait() && !sh.stop.load(Ordering::Acquire) {
                    if !w.batch(sh) {
                        break;
                    }
                }
                w
            }));
        }
        let _poison = PoisonOnPanic(&sh.gate);
        let mut w0 = Worker::new(0, view, order, &shares);
        let mut stop = false;
        while !stop {
            let (mut next, input_err) = rx.recv().unwrap_or_default();
            if next.is_empty() && input_err.is_none() {
                break;
            }
            // Only good items enter the model; the first bad one ends the run after the items before it.
            let bad = next.iter().enumerate().find_map(|(k, ti)| check_item(&ti.item, n).err().map(|e| (k, ti.t, e)));
            if let Some((k, t, error)) = bad {
                next.truncate(k);
                result = Err(StreamError::Item { index: items + k as u64, t, error });
                stop = true;
            } else if let Some(error) = input_err {
                result = Err(StreamError::Input { index: items + next.len() as u64, error });
                stop = true;
            }
            let old = std::mem::replace(&mut *sh.batch.write().unwrap_or_else(|e| e.into_inner()), next);
            let _ = recycle_tx.try_send(old);
            if !sh.gate.wait() || !w0.batch(&sh) {
                break;
            }
            let b = sh.batch.read().unwrap_or_else(|e| e.into_inner());
            items += b.len() as u64;
            w0.host.sort_by_key(|&(i, rank, _)| (i, rank));
            for &(i, _, item) in &w0.host {
                if let Err(e) = sink(&Timed { t: b[i as usize].t, item }) {
                    result = Err(StreamError::Output(e));
                    stop = true;
                    break;
                }
                outputs += 1;
            }
            w0.host.clear();
        }
        sh.stop.store(true, Ordering::Release);
        sh.gate.wait();
        // The reader may be blocked on a full channel: let it see the end.
        drop(rx);
        let mut done = vec![w0];
        done.extend(handles.into_iter().map(|h| h.join().expect("split worker panicked")));
        done
    });
    // Every worker's slices go back into the whole cores.
    let w0 = &done[0];
    let (router, unconfigured, core_items, core_errors) = (w0.router.clone(), w0.unconfigured.clone(), w0.items.clone(), w0.errors.clone());
    let mut slices: Vec<Vec<(usize, CoreModel)>> = vec![Vec::new(); n];
    for w in done {
        for (j, s) in w.slices.into_iter().enumerate() {
            if let Some(s) = s {
                slices[j].push(s);
            }
        }
    }
    for &j in order {
        if let Some(core) = chip.core_mut(j) {
            core.absorb_slices(&slices[j], core_items[j], core_errors[j]);
        }
    }
    chip.add_counts(&router, &unconfigured);
    (items, outputs, result)
}

/// Reads the input into batches for worker 0; stops after an input error
/// or when worker 0 is gone.
fn reader<I, E>(inputs: I, batch: usize, tx: SyncSender<Batch<E>>, recycled: Receiver<Vec<Timed<HostInput>>>)
where
    I: Iterator<Item = Result<Timed<HostInput>, E>>,
{
    let mut buf = Vec::with_capacity(batch);
    for r in inputs {
        match r {
            Ok(ti) => {
                buf.push(ti);
                if buf.len() == batch {
                    let next = recycled.try_recv().map(|mut v| {
                        v.clear();
                        v
                    });
                    let full = std::mem::replace(&mut buf, next.unwrap_or_else(|_| Vec::with_capacity(batch)));
                    if tx.send((full, None)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send((buf, Some(e)));
                return;
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.send((buf, None));
    }
}
