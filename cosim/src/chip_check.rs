//! Whole-chip checks (spec §9) on a [`ChipRun`]:
//!
//! 1. **Per-core scoreboards**: each configured core's model is fed exactly
//!    the items the RTL core accepted; its error counter must equal the RTL's.
//! 2. **Router checks** from those model outputs: per source layer, the
//!    monitor copies, readout spikes and neuron values on the host output
//!    must equal the expected sequences exactly (spec §5 order and
//!    transform); every routed copy must reach its destination core once, in
//!    per-source order, none lost or duplicated (the destination's accepted
//!    stream must be exactly the union of its sources' expected streams, and
//!    each source's stream must be a subsequence of it); the drop counters
//!    must equal the expected drops. The DVS layer (spec §7), host items and
//!    broadcast leak ticks are sources like the cores.
//! 3. **End to end**, when every core has at most one source: the host
//!    outputs of each source layer and kind equal the golden chip model's.
//!
//! The first failure is reported with context: the check, the layer, the
//! index, expected vs got, and the host input item that caused it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use spikehdl_model::chip::route;
use spikehdl_model::events::{HostInput, HostOutput};
use spikehdl_model::presets::{DVS_LAYER, HOST_LAYER};
use spikehdl_model::{dvs, ChipModel, CoreItem, CoreModel, CoreOutput, ValidConfig};

use crate::chip_dut::ChipRun;

/// Figures of a passing run.
#[derive(Debug, Clone, Default)]
pub struct ChipCheckStats {
    pub cycles: u64,
    pub inputs: usize,
    pub outputs: usize,
    pub core_items: Vec<usize>,
    pub synaptic_updates: u64,
    /// Whether the end-to-end comparison with the chip model applied.
    pub end_to_end: bool,
}

/// A failed check.
#[derive(Debug, Clone)]
pub struct ChipMismatch {
    pub check: String,
    /// Host input item index the difference is attributed to, if known.
    pub input_index: Option<usize>,
    pub report: String,
}

impl std::fmt::Display for ChipMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.report)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Spike,
    Monitor,
    Value,
}

fn kind_of(o: &HostOutput) -> Kind {
    match o {
        HostOutput::Spike { .. } => Kind::Spike,
        HostOutput::Monitor { .. } => Kind::Monitor,
        HostOutput::NeuronValue { .. } => Kind::Value,
    }
}

/// Source of a core input stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Src {
    Host,
    Leak,
    Dvs,
    Core(usize),
}

/// Does every core have at most one source (host items to a core, the DVS
/// layer, another core; leak ticks do not count: they are issued when idle)?
pub fn single_source(cfg: &ValidConfig, items: &[HostInput]) -> bool {
    let n = cfg.n_cores();
    let mut srcs: Vec<std::collections::BTreeSet<Src>> = vec![Default::default(); n];
    for it in items {
        match *it {
            HostInput::Spike { layer, .. } => {
                srcs[layer as usize].insert(Src::Host);
            }
            HostInput::WriteNeuron { .. } | HostInput::ReadNeuron { .. } | HostInput::LeakTick | HostInput::Dvs { .. } => {}
        }
    }
    if let Some(d) = &cfg.dvs {
        if items.iter().any(|i| matches!(i, HostInput::Dvs { .. })) {
            for j in d.destinations.iter().flatten() {
                if (*j as usize) < n {
                    srcs[*j as usize].insert(Src::Dvs);
                }
            }
        }
    }
    for (i, l) in cfg.layers.iter().enumerate() {
        if let Some(l) = l {
            for d in l.destinations.iter().filter(|d| d.enable && d.layer != HOST_LAYER) {
                if (d.layer as usize) < n {
                    srcs[d.layer as usize].insert(Src::Core(i));
                }
            }
        }
    }
    srcs.iter().all(|s| s.len() <= 1)
}

fn describe(i: Option<usize>, items: &[HostInput]) -> String {
    match i {
        Some(i) if i < items.len() => format!("input item [{i}] {:?}", items[i]),
        Some(i) => format!("input item [{i}] (after the last item)"),
        None => "input item unknown".into(),
    }
}

