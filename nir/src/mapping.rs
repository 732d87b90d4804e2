//! Assignment of layers to cores: a maximum bipartite matching between
//! layers and the cores whose three memories (kernel, neuron, bias words)
//! hold the layer's [`Footprint`]. Sinabs computes the same thing as a max
//! flow (`sinabs/backend/dynapcnn/mapping.py`); here it is Kuhn's augmenting
//! path algorithm, trying layers in network order and cores in ascending id,
//! so the result is deterministic: each layer takes the lowest free core that
//! fits it, and earlier layers move to other cores only when a later layer
//! needs their core (an augmenting path).

use std::fmt;

use spikehdl_model::memory::Footprint;
use spikehdl_model::presets::CoreCapacity;

/// A layer to place: a name for messages and its footprint.
#[derive(Debug, Clone)]
pub struct Demand {
    pub name: String,
    pub footprint: Footprint,
}

/// No assignment exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MappingError {}

fn augment(l: usize, adj: &[Vec<usize>], seen: &mut [bool], core_of_layer: &mut [Option<usize>], layer_of_core: &mut [Option<usize>]) -> bool {
    // A free core first, so that layers move only when they must.
    if let Some(&c) = adj[l].iter().find(|&&c| !seen[c] && layer_of_core[c].is_none()) {
        seen[c] = true;
        layer_of_core[c] = Some(l);
        core_of_layer[l] = Some(c);
        return true;
    }
    for &c in &adj[l] {
        if seen[c] {
            continue;
        }
        seen[c] = true;
        let free = match layer_of_core[c] {
            None => true,
            Some(other) => augment(other, adj, seen, core_of_layer, layer_of_core),
        };
        if free {
            layer_of_core[c] = Some(l);
            core_of_layer[l] = Some(c);
            return true;
        }
    }
    false
}

/// Assigns every layer a distinct core it fits; `result[i]` is layer i's core.
pub fn assign(layers: &[Demand], cores: &[CoreCapacity]) -> Result<Vec<usize>, MappingError> {
    let adj: Vec<Vec<usize>> =
        layers.iter().map(|d| (0..cores.len()).filter(|&c| d.footprint.fits(&cores[c])).collect()).collect();
    let mut core_of_layer = vec![None; layers.len()];
    let mut layer_of_core = vec![None; cores.len()];
    for l in 0..layers.len() {
        let mut seen = vec![false; cores.len()];
        augment(l, &adj, &mut seen, &mut core_of_layer, &mut layer_of_core);
    }
    if core_of_layer.iter().all(Option::is_some) {
        return Ok(core_of_layer.into_iter().map(|c| c.expect("checked")).collect());
    }
    let placed = core_of_layer.iter().filter(|c| c.is_some()).count();
    let mut m = format!(
        "no core assignment exists: at most {placed} of the {} layers can be placed on the {} cores at once\n",
        layers.len(),
        cores.len()
    );
    if layers.len() > cores.len() {
        m += &format!("  the network has {} layers but the chip has only {} cores\n", layers.len(), cores.len());
    }
    for (l, d) in layers.iter().enumerate() {
        let fp = &d.footprint;
        m += &format!(
            "  layer {l} ({}): needs kernel {} / neuron {} / bias {} words; ",
            d.name, fp.kernel_words, fp.neuron_words, fp.bias_words
        );
        if adj[l].is_empty() {
            m += "fits no core:\n";
            for (c, cap) in cores.iter().enumerate() {
                let why: Vec<String> = fp.misfits(cap).iter().map(ToString::to_string).collect();
                m += &format!("    core {c}: {}\n", why.join("; "));
            }
        } else {
            let list: Vec<String> = adj[l].iter().map(|c| c.to_string()).collect();
            m += &format!("fits cores {}", list.join(", "));
            if core_of_layer[l].is_none() {
                let rivals: Vec<String> = adj[l]
                    .iter()
                    .filter_map(|&c| layer_of_core[c].map(|o| format!("core {c} taken by layer {o}")))
                    .collect();
                m += &format!(" but all are needed by other layers ({})", rivals.join(", "));
            }
            m += "\n";
        }
    }
    Err(MappingError { message: m.trim_end().to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(name: &str, k: u64, n: u64, b: u64) -> Demand {
        Demand { name: name.into(), footprint: Footprint { kernel_words: k, neuron_words: n, bias_words: b } }
    }

    #[test]
    fn matching_moves_an_earlier_layer_to_make_room() {
        // layer 0 fits cores 0 and 1, layer 1 fits only core 0: greedy would fail.
        let cores = [CoreCapacity::new(100, 100, 10), CoreCapacity::new(50, 100, 10)];
        let a = assign(&[d("a", 40, 10, 1), d("b", 80, 10, 1)], &cores).unwrap();
        assert_eq!(a, vec![1, 0]);
    }

    #[test]
    fn failure_names_each_constraint() {
        let cores = [CoreCapacity::new(100, 100, 10)];
        let e = assign(&[d("big", 200, 50, 20)], &cores).unwrap_err().message;
        assert!(e.contains("layer 0 (big): needs kernel 200 / neuron 50 / bias 20 words; fits no core"), "{e}");
        assert!(e.contains("core 0: kernel words needed 200 > 100 available; bias words needed 20 > 10 available"), "{e}");
        assert!(!e.contains("neuron words needed"), "{e}");
    }

    #[test]
    fn hall_violation_is_reported_with_rivals() {
        let cores = [CoreCapacity::new(100, 100, 10), CoreCapacity::new(10, 10, 10)];
        let e = assign(&[d("a", 50, 50, 1), d("b", 60, 60, 1)], &cores).unwrap_err().message;
        assert!(e.contains("at most 1 of the 2 layers"), "{e}");
        assert!(e.contains("layer 1 (b): needs kernel 60 / neuron 60 / bias 1 words; fits cores 0 but all are needed by other layers (core 0 taken by layer 0)"), "{e}");
    }
}
