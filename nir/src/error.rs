//! Why an import failed. Every message names the node (and its kind) or the
//! graph-level rule that was broken, with the limit and a way out where
//! there is one.

use spikehdl_model::validate::ConfigErrors;

use crate::graph::{FileError, Node};
use crate::mapping::MappingError;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("node {node:?} ({kind}): {message}")]
    Node { node: String, kind: String, message: String },
    #[error("{0}")]
    Graph(String),
    #[error("{0}")]
    Mapping(#[from] MappingError),
    #[error("the imported configuration does not validate ({context}):\n{errors}")]
    Invalid { context: String, errors: ConfigErrors },
}

/// An error about one node.
pub fn node_err(name: &str, node: &Node, message: impl Into<String>) -> ImportError {
    ImportError::Node { node: name.to_string(), kind: node.kind.clone(), message: message.into() }
}