/// What a run is checked with: the configuration, the host items and the run.
struct Ctx<'a> {
    cfg: &'a ValidConfig,
    items: &'a [HostInput],
    run: &'a ChipRun,
}

impl Ctx<'_> {
    fn n(&self) -> usize {
        self.cfg.n_cores()
    }

    /// A mismatch report naming the check, the input item it is attributed to and the run.
    fn fail(&self, check: &str, input_index: Option<usize>, body: String) -> ChipMismatch {
        let mut report = format!("RTL/model mismatch ({check}): {body}\n  caused by {}\n", describe(input_index, self.items));
        let _ = writeln!(
            report,
            "  run: {} of {} input items accepted, {} host outputs, {} cycles",
            self.run.inputs_accepted,
            self.items.len(),
            self.run.outputs.len(),
            self.run.cycles
        );
        ChipMismatch { check: check.into(), input_index, report }
    }

    /// Is (c, x, y) inside the input shape of core `j`?
    fn inside(&self, j: usize, c: u16, x: u16, y: u16) -> bool {
        self.cfg.layers.get(j).and_then(|l| l.as_ref()).is_some_and(|t| u32::from(c) < t.c && u32::from(x) < t.w_in && u32::from(y) < t.h_in)
    }
}

/// What the router must do, derived from the host items and from each core
/// model's outputs: host outputs per (source layer, kind), the stream each
/// core must receive per source, and the drop counters.
struct Expected {
    host: BTreeMap<(u8, Kind), Vec<HostOutput>>,
    to_core: Vec<BTreeMap<Src, Vec<CoreItem>>>,
    drops: Vec<u64>,
}

/// Checks a run of `items` on the RTL against the model (see module docs):
/// the named checks below, in order; the first failure is returned.
pub fn check_chip_run(cfg: &ValidConfig, items: &[HostInput], run: &ChipRun) -> Result<ChipCheckStats, ChipMismatch> {
    let cx = Ctx { cfg, items, run };
    check_protocol(&cx)?;
    let mut exp = expected_from_host_items(&cx);
    let mut stats = check_core_scoreboards(&cx, &mut exp)?;
    check_host_outputs(&cx, &exp)?;
    check_delivery(&cx, &exp)?;
    check_drop_counters(&cx, &exp)?;
    if single_source(cfg, items) {
        stats.end_to_end = true;
        check_end_to_end(&cx)?;
    }
    Ok(stats)
}

/// Stream contract, decodable outputs, watchdog and work bounds (recorded by the driver).
fn check_protocol(cx: &Ctx) -> Result<(), ChipMismatch> {
    match cx.run.errors.first() {
        Some(e) => Err(cx.fail("protocol", Some(cx.run.inputs_accepted), format!("{e} ({} problems)", cx.run.errors.len()))),
        None => Ok(()),
    }
}

/// Expectations from the host items alone: DVS events (spec §7), host
/// spikes, writes and reads, broadcast leak ticks.
fn expected_from_host_items(cx: &Ctx) -> Expected {
    let n = cx.n();
    let mut exp = Expected { host: BTreeMap::new(), to_core: vec![BTreeMap::new(); n], drops: vec![0u64; n + 1] };
    for it in cx.items {
        match *it {
            HostInput::Dvs { x, y, p } => {
                let Some(d) = &cx.cfg.dvs else { continue };
                let Some((c, x, y)) = dvs::transform(d, x.into(), y.into(), p) else { continue };
                if d.monitor_enable {
                    exp.host.entry((DVS_LAYER, Kind::Monitor)).or_default().push(HostOutput::Monitor { layer: DVS_LAYER, f: c, x, y });
                }
                for j in d.destinations.iter().flatten() {
                    let j = *j as usize;
                    if cx.inside(j, c, x, y) {
                        exp.to_core[j].entry(Src::Dvs).or_default().push(CoreItem::Spike { c, x, y });
                    } else {
                        exp.drops[n] += 1;
                    }
                }
            }
            HostInput::Spike { layer, c, x, y } => exp.to_core[layer as usize].entry(Src::Host).or_default().push(CoreItem::Spike { c, x, y }),
            HostInput::LeakTick => {
                for j in 0..n {
                    if cx.cfg.layers[j].is_some() {
                        exp.to_core[j].entry(Src::Leak).or_default().push(CoreItem::LeakTick);
                    }
                }
            }
            HostInput::WriteNeuron { layer, f, x, y, value } => {
                exp.to_core[layer as usize].entry(Src::Host).or_default().push(CoreItem::WriteNeuron { f, x, y, value })
            }
            HostInput::ReadNeuron { layer, f, x, y } => exp.to_core[layer as usize].entry(Src::Host).or_default().push(CoreItem::ReadNeuron { f, x, y }),
        }
    }
    exp
}

