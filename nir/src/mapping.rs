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

/// Layers placed on a chain of chips of one preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Chip and core of every layer.
    pub chip: Vec<usize>,
    pub core: Vec<usize>,
    pub n_chips: usize,
}

/// The chips of a chain are filled in the layers' order: each chip takes a
/// contiguous run of them. A run ends where the next layer does not fit the
/// matching, or where the link rule would break (`spikehdl_model::chain`: one
/// core per chip sends to other chips, one core of other chips sends to
/// each chip). Layers are in topological order, so links run from lower to
/// higher chips and no cycle crosses chips.
///
/// Places `layers` (in topological order; `edges` are (from, to) between
/// them, `entries` the layers the input feeds, which must sit on chip 0) on
/// as few chips with cores `caps` as fit, at most `max_chips`; exactly
/// `chips` when given. Among the splits over the same number of chips the
/// first chips are filled first.
pub fn place(layers: &[Demand], caps: &[CoreCapacity], edges: &[(usize, usize)], entries: &[usize], chips: Option<usize>, max_chips: usize) -> Result<Placement, MappingError> {
    let one = assign(layers, caps);
    if chips.is_none_or(|n| n == 1) {
        if let Ok(core) = one {
            return Ok(Placement { chip: vec![0; layers.len()], core, n_chips: 1 });
        }
        if chips == Some(1) {
            return Err(one.unwrap_err());
        }
    }
    let one_err = one.err();
    // A layer no core fits cannot be helped by more chips.
    if let Some(e) = one_err.as_ref().filter(|_| layers.iter().any(|d| !caps.iter().any(|c| d.footprint.fits(c)))) {
        return Err(e.clone());
    }
    let range = match chips {
        Some(n) => n..=n,
        None => 2..=max_chips,
    };
    let l = layers.len();
    for n in range {
        if n > l || n == 0 {
            continue;
        }
        // Segment lengths, first chips as long as possible first.
        let mut found = None;
        let mut lens = Vec::new();
        try_splits(l, n, &mut lens, &mut |lens| {
            let mut chip = Vec::with_capacity(l);
            for (k, &len) in lens.iter().enumerate() {
                chip.extend(std::iter::repeat_n(k, len));
            }
            if entries.iter().any(|&e| chip[e] != 0) || !link_rule(&chip, edges, n) {
                return false;
            }
            let mut core = vec![0; l];
            let mut start = 0;
            for &len in lens {
                match assign(&layers[start..start + len], caps) {
                    Ok(c) => core[start..start + len].copy_from_slice(&c),
                    Err(_) => return false,
                }
                start += len;
            }
            found = Some(Placement { chip, core, n_chips: n });
            true
        });
        if let Some(p) = found {
            return Ok(p);
        }
    }
    let mut m = match chips {
        Some(n) => format!("no placement on exactly {n} chips"),
        None => format!("no placement on 1..={max_chips} chips"),
    };
    m += " (each chip takes a contiguous run of the layers in network order; per chip one core may send to other chips and one core of other chips to it; the input's layers sit on chip 0)";
    if let Some(e) = one_err {
        m += &format!("\non one chip: {}", e.message);
    }
    Err(MappingError { message: m })
}

/// Calls `f` with every way of cutting `l` layers into `n` non-empty runs,
/// first runs longest first, until `f` returns true.
fn try_splits(l: usize, n: usize, lens: &mut Vec<usize>, f: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    if n == 1 {
        lens.push(l);
        let ok = f(lens);
        lens.pop();
        return ok;
    }
    for first in (1..=l - (n - 1)).rev() {
        lens.push(first);
        let ok = try_splits(l - first, n - 1, lens, f);
        lens.pop();
        if ok {
            return true;
        }
    }
    false
}

/// One sending layer per chip, one remote source layer into each chip.
fn link_rule(chip: &[usize], edges: &[(usize, usize)], n: usize) -> bool {
    let mut sender: Vec<Option<usize>> = vec![None; n];
    let mut source_into: Vec<Option<usize>> = vec![None; n];
    for &(a, b) in edges {
        if chip[a] == chip[b] {
            continue;
        }
        if sender[chip[a]].is_some_and(|x| x != a) || source_into[chip[b]].is_some_and(|x| x != a) {
            return false;
        }
        sender[chip[a]] = Some(a);
        source_into[chip[b]] = Some(a);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(name: &str, k: u64, n: u64, b: u64) -> Demand {
        Demand { name: name.into(), footprint: Footprint { kernel_words: k, neuron_words: n, bias_words: b } }
    }

    #[test]
    fn a_chain_too_long_for_one_chip_fills_the_first_chip_then_the_next() {
        let caps = [CoreCapacity::new(100, 100, 10); 3];
        let layers: Vec<Demand> = (0..7).map(|i| d(&format!("l{i}"), 10, 10, 1)).collect();
        let edges: Vec<(usize, usize)> = (0..6).map(|i| (i, i + 1)).collect();
        let p = place(&layers, &caps, &edges, &[0], None, 4).unwrap();
        assert_eq!(p.n_chips, 3);
        assert_eq!(p.chip, vec![0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(p.core, vec![0, 1, 2, 0, 1, 2, 0]);
        // forced: 4 chips
        let p = place(&layers, &caps, &edges, &[0], Some(4), 4).unwrap();
        assert_eq!(p.chip, vec![0, 0, 0, 1, 1, 2, 3]);
        // a skip connection over a cut would need two sources on one link
        let mut skip = edges.clone();
        skip.push((1, 3));
        let p = place(&layers, &caps, &skip, &[0], None, 4).unwrap();
        assert!(link_rule(&p.chip, &skip, p.n_chips));
        assert_ne!(p.chip[1..=3], [0, 0, 1], "the cut between layers 2 and 3 carries two sources");
        let e = place(&layers, &caps, &edges, &[0], Some(2), 4).unwrap_err().message;
        assert!(e.contains("no placement on exactly 2 chips") && e.contains("on one chip: no core assignment exists"), "{e}");
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
