//! `spikehdl fpga run --port DEV --config C --events E --out O [--baud B]`:
//! resets the board, loads the configuration (the chip configuration map's
//! writes, `hdl/src/chip_regmap.rs`), streams the events with a progress
//! bar, collects the outputs with the timestamps of the items that caused
//! them, writes them like `simulate` (JSONL or CSV) and prints the error and
//! drop counters. Protocol: `docs/host_link.md`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spikehdl_hdl::boards::{BOARDS, DEFAULT_BAUD};
use spikehdl_hdl::chip_regmap::chip_config_writes;
use spikehdl_model::host_link::{counter_name, counter};
use spikehdl_model::link_host::{LinkHost, Transport};

#[derive(clap::Args)]
pub struct Args {
    /// Serial port of the board (e.g. /dev/ttyUSB1) or the terminal printed by `fpga sim --pty`.
    #[arg(long)]
    port: String,
    #[command(flatten)]
    inputs: crate::cmd::RunInputs,
    /// Write host outputs here: .jsonl or .csv (the format of `simulate --out`).
    #[arg(long)]
    out: PathBuf,
    /// Baud rate (the board top's; every exported top uses 1000000).
    #[arg(long, default_value_t = DEFAULT_BAUD)]
    baud: u32,
    /// Give up when the board sends nothing for this long while an answer is expected.
    #[arg(long, default_value_t = 10_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,
}

struct Serial {
    port: Box<dyn serialport::SerialPort>,
}

impl Transport for Serial {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.port.write_all(bytes)
    }
    fn recv(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize> {
        let mut buf = [0u8; 4096];
        match self.port.read(&mut buf) {
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }
}

const POLL: Duration = Duration::from_millis(10);

pub fn run(a: Args) -> Result<u8> {
    let (cfg, items) = a.inputs.load()?;
    spikehdl_model::io::Format::from_path(&a.out)?; // fail before talking to the board
    let port = serialport::new(&a.port, a.baud)
        .timeout(POLL)
        .open()
        .with_context(|| format!("cannot open serial port {} at {} baud", a.port, a.baud))?;
    let mut host = LinkHost::new(Serial { port });
    host.max_idle_polls = (a.timeout_ms / POLL.as_millis() as u64).max(1) as u32;
    let status = host.reset().with_context(|| format!("no answer from a board on {}", a.port))?;
    let board = BOARDS
        .iter()
        .find(|b| b.chip_preset().n_cores() == usize::from(status.n_cores))
        .with_context(|| format!("the board reports {} cores; no board in the table has that many", status.n_cores))?;
    let chip = board.chip_preset();
    let why = chip.misfits(&cfg);
    if !why.is_empty() {
        bail!(
            "{}: the configuration does not fit the board's chip {} ({} cores): {}; `spikehdl check` shows its memory use",
            a.inputs.config.display(),
            chip.module,
            chip.n_cores(),
            why.join("; ")
        );
    }
    let writes = chip_config_writes(&cfg, chip).map_err(|e| anyhow::anyhow!("{}: {e}", a.inputs.config.display()))?;
    eprintln!(
        "board with {} cores ({}), input queue {} frames; {} configuration writes, {} input items",
        status.n_cores, board.name, status.depth, writes.len(), items.len()
    );
    let pb = ProgressBar::new(items.len() as u64);
    pb.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} items {per_sec} eta {eta}").expect("static template"));
    host.run(&writes, &items, &mut |n| pb.set_position(n as u64)).context("streaming to the board")?;
    pb.finish_and_clear();
    let outputs = host.take_outputs();
    let counters = host.read_counters().context("reading the counters")?;
    spikehdl_model::io::write_outputs(&a.out, &outputs)?;
    println!("input items: {}   output events: {}", items.len(), outputs.len());
    let n = chip.n_cores();
    let mut link_errors = 0;
    for (id, v) in &counters {
        let core_used = |i: u8| cfg.layers.get(usize::from(i)).is_some_and(|l| l.is_some());
        let show = match *id {
            i if i < counter::ROUTER_DROPS => core_used(i) || *v != 0,
            i if i < counter::LINK_BAD_FRAMES => {
                let s = i - counter::ROUTER_DROPS;
                usize::from(s) == n || core_used(s) || *v != 0
            }
            _ => {
                link_errors += v;
                true
            }
        };
        if show {
            println!("{:>32}: {v}", counter_name(*id, n));
        }
    }
    println!("wrote {} output events to {}", outputs.len(), a.out.display());
    if link_errors != 0 {
        eprintln!("warning: the link counted {link_errors} errors (bad frames, overflows or framing errors): check the cable and the baud rate");
    }
    Ok(crate::EXIT_OK)
}