/// Per-core scoreboards: each core model gets exactly the items its RTL core
/// accepted; error counters must agree. Its outputs extend the expectations
/// (monitor copies, host readout, routed copies, drops).
#[allow(clippy::needless_range_loop)] // cores, counters and streams are indexed in parallel
fn check_core_scoreboards(cx: &Ctx, exp: &mut Expected) -> Result<ChipCheckStats, ChipMismatch> {
    let run = cx.run;
    let mut stats = ChipCheckStats { cycles: run.cycles, inputs: run.inputs_accepted, outputs: run.outputs.len(), ..Default::default() };
    for i in 0..cx.n() {
        let accepted = &run.accepted[i];
        // (an RTL chip larger than the configuration: cores >= n are unconfigured)
        stats.core_items.push(accepted.len());
        let Some(layer) = cx.cfg.layers[i].as_ref() else {
            // Unconfigured core: only broadcast leak ticks (ignored) or items the model counts as errors.
            continue;
        };
        let mut m = CoreModel::new(layer);
        let mut outs = Vec::new();
        for it in accepted {
            m.accept(*it, &mut outs);
        }
        stats.synaptic_updates += m.counters().synaptic_updates;
        if run.err[i] != m.counters().errors {
            return Err(cx.fail("core error counter", None, format!("core {i}: model {} errors, RTL {}", m.counters().errors, run.err[i])));
        }
        let li = i as u8;
        for o in &outs {
            match *o {
                CoreOutput::NeuronValue { f, x, y, value } => {
                    exp.host.entry((li, Kind::Value)).or_default().push(HostOutput::NeuronValue { layer: li, f, x, y, value })
                }
                CoreOutput::Spike { f, x, y } => {
                    if layer.monitor_enable {
                        exp.host.entry((li, Kind::Monitor)).or_default().push(HostOutput::Monitor { layer: li, f, x, y });
                    }
                    for d in layer.destinations.iter().filter(|d| d.enable) {
                        let (c, px, py) = route(d, f, x, y);
                        if d.layer == HOST_LAYER {
                            exp.host.entry((li, Kind::Spike)).or_default().push(HostOutput::Spike { layer: li, f: c, x: px, y: py });
                        } else if cx.inside(d.layer.into(), c, px, py) {
                            exp.to_core[d.layer as usize].entry(Src::Core(i)).or_default().push(CoreItem::Spike { c, x: px, y: py });
                        } else {
                            exp.drops[i] += 1;
                        }
                    }
                }
            }
        }
    }
    Ok(stats)
}

