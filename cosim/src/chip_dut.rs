//! The whole chip under Verilator (`chip_tiny`, `chip_fpga`, `chip_reference`),
//! driven through its flat ports (see `hdl/src/chip.rs`).
//!
//! The driver presents host items in order on the valid/ready input stream
//! (payload held until the transfer). Leak ticks, neuron writes and neuron
//! reads are presented only when the chip's `idle` port is high (spec §9 for
//! ticks; for writes and reads it fixes their place in the target core's
//! stream, so whole-chip runs are comparable with the model). The host output
//! is stalled at random. Every cycle it records which item each core accepted
//! (`obs<i>_valid` / `obs<i>_item`) and checks the output stream contract. A
//! watchdog ends the run with an error when nothing moves for
//! [`ChipRunOpts::watchdog`] cycles (e.g. a destination cycle that deadlocks).

use spikehdl_hdl::chip_regmap::{chip_config_writes, decode_core_word, decode_host_output, encode_host_item, ChipPreset};
use spikehdl_model::events::{HostInput, HostOutput};
use spikehdl_model::{CoreItem, ValidConfig};
use spikehdl_sim::{InPort, Model, OutPort, PowerUp, Settle, SimError};

use crate::stream::{StreamDriver, StreamMonitor};
use crate::Rng;

/// Options of one run.
#[derive(Debug, Clone, Copy)]
pub struct ChipRunOpts {
    /// Percent of cycles `out_ready` is low.
    pub out_stall: u8,
    /// Percent of cycles the driver withholds the next input item.
    pub in_stall: u8,
    pub seed: u64,
    /// Give up after this many cycles.
    pub max_cycles: u64,
    /// Give up when no transfer happens anywhere for this many cycles.
    pub watchdog: u64,
    /// Upper bounds derived from the model's work ([`Budget::from_model`]):
    /// a run that exceeds one is a failure at once, not a hang or a flood.
    pub budget: Option<Budget>,
    /// Present every item only when the chip is idle (not only leak ticks,
    /// writes and reads). A destination cycle can deadlock the chip's
    /// finite queues when input events stream into it (spec §5 allows
    /// that); one item at a time keeps a cycle that settles logically from
    /// deadlocking physically.
    pub serial: bool,
}

impl Default for ChipRunOpts {
    fn default() -> Self {
        Self { out_stall: 0, in_stall: 0, seed: 1, max_cycles: u64::MAX, watchdog: 200_000, budget: None, serial: false }
    }
}

/// How much a run may do: host outputs, items accepted by all cores together,
/// and cycles. Progress alone cannot tell a flooding RTL (a leak loop that never
/// ends, a router that sends copies forever) from a long run; the model's own
/// work can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub outputs: u64,
    pub core_items: u64,
    pub cycles: u64,
}

impl Budget {
    /// Runs the golden chip model on `items` and allows a generous multiple of
    /// its work. With fan-in, the RTL interleaves a core's sources in another
    /// (legal) order than the model, so its counts may differ; 4× plus a
    /// constant covers that, and a flood still fails within a few times the
    /// normal run. Cycles: the RTL does one neuron update per cycle per core,
    /// so the serial sum of every core's updates, items and outputs, stretched
    /// by the stall rates, bounds a correct run. `None` when the model itself
    /// rejects an item.
    pub fn from_model(cfg: &ValidConfig, items: &[HostInput], opts: &ChipRunOpts) -> Option<Budget> {
        let mut model = spikehdl_model::ChipModel::new(cfg);
        let mut buf = Vec::new();
        let mut outputs = 0u64;
        for it in items {
            buf.clear();
            model.accept(it, &mut buf).ok()?;
            outputs += buf.len() as u64;
        }
        let (mut updates, mut core_items) = (0u64, 0u64);
        for i in 0..cfg.n_cores() {
            let c = model.core_counters(i);
            updates += c.synaptic_updates;
            core_items += c.items_in + c.errors;
        }
        let stretch = |v: u64, stall: u8| v.saturating_mul(100) / (100 - u64::from(stall.min(99)));
        let work = updates + core_items + outputs + items.len() as u64;
        let cycles = stretch(stretch(work.saturating_mul(8), opts.out_stall), opts.in_stall).saturating_add(100_000);
        Some(Budget { outputs: outputs * 4 + 256, core_items: core_items * 4 + 256, cycles })
    }
}

