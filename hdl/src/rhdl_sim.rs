//! Drives the `tiny` [`LayerCore`] in rust-hdl's own simulator: the
//! reference point for the co-simulation benchmark (`spikehdl bench`) and
//! the smoke tests. Same driving convention as the Verilator harness:
//! inputs change while the clock is low, a transfer happens on the rising
//! edge where valid and ready are both high.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rust_hdl::prelude::*;
use spikehdl_model::{CoreItem, CoreOutput, Layer};

use crate::layer_core::LayerCore;
use crate::presets;
use crate::regmap::{self, decode_output, encode_item, OutPorts};

/// The tiny preset's core type.
pub type TinyCore = LayerCore<10, 10, 6>;

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct RhdlRun {
    pub outputs: Vec<CoreOutput>,
    pub err_count: u32,
    /// Clock cycles from the first item presented until idle (configuration excluded).
    pub stream_cycles: u64,
    /// Wall time of the stream phase.
    pub stream_seconds: f64,
}

/// Configures the tiny core with `layer` and runs `items` through it; with
/// `backpressure`, `out_ready` is low one cycle in four (in bursts of three).
pub fn run_tiny(layer: &Layer, items: &[CoreItem], backpressure: bool) -> Result<RhdlRun, String> {
    let cfg = regmap::config_writes(layer, presets::preset("tiny").ok_or("no tiny preset")?)?;
    let items: Vec<_> = items.iter().map(encode_item).collect();
    // (outputs, err_count, stream cycles, stream seconds), filled by the testbench.
    type Shared = Arc<Mutex<(Vec<OutPorts>, u32, u64, f64)>>;
    let result: Shared = Arc::new(Mutex::new(Default::default()));
    let res = result.clone();
    let n_upd = 16 * 16 * 16 * 16; // generous per-item bound for the tiny preset
    let max_cycles = (cfg.len() + n_upd * items.len() + 200) as u64;
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<TinyCore>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: Sim<TinyCore>| {
        let mut x = sim.init()?;
        wait_clock_false!(sim, clock, x);
        x.reset.next = true;
        wait_clock_true!(sim, clock, x);
        wait_clock_false!(sim, clock, x);
        x.reset.next = false;
        for (a, d) in &cfg {
            x.cfg_valid.next = true;
            x.cfg_addr.next = u64::from(*a).into();
            x.cfg_data.next = u64::from(*d).into();
            wait_clock_true!(sim, clock, x);
            wait_clock_false!(sim, clock, x);
        }
        x.cfg_valid.next = false;
        let start = Instant::now();
        let mut outs = Vec::new();
        let mut i = 0;
        let mut cycles = 0u64;
        loop {
            // Clock low: outputs reflect the state after the last edge.
            let ready = !backpressure || (cycles / 3) % 4 != 1;
            x.out_ready.next = ready;
            if x.out_valid.val() && ready {
                outs.push(OutPorts {
                    kind: u8::from(x.out_kind.val()),
                    f: x.out_f.val().to_u16(),
                    x: x.out_x.val().to_u16(),
                    y: x.out_y.val().to_u16(),
                    value: x.out_value.val().to_u16(),
                });
            }
            if i < items.len() {
                let it = items[i];
                x.in_valid.next = true;
                x.in_kind.next = u64::from(it.kind).into();
                x.in_c.next = u64::from(it.c).into();
                x.in_x.next = u64::from(it.x).into();
                x.in_y.next = u64::from(it.y).into();
                x.in_f.next = u64::from(it.f).into();
                x.in_value.next = u64::from(it.value).into();
                if x.in_ready.val() {
                    i += 1;
                }
            } else {
                x.in_valid.next = false;
            }
            wait_clock_true!(sim, clock, x);
            wait_clock_false!(sim, clock, x);
            cycles += 1;
            if i == items.len() && x.idle.val() && !x.out_valid.val() {
                break;
            }
            sim_assert!(sim, cycles < max_cycles, x);
        }
        let err = x.err_count.val().to_u32();
        *res.lock().unwrap() = (outs, err, cycles, start.elapsed().as_secs_f64());
        sim.done(x)
    });
    let mut uut = TinyCore::new_top();
    uut.connect_all();
    sim.run(Box::new(uut), max_cycles * 10 + 10_000).map_err(|e| format!("rust-hdl simulation failed: {e:?}"))?;
    let (outs, err_count, stream_cycles, stream_seconds) = result.lock().map_err(|_| "poisoned")?.clone();
    let outputs = outs.iter().map(decode_output).collect::<Result<Vec<_>, _>>()?;
    Ok(RhdlRun { outputs, err_count, stream_cycles, stream_seconds })
}
