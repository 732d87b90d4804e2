//! `spikehdl fpga sim --board B --pty [--baud B]`: the board top
//! (`rtl/board_*.v`) under Verilator, driven at its UART pins bit by bit at
//! the real baud divider, behind a pseudo-terminal. Prints the terminal's
//! path (`/dev/pts/N`) on its first line, then runs until killed; a host
//! may open, close and reopen the terminal meanwhile (`spikehdl fpga run
//! --port /dev/pts/N` works as against a real board).

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use spikehdl_cosim::board_dut::BoardSim;

#[derive(clap::Args)]
pub struct Args {
    /// Board: icebreaker or ulx3s-85f.
    #[arg(long)]
    board: String,
    /// Serve the board's UART on a pseudo-terminal (the only mode).
    #[arg(long)]
    pty: bool,
    /// Baud rate (must be the exported top's: the divider is a constant of rtl/board_*.v).
    #[arg(long)]
    baud: Option<u32>,
    /// Write a waveform of the board top (large; for debugging short sessions).
    #[arg(long)]
    vcd: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<u8> {
    let b = board_arg(&a.board)?;
    if !a.pty {
        bail!("--pty is required (the simulated board is served on a pseudo-terminal)");
    }
    if let Some(baud) = a.baud {
        let d = b.divider(baud)?;
        if d != b.default_divider() {
            bail!(
                "{} is exported for {} baud ({} clocks per bit at {} Hz); {baud} baud needs {d} clocks per bit, i.e. a re-export of the board top",
                b.file_name(),
                b.default_baud,
                b.default_divider(),
                b.clock_hz
            );
        }
    }
    let mut sim = BoardSim::new(b, a.vcd.as_deref()).with_context(|| format!("cannot start the verilated {}", b.module))?;
    let pty = openpty(None, None).context("openpty")?;
    for fd in [&pty.slave, &pty.master] {
        let mut t = tcgetattr(fd).context("tcgetattr")?;
        cfmakeraw(&mut t);
        tcsetattr(fd, SetArg::TCSANOW, &t).context("tcsetattr")?;
    }
    let path = nix::unistd::ttyname(pty.slave.as_fd()).context("ttyname of the pseudo-terminal")?;
    let master: OwnedFd = pty.master;
    set_nonblocking(&master)?;
    // keep the slave open so that a host closing it does not end the session
    let _slave = pty.slave;
    println!("{}", path.display());
    std::io::stdout().flush()?;
    eprintln!(
        "board {} ({} cores, {} Hz, {} baud = {} clocks per bit) on {}; Ctrl-C to stop",
        b.name,
        b.chip_preset().n_cores(),
        b.clock_hz,
        b.default_baud,
        sim.divider,
        path.display()
    );
    serve(&mut sim, &master)
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let fl = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(fl | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Moves bytes between the terminal and the UART pins; simulated time runs
/// while anything happens on the line (and slowly while nothing does, so a
/// busy chip still finishes).
fn serve(sim: &mut BoardSim, master: &OwnedFd) -> Result<u8> {
    let chunk = sim.byte_cycles() * 4;
    let mut out: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut quiet = 0u32;
    loop {
        let wait = if quiet > 2000 { 20u16 } else { 0 };
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(wait));
        let mut active = false;
        // host -> board, limited so that the driver queue stays short
        if sim.driver.pending_cycles() < chunk * 4 {
            match nix::unistd::read(master.as_raw_fd(), &mut buf) {
                Ok(n) if n > 0 => {
                    for &b in &buf[..n] {
                        sim.driver.byte(b);
                    }
                    active = true;
                }
                Ok(_) => {}
                Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EIO) => {}
                Err(e) => return Err(e).context("read from the pseudo-terminal"),
            }
        }
        let before = sim.monitor.busy_cycles;
        sim.step(chunk);
        if sim.monitor.busy_cycles != before || !sim.driver.idle() {
            active = true;
        }
        out.extend(sim.received.drain(..));
        // board -> host; bytes wait here while the host does not read (bounded by its output credits)
        while !out.is_empty() {
            match nix::unistd::write(master, &out) {
                Ok(n) => {
                    out.drain(..n);
                }
                Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EIO) => break,
                Err(e) => return Err(e).context("write to the pseudo-terminal"),
            }
        }
        quiet = if active { 0 } else { quiet.saturating_add(1) };
    }
}

/// Looks up `--board`, naming the known boards otherwise.
fn board_arg(name: &str) -> Result<&'static spikehdl_hdl::boards::Board> {
    spikehdl_hdl::boards::board(name).ok_or_else(|| {
        let names: Vec<&str> = spikehdl_hdl::boards::BOARDS.iter().map(|b| b.name).collect();
        anyhow::anyhow!("unknown board {name:?}; boards: {}", names.join(", "))
    })
}
