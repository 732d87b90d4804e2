//! Import of trained spiking networks exchanged as NIR (Neuromorphic
//! Intermediate Representation, HDF5 files written by Sinabs, snnTorch,
//! Norse, Rockpool, ...) onto the chip model: the graph's layers and routes
//! (chains, fan-out, residual sums: [`topology`]), Sinabs-exact
//! discretization ([`discretize`]), core assignment by bipartite matching
//! ([`mapping`]) and emission of a validated [`spikehdl_model::ChipConfig`]
//! ([`import`]).
//! The supported subset and the file layout are documented in `docs/nir.md`.

pub mod build;
pub mod discretize;
pub mod error;
pub mod graph;
pub mod import;
pub mod mapping;
pub mod topology;

pub use graph::{read, write, Graph, Node, Tensor, Value};
pub use import::{import_file, import_graph, DestinationReport, ImportError, Imported, LayerReport, MinVMem, Options, Reset};
