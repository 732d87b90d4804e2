//! Daisy-chained chips: a network deeper than one chip, spread over several
//! chips whose routers are joined by an inter-chip link.
//!
//! **Configuration.** A chain file lists its chips, each a chip configuration
//! as on its own (`{"chips": [{...}, {...}]}`); a file without `chips` is a
//! chain of one, unchanged. A destination may name a layer on another chip:
//! `{"chip": 1, "layer": 0, "enable": true, "pooling": 2, "feature_shift": 0}`.
//! [`validate_chain`] checks every chip as [`crate::validate`] does and then
//! what needs the whole chain, each error naming the chip, layer and field:
//! the target core exists on that chip, the pooled output fits its input
//! (shape and feature shift, as on one chip), no destination cycle runs
//! across chips, and the link rule below.
//!
//! **What crosses the link.** A source core's output spike after pooling
//! and feature shift, with the target chip and core: `(chip, layer, c', x',
//! y')`, exactly the event a destination on the same chip would receive.
//! The receiving chip delivers it to the core if it lies inside that core's
//! input shape, else drops it and counts the drop on its link
//! ([`LinkCounters`]); the sender cannot check the shape of another chip's
//! core.
//!
//! **Order [decision].** The chain behaves as one chip whose cores are the
//! chips' cores numbered chip by chip: one FIFO of pending core items for
//! the whole chain, the same rule as inside one chip (`crate::chip`), so an
//! input item and every consequence of it, on every chip, finish before the
//! next item, and the outputs equal those of one chip with all the cores.
//! Every output carries the timestamp of the input item that caused it.
//!
//! **Leak ticks and resets [decision].** A leak tick reaches every
//! configured core of every chip, chip by chip in ascending core order,
//! before any spike it causes (the chain's one FIFO); a reset resets every
//! chip. Host items other than leak ticks are addressed to one chip.
//!
//! **Link rule [decision].** Per chip, at most one core sends to other chips,
//! and at most one core of other chips sends to it. The link is then an
//! extension of that one source's router stage, as a destination on the
//! same chip is: a full link stalls that source and nothing else, so the
//! chain cannot deadlock where one chip would not (two sources sharing a
//! link could, each waiting behind the other's event). A full link never
//! drops an event: the source waits.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::chip::{check_item, ChipModel, ItemError};
use crate::config::{ChipConfig, JsonError};
use crate::core::CoreItem;
use crate::events::{HostInput, HostOutput, Timed};
use crate::validate::{validate_member, ConfigError, ConfigErrors, ValidConfig};

/// The most chips a chain may have (the link's chip field is 2 bits).
pub const MAX_CHIPS: usize = 4;

/// A chain file: several chips, or (without `chips`) one chip as on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChainConfig {
    Chain(ChainFile),
    Single(ChipConfig),
}

/// `{"chips": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFile {
    pub chips: Vec<ChipConfig>,
}

impl ChainConfig {
    /// The chips, in order.
    pub fn chips(&self) -> &[ChipConfig] {
        match self {
            ChainConfig::Chain(c) => &c.chips,
            ChainConfig::Single(c) => std::slice::from_ref(c),
        }
    }

    /// Parses a chain or single-chip file. A `chips` key makes it a chain;
    /// errors keep the path of the field being read (`chips[1].cnn_layers[0].kernel_size`).
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|error| JsonError { path: String::new(), error })?;
        if v.get("chips").is_some() {
            let de = &mut serde_json::Deserializer::from_str(text);
            let c: ChainFile = serde_path_to_error::deserialize(&mut *de)
                .map_err(|e| JsonError { path: e.path().to_string(), error: e.into_inner() })?;
            Ok(ChainConfig::Chain(c))
        } else {
            Ok(ChainConfig::Single(ChipConfig::from_json(text)?))
        }
    }
}

/// A chain that passed validation: `chips[k]` is chip k.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidChain {
    pub chips: Vec<ValidConfig>,
}

