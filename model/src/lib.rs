//! Golden transaction-level model of a DynapCNN-style spiking CNN chip.
//!
//! The behaviour is `docs/semantics.md` in the repository; every **[decision]** of that
//! spec lives in exactly one place here:
//!
//! | decision | where |
//! |---|---|
//! | zero-weight skip, saturation, threshold_low floor | [`neuron::apply`] |
//! | (the same rule, branch-free over a strip of lanes; checked against `apply` at the rails for every dispatch level) | [`kernel`] |
//! | when cores may run on several threads (the thread rule) | [`pipeline::thread_rule`] (executed by the feature split in [`split`] or the core pipeline) |
//! | kernel and neuron memory addresses | [`memory::AddressBits`] |
//! | update order within one input spike | [`core::CoreModel`] (`spike`) |
//! | out-of-shape input counted as a core error | [`core::CoreModel`] |
//! | router drop counter for out-of-range destinations | [`chip::ChipModel`] (`deliver`) |
//! | leak ticks update in address order and can spike | [`core::CoreModel`] (`leak`) |
//! | event order across cores inside one host item | [`chip`] module docs |
//! | event order, leak ticks and the link rule across daisy-chained chips | [`chain`] module docs |
//!
//! The model depends on nothing HDL-, Verilator- or CLI-related.

pub mod aedat;
pub mod bench_net;
pub mod chain;
pub mod chip;
pub mod config;
pub mod core;
pub mod dvs;
pub mod eval;
pub mod events;
pub mod host_link;
pub mod io;
pub mod link_host;
pub mod kernel;
pub mod memory;
pub mod neuron;
pub mod nmnist_bin;
pub mod npy;
pub mod pipeline;
pub mod split;
pub mod presets;
pub mod prophesee_dat;
pub mod rng;
pub mod transform;
pub mod validate;

pub use chain::{parse_chain, validate_chain, ChainConfig, ChainModel, ChainOutput, ValidChain};
pub use chip::{ChipModel, ItemError};
pub use config::ChipConfig;
pub use core::{CoreItem, CoreModel, CoreOutput};
pub use events::{HostInput, HostOutput, Timed};
pub use validate::{parse_and_validate, validate, ConfigError, ConfigErrors, Layer, ValidConfig};