/// Router, host side: per (source layer, kind), the host outputs equal the
/// expected sequence exactly (spec §5 order and transform).
fn check_host_outputs(cx: &Ctx, exp: &Expected) -> Result<(), ChipMismatch> {
    let host_got = host_outputs_by_key(cx.run);
    let keys: std::collections::BTreeSet<(u8, Kind)> = exp.host.keys().chain(host_got.keys()).copied().collect();
    for k in keys {
        let e = exp.host.get(&k).map(|v| &v[..]).unwrap_or(&[]);
        let g = host_got.get(&k).map(|v| &v[..]).unwrap_or(&[]);
        if let Some(ix) = first_diff(e.len(), g.len(), |a| e[a] == g[a].0) {
            let mut body = format!("host outputs of layer {} kind {:?} differ at index {ix} (expected {}, got {})\n", k.0, k.1, e.len(), g.len());
            for j in ix.saturating_sub(3)..ix {
                let _ = writeln!(body, "    [{j}] both: {:?}", e[j]);
            }
            let _ = writeln!(body, "    [{ix}] expected: {}", e.get(ix).map_or("nothing".into(), |x| format!("{x:?}")));
            let _ = write!(body, "    [{ix}] got:      {}", g.get(ix).map_or("nothing".into(), |x| format!("{:?}", x.0)));
            return Err(cx.fail("router: host output", g.get(ix).map(|x| x.1), body));
        }
    }
    Ok(())
}

/// Router, core side: every routed copy reaches its destination once (the
/// accepted stream is exactly the union of its sources' streams), and each
/// source's stream arrives in order (a subsequence of the accepted stream).
fn check_delivery(cx: &Ctx, exp: &Expected) -> Result<(), ChipMismatch> {
    for j in 0..cx.n() {
        if cx.cfg.layers[j].is_none() {
            continue;
        }
        let got = &cx.run.accepted[j];
        let mut want: HashMap<CoreItem, i64> = HashMap::new();
        for v in exp.to_core[j].values() {
            for it in v {
                *want.entry(*it).or_default() += 1;
            }
        }
        let mut have: HashMap<CoreItem, i64> = HashMap::new();
        for it in got {
            *have.entry(*it).or_default() += 1;
        }
        if want != have {
            let mut diffs: Vec<String> = Vec::new();
            for (it, &c) in &want {
                let h = have.get(it).copied().unwrap_or(0);
                if h != c {
                    diffs.push(format!("{it:?}: expected {c}x, delivered {h}x"));
                }
            }
            for (it, &h) in &have {
                if !want.contains_key(it) {
                    diffs.push(format!("{it:?}: expected 0x, delivered {h}x"));
                }
            }
            diffs.sort();
            let body = format!(
                "core {j} input: events lost or duplicated ({} expected, {} accepted): {}",
                want.values().sum::<i64>(),
                got.len(),
                diffs.iter().take(6).cloned().collect::<Vec<_>>().join("; ")
            );
            return Err(cx.fail("router: delivery", None, body));
        }
        for (src, seq) in &exp.to_core[j] {
            if let Some(k) = not_subsequence(seq, got) {
                return Err(cx.fail(
                    "router: per-source order",
                    None,
                    format!("core {j}: the stream from {src:?} is not in order in what core {j} accepted: item [{k}] {:?} out of order", seq[k]),
                ));
            }
        }
    }
    Ok(())
}

/// The RTL's host outputs per (source layer, kind), each with the index of
/// the last input item accepted before it (the item it is attributed to).
fn host_outputs_by_key(run: &ChipRun) -> BTreeMap<(u8, Kind), Vec<(HostOutput, usize)>> {
    let mut got: BTreeMap<(u8, Kind), Vec<(HostOutput, usize)>> = BTreeMap::new();
    for s in &run.outputs {
        got.entry((s.out.layer(), kind_of(&s.out))).or_default().push((s.out, s.inputs_before.saturating_sub(1)));
    }
    got
}

/// Router drop counters (events outside a destination's input shape) per source.
fn check_drop_counters(cx: &Ctx, exp: &Expected) -> Result<(), ChipMismatch> {
    let n = cx.n();
    // The RTL chip may have more cores than the configuration: its DVS counter is the last one.
    let mut drops_got: Vec<u64> = cx.run.drops.iter().take(n).copied().collect();
    drops_got.resize(n, 0);
    drops_got.push(cx.run.drops.last().copied().unwrap_or(0));
    for (s, (&e, &g)) in exp.drops.iter().zip(&drops_got).enumerate() {
        if e != g {
            let name = if s == n { "DVS layer".to_string() } else { format!("core {s}") };
            return Err(cx.fail("router: drop counter", None, format!("drops of {name}: expected {e}, RTL {g}")));
        }
    }
    Ok(())
}

