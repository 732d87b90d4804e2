//! Verilator co-simulation of the exported RTL.
//!
//! `build.rs` verilates every `rtl/*.v` module and links it with a generated
//! C++ shim; [`Model`] is the safe handle to one instance: one
//! `VerilatedContext` per model, freed on drop, `Send` but not `Sync`.
//!
//! Driving convention (matches the valid/ready contract of the blocks): set
//! inputs with [`Model::set`], call [`Model::eval`] to settle combinational
//! outputs, read them with [`Model::get`] (a transfer happens on this cycle
//! iff valid and ready are both high now), then [`Model::tick`] for the
//! rising clock edge.

use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::path::Path;

/// A port of a verilated top module.
#[derive(Debug, Clone, Copy)]
pub struct PortInfo {
    pub name: &'static str,
    pub width: u32,
    pub output: bool,
}

/// A verilated module: its ports and the shim's entry points.
pub struct ModelInfo {
    pub name: &'static str,
    pub ports: &'static [PortInfo],
    new: unsafe extern "C" fn(*const c_char, u32, u32) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    eval: unsafe extern "C" fn(*mut c_void),
    set: unsafe extern "C" fn(*mut c_void, u32, u64),
    get: unsafe extern "C" fn(*mut c_void, u32) -> u64,
    tick: unsafe extern "C" fn(*mut c_void, u64),
    flush: unsafe extern "C" fn(*mut c_void),
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// Errors of the co-simulation layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    UnknownModel { name: String, available: Vec<&'static str> },
    UnknownPort { model: &'static str, port: String },
    BadPath(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::UnknownModel { name, available } => {
                write!(f, "no verilated model {name:?}; built: {}", available.join(", "))
            }
            SimError::UnknownPort { model, port } => write!(f, "model {model} has no port {port:?}"),
            SimError::BadPath(p) => write!(f, "VCD path {p:?} contains a NUL byte"),
        }
    }
}

impl std::error::Error for SimError {}

/// A port handle resolved once, for fast access in the driving loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(u32);

/// Names of all verilated models in this build.
pub fn models() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// What registers and memories hold before the first edge. Real silicon and
/// FPGAs without initialisation start anywhere: [`PowerUp::Random`] shows a
/// register that lacks reset logic, which an all-zero start hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerUp {
    Zero,
    /// Random values, reproducible from the seed (a `u32`, as Verilator takes it).
    Random(u32),
}

impl PowerUp {
    /// Random power-up values from any 64-bit seed (folded to Verilator's 32 bits).
    pub fn random(seed: u64) -> Self {
        PowerUp::Random((seed ^ (seed >> 32)) as u32)
    }
}

/// One running instance of a verilated module.
pub struct Model {
    info: &'static ModelInfo,
    handle: *mut c_void,
    cycles: u64,
    // Raw handle: not Sync (Verilator models are single-threaded).
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

// SAFETY: the handle owns its own VerilatedContext and model; nothing in it is
// shared with another instance, so moving it to another thread is sound. It
// is not Sync: calls must not overlap.
unsafe impl Send for Model {}

impl Model {
    /// Instantiates module `name` with every register and memory at zero;
    /// with `vcd`, every clock edge is dumped to that file.
    pub fn new(name: &str, vcd: Option<&Path>) -> Result<Self, SimError> {
        Self::with_power_up(name, vcd, PowerUp::Zero)
    }

    /// Instantiates module `name` with the given power-up values.
    pub fn with_power_up(name: &str, vcd: Option<&Path>, power_up: PowerUp) -> Result<Self, SimError> {
        let info = MODELS
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| SimError::UnknownModel { name: name.to_string(), available: models() })?;
        let path = vcd
            .map(|p| CString::new(p.to_string_lossy().as_bytes()).map_err(|_| SimError::BadPath(p.display().to_string())))
            .transpose()?;
        // SAFETY: the shim copies nothing past the call except through the opened file.
        let (rand_reset, seed) = match power_up {
            PowerUp::Zero => (0, 1),
            // Verilator takes seed 0 as "pick one from the clock": never pass it.
            PowerUp::Random(seed) => (2, seed.max(1)),
        };
        let handle = unsafe { (info.new)(path.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()), rand_reset, seed) };
        Ok(Self { info, handle, cycles: 0, _not_sync: PhantomData })
    }

    pub fn info(&self) -> &'static ModelInfo {
        self.info
    }

    /// Resolves a port by name.
    pub fn port(&self, name: &str) -> Result<Port, SimError> {
        self.info
            .ports
            .iter()
            .position(|p| p.name == name)
            .map(|i| Port(i as u32))
            .ok_or_else(|| SimError::UnknownPort { model: self.info.name, port: name.to_string() })
    }

    /// Width in bits of a port.
    pub fn width(&self, p: Port) -> u32 {
        self.info.ports[p.0 as usize].width
    }

    /// Drives an input port (ignored for outputs). Bits above the port's width are masked.
    #[inline]
    pub fn set(&mut self, p: Port, v: u64) {
        let w = self.info.ports[p.0 as usize].width;
        let v = if w >= 64 { v } else { v & ((1u64 << w) - 1) };
        // SAFETY: handle is live until drop; port ids come from this model's table.
        unsafe { (self.info.set)(self.handle, p.0, v) }
    }

    /// Reads a port.
    #[inline]
    pub fn get(&self, p: Port) -> u64 {
        // SAFETY: as in `set`.
        unsafe { (self.info.get)(self.handle, p.0) }
    }

    /// Settles combinational logic after inputs changed.
    #[inline]
    pub fn eval(&mut self) {
        // SAFETY: as in `set`.
        unsafe { (self.info.eval)(self.handle) }
    }

    /// `n` rising clock edges (port `clock`).
    #[inline]
    pub fn tick(&mut self, n: u64) {
        self.cycles += n;
        // SAFETY: as in `set`.
        unsafe { (self.info.tick)(self.handle, n) }
    }

    /// Clock edges so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Flushes the VCD file, if tracing.
    pub fn flush(&mut self) {
        // SAFETY: as in `set`.
        unsafe { (self.info.flush)(self.handle) }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from `new` and is freed exactly once.
        unsafe { (self.info.free)(self.handle) }
    }
}