/// A host output seen on the port, with the number of input items accepted before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenOutput {
    pub out: HostOutput,
    pub inputs_before: usize,
    pub cycle: u64,
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct ChipRun {
    /// Items each core accepted, in order (core id = index).
    pub accepted: Vec<Vec<CoreItem>>,
    /// Host outputs, in order.
    pub outputs: Vec<SeenOutput>,
    /// Host input items accepted.
    pub inputs_accepted: usize,
    /// Cycle at which each input item was accepted (relative to the run start).
    pub input_cycles: Vec<u64>,
    /// Cycles from start until idle with every item accepted.
    pub cycles: u64,
    /// Core error counters at the end.
    pub err: Vec<u64>,
    /// Router drop counters at the end (index N: the DVS layer).
    pub drops: Vec<u64>,
    /// Contract breaches, undecodable outputs, watchdog / cycle limit.
    pub errors: Vec<String>,
}

struct Ports {
    reset: InPort,
    in_valid: InPort,
    in_ready: OutPort,
    in_kind: InPort,
    in_layer: InPort,
    in_a: InPort,
    in_x: InPort,
    in_y: InPort,
    in_p: InPort,
    in_value: InPort,
    out_valid: OutPort,
    out_ready: InPort,
    out_kind: OutPort,
    out_layer: OutPort,
    out_f: OutPort,
    out_x: OutPort,
    out_y: OutPort,
    out_value: OutPort,
    cfg_valid: InPort,
    cfg_addr: InPort,
    cfg_data: InPort,
    idle: OutPort,
    obs_valid: Vec<OutPort>,
    obs_item: Vec<OutPort>,
    err: Vec<OutPort>,
    drop: Vec<OutPort>,
}

/// A verilated chip.
pub struct ChipDut {
    m: Model,
    p: Ports,
    pub chip: &'static ChipPreset,
}

impl ChipDut {
    /// Instantiates `chip` with every register at zero (optionally tracing a
    /// VCD) and resets it.
    pub fn new(chip: &'static ChipPreset, vcd: Option<&std::path::Path>) -> Result<Self, SimError> {
        Self::with_power_up(chip, vcd, PowerUp::Zero)
    }

    /// As [`ChipDut::new`], with the given power-up values (reset follows).
    pub fn with_power_up(chip: &'static ChipPreset, vcd: Option<&std::path::Path>, power_up: PowerUp) -> Result<Self, SimError> {
        let m = Model::with_power_up(chip.module, vcd, power_up)?;
        let n = chip.n_cores();
        let each = |fmt: &dyn Fn(usize) -> String, k: usize| -> Result<Vec<OutPort>, SimError> { (0..k).map(|i| m.output(&fmt(i))).collect() };
        let p = Ports {
            reset: m.input("reset")?,
            in_valid: m.input("in_valid")?,
            in_ready: m.output("in_ready")?,
            in_kind: m.input("in_kind")?,
            in_layer: m.input("in_layer")?,
            in_a: m.input("in_a")?,
            in_x: m.input("in_x")?,
            in_y: m.input("in_y")?,
            in_p: m.input("in_p")?,
            in_value: m.input("in_value")?,
            out_valid: m.output("out_valid")?,
            out_ready: m.input("out_ready")?,
            out_kind: m.output("out_kind")?,
            out_layer: m.output("out_layer")?,
            out_f: m.output("out_f")?,
            out_x: m.output("out_x")?,
            out_y: m.output("out_y")?,
            out_value: m.output("out_value")?,
            cfg_valid: m.input("cfg_valid")?,
            cfg_addr: m.input("cfg_addr")?,
            cfg_data: m.input("cfg_data")?,
            idle: m.output("idle")?,
            obs_valid: each(&|i| format!("obs{i}_valid"), n)?,
            obs_item: each(&|i| format!("obs{i}_item"), n)?,
            err: each(&|i| format!("err{i}"), n)?,
            drop: each(&|i| format!("drop{i}"), n + 1)?,
        };
        let mut d = Self { m, p, chip };
        d.reset();
        Ok(d)
    }