/// End to end, when every core has one source: the host outputs of each
/// source layer and kind equal the golden chip model's.
fn check_end_to_end(cx: &Ctx) -> Result<(), ChipMismatch> {
    let mut model = ChipModel::new(cx.cfg);
    let mut exp: BTreeMap<(u8, Kind), Vec<(HostOutput, usize)>> = BTreeMap::new();
    let mut buf = Vec::new();
    for (i, it) in cx.items.iter().enumerate() {
        buf.clear();
        model.accept(it, &mut buf).map_err(|e| cx.fail("model", Some(i), e.to_string()))?;
        for o in &buf {
            exp.entry((o.layer(), kind_of(o))).or_default().push((*o, i));
        }
    }
    let host_got = host_outputs_by_key(cx.run);
    let keys: std::collections::BTreeSet<(u8, Kind)> = exp.keys().chain(host_got.keys()).copied().collect();
    for k in keys {
        let e = exp.get(&k).map(|v| &v[..]).unwrap_or(&[]);
        let g = host_got.get(&k).map(|v| &v[..]).unwrap_or(&[]);
        if let Some(ix) = first_diff(e.len(), g.len(), |a| e[a].0 == g[a].0) {
            let body = format!(
                "end to end: layer {} kind {:?} index {ix}: model {}, RTL {}",
                k.0,
                k.1,
                e.get(ix).map_or("nothing".into(), |x| format!("{:?}", x.0)),
                g.get(ix).map_or("nothing".into(), |x| format!("{:?}", x.0))
            );
            return Err(cx.fail("end to end", e.get(ix).map(|x| x.1).or(g.get(ix).map(|x| x.1)), body));
        }
    }
    Ok(())
}

fn first_diff(le: usize, lg: usize, eq: impl Fn(usize) -> bool) -> Option<usize> {
    (0..le.min(lg)).find(|&i| !eq(i)).or_else(|| (le != lg).then(|| le.min(lg)))
}

/// Index of the first item of `seq` that cannot be matched, in order, in `stream`.
fn not_subsequence(seq: &[CoreItem], stream: &[CoreItem]) -> Option<usize> {
    let mut k = 0;
    for it in stream {
        if k < seq.len() && *it == seq[k] {
            k += 1;
        }
    }
    (k < seq.len()).then_some(k)
}

/// Instantiates `chip`, loads `cfg`, runs `items` and checks the run.
/// `Err` holds the report (with the topology description, if given).
pub fn run_and_check(
    chip: &'static spikehdl_hdl::chip_regmap::ChipPreset,
    cfg: &ValidConfig,
    items: &[HostInput],
    opts: crate::chip_dut::ChipRunOpts,
    what: &str,
) -> Result<ChipCheckStats, String> {
    // Power-up values from the run's seed (printed with the run options).
    let mut dut = crate::chip_dut::ChipDut::with_power_up(chip, None, spikehdl_sim::PowerUp::random(opts.seed)).map_err(|e| e.to_string())?;
    dut.configure(cfg)?;
    let opts = crate::chip_dut::ChipRunOpts { budget: opts.budget.or_else(|| crate::chip_dut::Budget::from_model(cfg, items, &opts)), ..opts };
    let run = dut.run(items, opts, &mut |_| {});
    check_chip_run(cfg, items, &run).map_err(|m| {
        let mut s = format!("chip {}: {}\n{what}\nrun options: {opts:?}\n", chip.module, m.report);
        let _ = writeln!(s, "input items ({}):", items.len());
        for (i, it) in items.iter().enumerate().take(60) {
            let _ = writeln!(s, "  [{i}] {it:?}");
        }
        s
    })
}
