//! Host port items (spec §8): what goes into the chip and what comes out.

use serde::{Deserialize, Serialize};

/// An item on the host input port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HostInput {
    /// A DVS sensor event: x, y < 128, p ∈ {0 (off), 1 (on)}.
    Dvs { x: u16, y: u16, p: u8 },
    /// A spike straight into core `layer`'s input.
    Spike { layer: u8, c: u16, x: u16, y: u16 },
    /// A leak tick for every core.
    LeakTick,
    /// Overwrite a neuron's state.
    WriteNeuron { layer: u8, f: u16, x: u16, y: u16, value: i16 },
    /// Read a neuron's state (answered with [`HostOutput::NeuronValue`]).
    ReadNeuron { layer: u8, f: u16, x: u16, y: u16 },
}

/// An item on the host output port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HostOutput {
    /// Readout spike: core `layer` sent (f, x, y) to destination 12 (pooled, shifted).
    Spike { layer: u8, f: u16, x: u16, y: u16 },
    /// Monitor copy of an output spike (before pooling); layer 13 is the DVS layer.
    Monitor { layer: u8, f: u16, x: u16, y: u16 },
    /// Answer to a neuron read.
    NeuronValue { layer: u8, f: u16, x: u16, y: u16, value: i16 },
}

impl HostOutput {
    /// The source layer of the event.
    pub fn layer(&self) -> u8 {
        match *self {
            HostOutput::Spike { layer, .. } | HostOutput::Monitor { layer, .. } | HostOutput::NeuronValue { layer, .. } => layer,
        }
    }
    /// `"spike"`, `"monitor"` or `"neuron_value"`.
    pub fn kind(&self) -> &'static str {
        match self {
            HostOutput::Spike { .. } => "spike",
            HostOutput::Monitor { .. } => "monitor",
            HostOutput::NeuronValue { .. } => "neuron_value",
        }
    }
}

/// An item with its timestamp in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timed<T> {
    pub t: u64,
    #[serde(flatten)]
    pub item: T,
}
