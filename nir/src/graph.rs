//! A NIR graph as stored in a `.nir` HDF5 file, read into plain Rust values,
//! and the HDF5 reader/writer for it. The layout (what `nir.write` of the
//! Python `nir` package produces) is documented in `docs/nir.md`:
//!
//! ```text
//! /version                 string
//! /node/type               "NIRGraph"
//! /node/nodes/<name>/type  "Conv2d" | "IF" | ...
//! /node/nodes/<name>/<field>   numeric dataset (any int/float type), string, or group
//! /node/edges              strings, shape (N, 2): (source, destination)
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};

/// A numeric dataset: its shape (empty for a scalar) and its values in
/// row-major order, converted to f64 (exact for every f32 and for integers
/// below 2^53).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    /// Stored as a floating-point type (written back as f32) rather than an integer type.
    pub float: bool,
}

impl Tensor {
    pub fn float(shape: &[usize], data: Vec<f64>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor shape and data disagree");
        Self { shape: shape.to_vec(), data, float: true }
    }
    pub fn int(shape: &[usize], data: Vec<i64>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor shape and data disagree");
        Self { shape: shape.to_vec(), data: data.into_iter().map(|v| v as f64).collect(), float: false }
    }
    pub fn scalar_int(v: i64) -> Self {
        Self { shape: vec![], data: vec![v as f64], float: false }
    }
}

/// One entry of a node group.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Tensor(Tensor),
    Group(BTreeMap<String, Value>),
}

/// One node: its `type` and every other field.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: String,
    pub fields: BTreeMap<String, Value>,
}

impl Node {
    pub fn new(kind: &str) -> Self {
        Self { kind: kind.to_string(), fields: BTreeMap::new() }
    }
    /// Adds a field (builder style).
    pub fn with(mut self, name: &str, v: Value) -> Self {
        self.fields.insert(name.to_string(), v);
        self
    }
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        match self.fields.get(name) {
            Some(Value::Tensor(t)) => Some(t),
            _ => None,
        }
    }
}

/// A whole NIR graph (only flat graphs: a nested `NIRGraph` node is kept as
/// a node of kind `NIRGraph` and rejected by the importer).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub version: Option<String>,
    pub nodes: BTreeMap<String, Node>,
    pub edges: Vec<(String, String)>,
}

/// A problem reading or writing a NIR file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {message}")]
    Layout { path: String, message: String },
    #[error("{path}: HDF5: {source}")]
    Hdf5 { path: String, source: hdf5::Error },
}

fn h5(path: &str) -> impl Fn(hdf5::Error) -> FileError + '_ {
    move |source| FileError::Hdf5 { path: path.to_string(), source }
}

