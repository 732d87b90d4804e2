//! Port manifests: the ports of every exported top, as the generator knows
//! them, written next to its Verilog as `<module>.ports.json`.
//!
//! Tools that drive or place a design (`sim/build.rs` for the Verilator
//! shim, the FPGA flow) read the manifest instead of parsing the Verilog
//! text, so a change of rust-hdl's output layout cannot silently change what
//! they see. `hdl/tests/rtl_fresh.rs` checks every committed manifest against
//! a fresh export, like the Verilog.

use rust_hdl::core::atom::{Atom, AtomKind};
use rust_hdl::core::block::Block;
use rust_hdl::core::probe::Probe;
use serde::{Deserialize, Serialize};

/// Direction of a top-level port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    In,
    Out,
    InOut,
}

/// One top-level port: its Verilog name, direction and width in bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
}

/// The ports of one exported module, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub module: String,
    pub ports: Vec<PortSpec>,
}

impl Manifest {
    /// The manifest's file name next to `<module>.v`.
    pub fn file_name(module: &str) -> String {
        format!("{module}.ports.json")
    }

    /// The JSON text written to disk (pretty, one port per line, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = format!("{{\n  \"module\": {},\n  \"ports\": [\n", serde_json::to_string(&self.module).expect("a string serializes"));
        for (i, p) in self.ports.iter().enumerate() {
            let sep = if i + 1 < self.ports.len() { "," } else { "" };
            s.push_str(&format!("    {}{sep}\n", serde_json::to_string(p).expect("a port serializes")));
        }
        s.push_str("  ]\n}\n");
        s
    }
}

/// Collects the top scope's parameters (rust-hdl's ports), naming nested
/// structs the way its Verilog does (`outer$inner`).
#[derive(Default)]
struct PortProbe {
    depth: usize,
    namespace: Vec<String>,
    ports: Vec<PortSpec>,
}

impl Probe for PortProbe {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        if self.depth == 1 {
            self.namespace.push(name.to_string());
        }
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth != 1 {
            return;
        }
        let dir = match signal.kind() {
            AtomKind::InputParameter => Dir::In,
            AtomKind::OutputParameter | AtomKind::OutputPassthrough => Dir::Out,
            AtomKind::InOutParameter => Dir::InOut,
            _ => return,
        };
        let mut full = self.namespace.join("$");
        if !full.is_empty() {
            full.push('$');
        }
        full.push_str(name);
        self.ports.push(PortSpec { name: full, dir, width: signal.bits() as u32 });
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        if self.depth == 1 {
            self.namespace.pop();
        }
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
}

/// The manifest of `uut` exported as `module`.
pub fn manifest_of<U: Block>(uut: &U, module: &str) -> Manifest {
    let mut probe = PortProbe::default();
    uut.accept(module, &mut probe);
    Manifest { module: module.to_string(), ports: probe.ports }
}