impl ValidChain {
    /// The one chip of a chain of one.
    pub fn single(&self) -> Option<&ValidConfig> {
        match self.chips.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
    /// Every cross-chip edge: (source chip, source core, destination index, target chip, target core).
    pub fn links(&self) -> Vec<(usize, usize, usize, usize, usize)> {
        let mut v = Vec::new();
        for (k, c) in self.chips.iter().enumerate() {
            for (i, l) in c.layers.iter().enumerate() {
                let Some(l) = l else { continue };
                for (d, dest) in l.destinations.iter().enumerate() {
                    if let (true, Some(t)) = (dest.enable, dest.chip) {
                        v.push((k, i, d, usize::from(t), usize::from(dest.layer)));
                    }
                }
            }
        }
        v
    }
}

/// Parses and validates a chain (or single-chip) file.
pub fn parse_chain(text: &str) -> Result<ValidChain, ConfigErrors> {
    let c = ChainConfig::from_json(text).map_err(|e| {
        let path = if e.path.is_empty() || e.path == "." { "<json>".to_string() } else { e.path };
        ConfigErrors(vec![ConfigError { path, message: e.error.to_string() }])
    })?;
    validate_chain(&c)
}

/// Validates every chip and the links between them, reporting every error.
pub fn validate_chain(c: &ChainConfig) -> Result<ValidChain, ConfigErrors> {
    let chips = c.chips();
    let single = matches!(c, ChainConfig::Single(_));
    let prefix = |k: usize, path: &str| if single { path.to_string() } else { format!("chips[{k}].{path}") };
    let mut errors = Vec::new();
    if chips.is_empty() || chips.len() > MAX_CHIPS {
        errors.push(ConfigError { path: "chips".into(), message: format!("{} chips given; a chain has 1..={MAX_CHIPS}", chips.len()) });
        return Err(ConfigErrors(errors));
    }
    let mut valid = Vec::new();
    for (k, cfg) in chips.iter().enumerate() {
        match validate_member(cfg, k, chips.len()) {
            Ok(v) => valid.push(Some(v)),
            Err(e) => {
                errors.extend(e.0.into_iter().map(|e| ConfigError { path: prefix(k, &e.path), ..e }));
                valid.push(None);
            }
        }
    }
    // Cross-chip checks need both ends validated; an invalid chip already has its errors.
    let mut sends: Vec<Option<usize>> = vec![None; chips.len()];
    let mut receives: Vec<Option<(usize, usize)>> = vec![None; chips.len()];
    for (k, v) in valid.iter().enumerate() {
        let Some(v) = v else { continue };
        for (i, l) in v.layers.iter().enumerate() {
            let Some(l) = l else { continue };
            for (d, dest) in l.destinations.iter().enumerate() {
                let (true, Some(t)) = (dest.enable, dest.chip) else { continue };
                let (t, j) = (usize::from(t), usize::from(dest.layer));
                let path = prefix(k, &format!("cnn_layers[{i}].destinations[{d}]"));
                match sends[k] {
                    Some(other) if other != i => errors.push(ConfigError {
                        path: format!("{path}.chip"),
                        message: format!(
                            "core {i} of chip {k} sends to chip {t}, but core {other} of chip {k} already sends to another chip: one core per chip may use the link (two sources sharing it could deadlock)"
                        ),
                    }),
                    _ => sends[k] = Some(i),
                }
                match receives[t] {
                    Some((ok, oi)) if (ok, oi) != (k, i) => errors.push(ConfigError {
                        path: format!("{path}.chip"),
                        message: format!(
                            "chip {t} already receives from core {oi} of chip {ok}; one core of other chips may send to a chip (two sources sharing its link could deadlock)"
                        ),
                    }),
                    _ => receives[t] = Some((k, i)),
                }
                let Some(tv) = valid.get(t).and_then(|x| x.as_ref()) else { continue };
                let target = match tv.layers.get(j).and_then(|x| x.as_ref()) {
                    Some(target) => target,
                    None if j < tv.n_cores() => {
                        errors.push(ConfigError { path: format!("{path}.layer"), message: format!("value {j} names core {j} of chip {t}, which has no layer configured") });
                        continue;
                    }
                    None => {
                        errors.push(ConfigError {
                            path: format!("{path}.layer"),
                            message: format!("value {j} is not a core of chip {t} (0..={})", tv.n_cores() - 1),
                        });
                        continue;
                    }
                };
                let (pw, ph) = (l.w_out / dest.pooling, l.h_out / dest.pooling);
                if (pw, ph) != (target.w_in, target.h_in) {
                    errors.push(ConfigError {
                        path: format!("{path}.pooling"),
                        message: format!(
                            "output {}x{} of chip {k} layer {i} pooled by {} is {pw}x{ph} (x by y), but core {j} of chip {t} has input_shape {}x{} (across the link as on one chip)",
                            l.w_out, l.h_out, dest.pooling, target.w_in, target.h_in
                        ),
                    });
                }
                if dest.feature_shift + l.f > target.c {
                    errors.push(ConfigError {
                        path: format!("{path}.feature_shift"),
                        message: format!(
                            "feature_shift {} + {} features = {} exceeds the {} input features of core {j} of chip {t}",
                            dest.feature_shift,
                            l.f,
                            dest.feature_shift + l.f,
                            target.c
                        ),
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        let chain = ValidChain { chips: valid.into_iter().map(|v| v.expect("no errors")).collect() };
        if let Some(cycle) = cross_chip_cycle(&chain) {
            let names: Vec<String> = cycle.iter().map(|(k, i)| format!("chip {k} core {i}")).collect();
            let (k, i) = cycle[0];
            errors.push(ConfigError {
                path: prefix(k, &format!("cnn_layers[{i}].destinations")),
                message: format!("destination cycle across chips: {} -> {}; a chain must be acyclic across its chips", names.join(" -> "), names[0]),
            });
        } else {
            return Ok(chain);
        }
    }
    Err(ConfigErrors(errors))
}

/// A destination cycle that crosses at least one link, as (chip, core) nodes.
fn cross_chip_cycle(c: &ValidChain) -> Option<Vec<(usize, usize)>> {
    let succ = |k: usize, i: usize| -> Vec<(usize, usize)> {
        let Some(l) = c.chips[k].layers.get(i).and_then(|l| l.as_ref()) else { return Vec::new() };
        l.destinations
            .iter()
            .filter(|d| d.enable && d.layer != crate::presets::HOST_LAYER)
            .map(|d| (d.chip.map_or(k, usize::from), usize::from(d.layer)))
            .filter(|&(t, j)| c.chips.get(t).and_then(|x| x.layers.get(j)).is_some_and(|x| x.is_some()))
            .collect()
    };
    let nodes: Vec<(usize, usize)> = c.chips.iter().enumerate().flat_map(|(k, x)| (0..x.n_cores()).filter(move |&i| x.layers[i].is_some()).map(move |i| (k, i))).collect();
    let mut state: std::collections::BTreeMap<(usize, usize), u8> = std::collections::BTreeMap::new();
    for &start in &nodes {
        if state.contains_key(&start) {
            continue;
        }
        let mut stack: Vec<((usize, usize), Vec<(usize, usize)>, usize)> = vec![(start, succ(start.0, start.1), 0)];
        state.insert(start, 1);
        while let Some((n, next, at)) = stack.last_mut() {
            if *at == next.len() {
                state.insert(*n, 2);
                stack.pop();
                continue;
            }
            let m = next[*at];
            *at += 1;
            match state.get(&m) {
                None => {
                    state.insert(m, 1);
                    let s = succ(m.0, m.1);
                    stack.push((m, s, 0));
                }
                Some(1) => {
                    let from = stack.iter().position(|(s, _, _)| *s == m).expect("on the stack");
                    let cycle: Vec<(usize, usize)> = stack[from..].iter().map(|(s, _, _)| *s).collect();
                    // Cycles inside one chip are that chip's business (allow_cycles).
                    if cycle.iter().any(|&(k, _)| k != cycle[0].0) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// A host output of a chain: the chip it left and the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChainOutput {
    pub chip: u8,
    #[serde(flatten)]
    pub item: HostOutput,
}

/// Counters of one chip's link input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkCounters {
    /// Events that arrived from other chips.
    pub received: u64,
    /// Of those, outside the target core's input shape: dropped.
    pub drops: u64,
}

/// The golden model of a chain of chips.
#[derive(Debug, Clone)]
pub struct ChainModel {
    chips: Vec<ChipModel>,
    link: Vec<LinkCounters>,
    /// Pending core items: (chip, core, item, arrived over the link).
    queue: VecDeque<(u8, usize, CoreItem, bool)>,
    /// Guard against destination cycles on one chip that never settle.
    pub max_items_per_input: u64,
}

impl ChainModel {
    pub fn new(c: &ValidChain) -> Self {
        Self { chips: c.chips.iter().map(ChipModel::new).collect(), link: vec![LinkCounters::default(); c.chips.len()], queue: VecDeque::new(), max_items_per_input: 100_000_000 }
    }
    pub fn n_chips(&self) -> usize {
        self.chips.len()
    }
    /// The model of chip k (its cores' and router's counters).
    pub fn chip(&self, k: usize) -> &ChipModel {
        &self.chips[k]
    }
    pub fn link_counters(&self, k: usize) -> LinkCounters {
        self.link[k]
    }
    /// Selects the update loop of every core of every chip; `false` (and no
    /// change) if the CPU lacks it.
    pub fn set_kernel_level(&mut self, level: crate::kernel::Level) -> bool {
        self.chips.iter_mut().all(|c| c.set_kernel_level(level))
    }

    /// Records every item each core accepts, per chip (`ChipModel::trace`).
    pub fn record_trace(&mut self) {
        for c in &mut self.chips {
            c.trace = Some(Vec::new());
        }
    }
    /// The recorded trace of chip k.
    pub fn take_trace(&mut self, k: usize) -> Vec<(usize, CoreItem)> {
        self.chips[k].trace.replace(Vec::new()).unwrap_or_default()
    }

    /// Processes one host input item addressed to chip `chip` (a leak tick
    /// goes to every chip) to completion; outputs are appended to `out`.
    pub fn accept(&mut self, chip: u8, item: &HostInput, out: &mut Vec<ChainOutput>) -> Result<(), ItemError> {
        let k = usize::from(chip);
        let Some(c) = self.chips.get_mut(k) else {
            return Err(ItemError::OutOfRange { item: "item", field: "chip", value: k as i64, limit: format!("0..={}", self.chips.len() - 1) });
        };
        check_item(item, c.n_cores())?;
        let q = &mut self.queue;
        match *item {
            HostInput::Dvs { x, y, p } => c.dvs_into(x, y, p, |o| out.push(ChainOutput { chip, item: o }), |j, it| q.push_back((chip, j, it, false))),
            HostInput::Spike { layer, c: ch, x, y } => q.push_back((chip, layer.into(), CoreItem::Spike { c: ch, x, y }, false)),
            HostInput::LeakTick => {
                for (k, c) in self.chips.iter().enumerate() {
                    // Cores without a layer ignore the tick (it is not an error).
                    for i in (0..c.n_cores()).filter(|&i| c.core(i).is_some()) {
                        q.push_back((k as u8, i, CoreItem::LeakTick, false));
                    }
                }
            }
            HostInput::WriteNeuron { layer, f, x, y, value } => q.push_back((chip, layer.into(), CoreItem::WriteNeuron { f, x, y, value }, false)),
            HostInput::ReadNeuron { layer, f, x, y } => q.push_back((chip, layer.into(), CoreItem::ReadNeuron { f, x, y }, false)),
        }
        self.drain(out)
    }

    fn drain(&mut self, out: &mut Vec<ChainOutput>) -> Result<(), ItemError> {
        let mut budget = self.max_items_per_input;
        let Self { chips, link, queue, .. } = self;
        while let Some((k, i, item, linked)) = queue.pop_front() {
            let ku = usize::from(k);
            // An event from the link takes its place in the FIFO when it is
            // sent (as a destination on the same chip would) and meets the
            // receiving chip's shape check when its turn comes.
            if linked {
                link[ku].received += 1;
                let CoreItem::Spike { c, x, y } = item else { unreachable!("only spikes cross the link") };
                if !chips[ku].link_accepts(i, c, x, y) {
                    link[ku].drops += 1;
                    continue;
                }
            }
            if budget == 0 {
                queue.clear();
                return Err(ItemError::Runaway(self.max_items_per_input));
            }
            budget -= 1;
            // Both sinks append to the one FIFO, in the order the router sends.
            let q = std::cell::RefCell::new(&mut *queue);
            chips[ku].step(
                i,
                item,
                |o| out.push(ChainOutput { chip: k, item: o }),
                |j, it| q.borrow_mut().push_back((k, j, it, false)),
                |t, j, c, x, y| q.borrow_mut().push_back((t, usize::from(j), CoreItem::Spike { c, x, y }, true)),
            );
        }
        Ok(())
    }

    /// Runs a timed input stream addressed to chip `chip` (leak ticks to
    /// every chip); every output carries its cause's timestamp.
    pub fn run(&mut self, chip: u8, items: &[Timed<HostInput>]) -> Result<Vec<Timed<ChainOutput>>, (usize, ItemError)> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for (n, ti) in items.iter().enumerate() {
            buf.clear();
            self.accept(chip, &ti.item, &mut buf).map_err(|e| (n, e))?;
            out.extend(buf.iter().map(|&item| Timed { t: ti.t, item }));
        }
        Ok(out)
    }
}