fn read_strings(ds: &hdf5::Dataset) -> hdf5::Result<Option<Vec<String>>> {
    let desc = ds.dtype()?.to_descriptor()?;
    let v: Vec<String> = match desc {
        TypeDescriptor::VarLenUnicode => ds.read_raw::<VarLenUnicode>()?.iter().map(|s| s.as_str().to_string()).collect(),
        TypeDescriptor::VarLenAscii => ds.read_raw::<VarLenAscii>()?.iter().map(|s| s.as_str().to_string()).collect(),
        // HDF5 converts fixed-length strings between sizes (padding with NULs).
        TypeDescriptor::FixedAscii(n) if n <= 1024 => {
            ds.read_raw::<FixedAscii<1024>>()?.iter().map(|s| s.as_str().to_string()).collect()
        }
        TypeDescriptor::FixedUnicode(n) if n <= 1024 => {
            ds.read_raw::<FixedUnicode<1024>>()?.iter().map(|s| s.as_str().to_string()).collect()
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn read_value(ds: &hdf5::Dataset, where_: &str, path: &str) -> Result<Value, FileError> {
    if let Some(mut s) = read_strings(ds).map_err(h5(path))? {
        if ds.shape().is_empty() && s.len() == 1 {
            return Ok(Value::Str(s.remove(0)));
        }
        return Err(FileError::Layout { path: path.into(), message: format!("{where_}: an array of strings where a value was expected") });
    }
    let desc = ds.dtype().and_then(|d| d.to_descriptor()).map_err(h5(path))?;
    let float = match desc {
        TypeDescriptor::Float(_) => true,
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Boolean => false,
        other => {
            return Err(FileError::Layout { path: path.into(), message: format!("{where_}: unsupported HDF5 data type {other}") })
        }
    };
    let data = if matches!(desc, TypeDescriptor::Boolean) {
        ds.read_raw::<bool>().map_err(h5(path))?.into_iter().map(|b| if b { 1.0 } else { 0.0 }).collect()
    } else {
        ds.read_raw::<f64>().map_err(h5(path))?
    };
    Ok(Value::Tensor(Tensor { shape: ds.shape(), data, float }))
}

fn read_group(g: &hdf5::Group, where_: &str, path: &str, skip: &[&str]) -> Result<BTreeMap<String, Value>, FileError> {
    let mut out = BTreeMap::new();
    for name in g.member_names().map_err(h5(path))? {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let here = format!("{where_}/{name}");
        if let Ok(sub) = g.group(&name) {
            out.insert(name, Value::Group(read_group(&sub, &here, path, &[])?));
        } else {
            let ds = g.dataset(&name).map_err(h5(path))?;
            out.insert(name, read_value(&ds, &here, path)?);
        }
    }
    Ok(out)
}

/// Reads a `.nir` file.
pub fn read(file: &Path) -> Result<Graph, FileError> {
    let path = file.display().to_string();
    let layout = |message: String| FileError::Layout { path: path.clone(), message };
    let f = hdf5::File::open(file).map_err(h5(&path))?;
    let version = match f.dataset("version") {
        Ok(ds) => read_strings(&ds).map_err(h5(&path))?.and_then(|v| v.into_iter().next()),
        Err(_) => None,
    };
    let root = f.group("node").map_err(|_| layout("no group /node (not a NIR file?)".into()))?;
    let fields = read_group(&root, "/node", &path, &["edges"])?;
    match fields.get("type") {
        Some(Value::Str(t)) if t == "NIRGraph" => {}
        Some(Value::Str(t)) => return Err(layout(format!("/node/type is {t:?}; expected \"NIRGraph\""))),
        _ => return Err(layout("/node/type is missing or not a string".into())),
    }
    let mut nodes = BTreeMap::new();
    match fields.get("nodes") {
        Some(Value::Group(g)) => {
            for (name, v) in g {
                let Value::Group(nf) = v else {
                    return Err(layout(format!("/node/nodes/{name} is not a group")));
                };
                let mut nf = nf.clone();
                let kind = match nf.remove("type") {
                    Some(Value::Str(t)) => t,
                    _ => return Err(layout(format!("/node/nodes/{name}/type is missing or not a string"))),
                };
                nodes.insert(name.clone(), Node { kind, fields: nf });
            }
        }
        _ => return Err(layout("/node/nodes is missing".into())),
    }
    let ds = root.dataset("edges").map_err(|_| layout("/node/edges is missing".into()))?;
    let shape = ds.shape();
    let strings = read_strings(&ds).map_err(h5(&path))?.ok_or_else(|| layout("/node/edges is not a string dataset".into()))?;
    let edges = if strings.is_empty() {
        Vec::new()
    } else if shape.len() == 2 && shape[1] == 2 {
        strings.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
    } else {
        return Err(layout(format!("/node/edges has shape {shape:?}; expected (N, 2)")));
    };
    for (a, b) in &edges {
        for n in [a, b] {
            if !nodes.contains_key(n) {
                return Err(layout(format!("/node/edges: edge {a:?} -> {b:?} names node {n:?}, which is not in /node/nodes")));
            }
        }
    }
    Ok(Graph { version, nodes, edges })
}

fn write_value(g: &hdf5::Group, name: &str, v: &Value) -> hdf5::Result<()> {
    match v {
        Value::Str(s) => {
            let s = VarLenUnicode::from_str(s).map_err(|e| hdf5::Error::from(e.to_string().as_str()))?;
            g.new_dataset::<VarLenUnicode>().create(name)?.write_scalar(&s)?;
        }
        Value::Tensor(t) => {
            // Arrays are gzip-compressed like the Python `nir.write` does; scalars cannot be.
            if t.float {
                let data: Vec<f32> = t.data.iter().map(|&x| x as f32).collect();
                let mut b = g.new_dataset::<f32>();
                if !t.shape.is_empty() && !data.is_empty() {
                    b = b.chunk(t.shape.clone()).deflate(4);
                }
                b.shape(t.shape.clone()).create(name)?.write_raw(&data)?;
            } else {
                let data: Vec<i64> = t.data.iter().map(|&x| x as i64).collect();
                let mut b = g.new_dataset::<i64>();
                if !t.shape.is_empty() && !data.is_empty() {
                    b = b.chunk(t.shape.clone()).deflate(4);
                }
                b.shape(t.shape.clone()).create(name)?.write_raw(&data)?;
            }
        }
        Value::Group(m) => {
            let sub = g.create_group(name)?;
            for (k, v) in m {
                write_value(&sub, k, v)?;
            }
        }
    }
    Ok(())
}

/// Writes a graph in the layout of the Python `nir.write` (used by tests and
/// examples to make NIR files without Python).
pub fn write(file: &Path, graph: &Graph) -> Result<(), FileError> {
    let path = file.display().to_string();
    // Strong close degree and an explicit close: the file (and its lock) is
    // released when this returns, so another process can open it at once.
    let f = hdf5::File::with_options()
        .with_fapl(|fapl| fapl.fclose_degree(hdf5::plist::file_access::FileCloseDegree::Strong))
        .create(file)
        .map_err(h5(&path))?;
    let go = || -> hdf5::Result<()> {
        write_value(&f, "version", &Value::Str(graph.version.clone().unwrap_or_else(|| "1.0".into())))?;
        let node = f.create_group("node")?;
        write_value(&node, "type", &Value::Str("NIRGraph".into()))?;
        let nodes = node.create_group("nodes")?;
        for (name, n) in &graph.nodes {
            let g = nodes.create_group(name)?;
            write_value(&g, "type", &Value::Str(n.kind.clone()))?;
            for (k, v) in &n.fields {
                write_value(&g, k, v)?;
            }
        }
        let flat: Vec<VarLenUnicode> = graph
            .edges
            .iter()
            .flat_map(|(a, b)| [a, b])
            .map(|s| VarLenUnicode::from_str(s).map_err(|e| hdf5::Error::from(e.to_string().as_str())))
            .collect::<hdf5::Result<_>>()?;
        node.new_dataset::<VarLenUnicode>().shape((graph.edges.len(), 2)).create("edges")?.write_raw(&flat)?;
        Ok(())
    };
    go().map_err(h5(&path))?;
    f.close().map_err(h5(&path))
}