    pub fn n_cores(&self) -> usize {
        self.chip.n_cores()
    }

    pub fn cycles(&self) -> u64 {
        self.m.cycles()
    }

    /// When evals settle the input logic (see [`Settle`]).
    pub fn set_settle(&mut self, s: Settle) {
        self.m.set_settle(s);
    }

    /// Flushes the VCD file, if tracing.
    pub fn flush(&mut self) {
        self.m.flush();
    }

    /// Synchronous reset for 4 cycles (configuration is kept).
    pub fn reset(&mut self) {
        for port in [self.p.in_valid, self.p.out_ready, self.p.cfg_valid] {
            self.m.set(port, 0);
        }
        self.m.set(self.p.reset, 1);
        self.m.tick(4);
        self.m.set(self.p.reset, 0);
        self.m.eval();
    }

    /// Loads `cfg` through the configuration port, one write per cycle.
    pub fn configure(&mut self, cfg: &ValidConfig) -> Result<usize, String> {
        let writes = chip_config_writes(cfg, self.chip)?;
        self.m.set(self.p.cfg_valid, 1);
        for &(a, d) in &writes {
            self.m.set(self.p.cfg_addr, a.into());
            self.m.set(self.p.cfg_data, d.into());
            self.m.tick(1);
        }
        self.m.set(self.p.cfg_valid, 0);
        self.m.eval();
        Ok(writes.len())
    }

    fn present(&mut self, item: &HostInput) {
        let e = encode_host_item(item);
        let p = &self.p;
        self.m.set(p.in_kind, e.kind.into());
        self.m.set(p.in_layer, e.layer.into());
        self.m.set(p.in_a, e.a.into());
        self.m.set(p.in_x, e.x.into());
        self.m.set(p.in_y, e.y.into());
        self.m.set(p.in_p, e.p.into());
        self.m.set(p.in_value, e.value.into());
        self.m.set(p.in_valid, 1);
    }

    fn out_fields(&self) -> (u8, u8, u16, u16, u16, u16) {
        let p = &self.p;
        (
            self.m.get(p.out_kind) as u8,
            self.m.get(p.out_layer) as u8,
            self.m.get(p.out_f) as u16,
            self.m.get(p.out_x) as u16,
            self.m.get(p.out_y) as u16,
            self.m.get(p.out_value) as u16,
        )
    }

