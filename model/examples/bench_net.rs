//! The benchmark network's files and a quick timing loop of the model alone:
//!
//! ```text
//! cargo run --release -p spikehdl-model --example bench_net -- config > examples/bench_net.json
//! cargo run --release -p spikehdl-model --example bench_net -- events 300000 > out/bench_events.csv
//! cargo run --release -p spikehdl-model --example bench_net -- speed [N]
//! ```

use std::io::Write;
use std::time::Instant;

use spikehdl_model::bench_net;
use spikehdl_model::kernel::Level;
use spikehdl_model::{ChipModel, HostOutput};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize, d: usize| args.get(i).map_or(d, |s| s.parse().expect("a number"));
    match args.first().map(String::as_str) {
        Some("config") => print!("{}", bench_net::config_json()),
        Some("events") => {
            let out = std::io::stdout().lock();
            let mut w = std::io::BufWriter::new(out);
            bench_net::write_events_csv(&mut w, n(1, bench_net::EVENTS), bench_net::EVENT_SEED).expect("write");
            w.flush().expect("flush");
        }
        Some("speed") => {
            let cfg = spikehdl_model::validate(&bench_net::config()).expect("valid");
            let events: Vec<_> = bench_net::events(n(1, bench_net::EVENTS), bench_net::EVENT_SEED).collect();
            let only = args.get(2).and_then(|s| Level::from_name(s));
            for level in Level::supported().into_iter().filter(|l| only.is_none_or(|o| o == *l)) {
                let mut chip = ChipModel::new(&cfg);
                chip.set_kernel_level(level);
                let mut out: Vec<HostOutput> = Vec::new();
                let t0 = Instant::now();
                let mut n_out = 0;
                for e in &events {
                    out.clear();
                    chip.accept(&e.item, &mut out).expect("valid");
                    n_out += out.len();
                }
                let s = t0.elapsed().as_secs_f64();
                let per: Vec<u64> = (0..chip.n_cores()).map(|i| chip.core_counters(i).synaptic_updates).collect();
                let total: u64 = per.iter().sum();
                let sp: Vec<u64> = (0..chip.n_cores()).map(|i| chip.core_counters(i).spikes_out).collect();
                println!("{level:<9} {:.3} s  {:.0} M upd/s  outputs {n_out}  updates per core {per:?} spikes {sp:?}", s, total as f64 / s / 1e6);
            }
        }
        _ => eprintln!("usage: bench_net config | events [N] | speed [N]"),
    }
}