    /// Drives `items` through the chip until all are accepted and the chip
    /// is idle with no output pending. `progress` is called with the number
    /// of items accepted so far, every 256 items.
    pub fn run(&mut self, items: &[HostInput], opts: ChipRunOpts, progress: &mut dyn FnMut(usize)) -> ChipRun {
        let n = self.n_cores();
        let mut rng = Rng::new(opts.seed);
        let mut r = ChipRun { accepted: vec![Vec::new(); n], ..Default::default() };
        let start = self.m.cycles();
        let mut input = StreamDriver::new(items.len());
        let mut output = StreamMonitor::default();
        let mut last_progress = 0u64;
        loop {
            let now = self.m.cycles() - start;
            let next = input.sent();
            if now >= opts.max_cycles {
                r.errors.push(format!("cycle limit: {} of {} input items accepted after {now} cycles", next, items.len()));
                break;
            }
            if let Some(b) = &opts.budget {
                let core_items: u64 = r.accepted.iter().map(|a| a.len() as u64).sum();
                let over = if r.outputs.len() as u64 > b.outputs {
                    Some(format!("{} host outputs, more than the {} the model's work allows", r.outputs.len(), b.outputs))
                } else if core_items > b.core_items {
                    Some(format!("{core_items} items accepted by the cores, more than the {} the model's work allows", b.core_items))
                } else if now > b.cycles {
                    Some(format!("{now} cycles, more than the {} the model's work needs", b.cycles))
                } else {
                    None
                };
                if let Some(what) = over {
                    r.errors.push(format!("work bound: {what} (cycle {now}, {next} of {} input items accepted)", items.len()));
                    break;
                }
            }
            if now - last_progress > opts.watchdog {
                r.errors.push(format!(
                    "stall: no transfer anywhere for {} cycles (cycle {now}, {} of {} input items accepted; destination cycle deadlock?)",
                    opts.watchdog,
                    next,
                    items.len()
                ));
                break;
            }
            // Only events stream; other items wait for `idle`, which settles
            // from registers: read it after the last edge.
            let (m, idle_port) = (&self.m, self.p.idle);
            let may = |i: usize| (!opts.serial && matches!(items[i], HostInput::Dvs { .. } | HostInput::Spike { .. })) || m.get(idle_port) == 1;
            if let Some(i) = input.offer(&mut rng, opts.in_stall, may) {
                self.present(&items[i]);
            }
            let out_ready = !rng.chance(opts.out_stall);
            self.m.set(self.p.out_ready, out_ready.into());
            self.m.eval();

            let mut moved = false;
            let in_fire = input.presenting() && self.m.get(self.p.in_ready) == 1;
            let out_valid = self.m.get(self.p.out_valid) == 1;
            let s = output.sample(out_valid, out_ready, || self.out_fields());
            if let Some(b) = s.breach {
                r.errors.push(format!("cycle {now}: {b}"));
            }
            if let Some(o) = s.transfer {
                moved = true;
                match decode_host_output(o.0, o.1, o.2, o.3, o.4, o.5) {
                    Ok(out) => r.outputs.push(SeenOutput { out, inputs_before: next + usize::from(in_fire), cycle: now }),
                    Err(e) => r.errors.push(format!("cycle {now}: {e}")),
                }
            }
            for i in 0..n {
                if self.m.get(self.p.obs_valid[i]) == 1 {
                    moved = true;
                    match decode_core_word(self.m.get(self.p.obs_item[i])) {
                        Ok((_, it)) => r.accepted[i].push(it),
                        Err(e) => r.errors.push(format!("cycle {now}: core {i}: {e}")),
                    }
                }
            }
            if in_fire {
                moved = true;
                input.fire();
                r.input_cycles.push(now);
                if input.sent() & 255 == 0 {
                    progress(input.sent());
                }
            }
            if moved {
                last_progress = now;
            }
            let idle = self.m.get(self.p.idle) == 1;
            if input.done() && idle && !out_valid {
                break;
            }
            self.m.tick(1);
            if input.edge() {
                self.m.set(self.p.in_valid, 0);
            }
            // An idle chip with nothing to present: only the watchdog ends a wait.
            if !moved && idle && !input.presenting() && input.sent() < items.len() {
                last_progress = self.m.cycles() - start;
            }
        }
        let next = input.sent();
        progress(next);
        self.m.set(self.p.in_valid, 0);
        self.m.set(self.p.out_ready, 0);
        self.m.eval();
        r.inputs_accepted = next;
        r.cycles = self.m.cycles() - start;
        r.err = self.p.err.iter().map(|&p| self.m.get(p)).collect();
        r.drops = self.p.drop.iter().map(|&p| self.m.get(p)).collect();
        r
    }
}
