//! Event files (spec §8 host items): CSV and JSON Lines inputs, every bad
//! line reported with its line number and a message naming the field and
//! the limit, and outputs written and read back.

use std::io::Cursor;
use std::path::PathBuf;

use spikehdl_model::events::Timed;
use spikehdl_model::io::{parse_csv, parse_jsonl, read_inputs, write_inputs_jsonl, write_outputs, write_outputs_to, EventFileError, Format};
use spikehdl_model::{HostInput, HostOutput};

const N: usize = 9;

fn csv(text: &str) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    parse_csv(Cursor::new(text), "in.csv", N)
}

fn jsonl(text: &str) -> Result<Vec<Timed<HostInput>>, EventFileError> {
    parse_jsonl(Cursor::new(text), "in.jsonl", N)
}

fn dvs(t: u64, x: u16, y: u16, p: u8) -> Timed<HostInput> {
    Timed { t, item: HostInput::Dvs { x, y, p } }
}

/// The error must be a line error at `line` whose message contains every part.
#[track_caller]
fn bad_line(r: Result<Vec<Timed<HostInput>>, EventFileError>, path: &str, line: usize, parts: &[&str]) {
    match r {
        Err(EventFileError::Line { path: p, line: l, message }) => {
            assert_eq!(p, path);
            assert_eq!(l, line, "wrong line number; message: {message}");
            for part in parts {
                assert!(message.contains(part), "message {message:?} does not contain {part:?}");
            }
            let shown = EventFileError::Line { path: p, line: l, message }.to_string();
            assert!(shown.starts_with(&format!("{path}: line {line}: ")), "{shown}");
        }
        other => panic!("expected a line error at line {line}, got {other:?}"),
    }
}

#[test]
fn csv_without_header() {
    let got = csv("0,1,2,1\n5,127,127,0\n5,0,0,1\n").unwrap();
    assert_eq!(got, vec![dvs(0, 1, 2, 1), dvs(5, 127, 127, 0), dvs(5, 0, 0, 1)]);
    // Spaces around fields are trimmed; comment lines are skipped.
    let got = csv("# recorded today\n 7 , 3, 4 ,0\n").unwrap();
    assert_eq!(got, vec![dvs(7, 3, 4, 0)]);
    assert_eq!(csv("").unwrap(), vec![]);
}

#[test]
fn csv_with_header_in_any_order() {
    assert_eq!(csv("t,x,y,p\n10,1,2,1\n").unwrap(), vec![dvs(10, 1, 2, 1)]);
    assert_eq!(csv("p,y,x,timestamp\n1,2,3,10\n").unwrap(), vec![dvs(10, 3, 2, 1)]);
    assert_eq!(csv("x,polarity,T,y\n4,0,99,6\n5,1,100,7\n").unwrap(), vec![dvs(99, 4, 6, 0), dvs(100, 5, 7, 1)]);
    bad_line(csv("t,x,y,q\n1,2,3,1\n"), "in.csv", 1, &["header", "\"p\""]);
}

#[test]
fn csv_bad_lines() {
    bad_line(csv("0,1,2,1\n1,2,3\n"), "in.csv", 2, &["3 fields", "expected 4"]);
    bad_line(csv("0,1,2,1\n1,2,3,1,5\n"), "in.csv", 2, &["5 fields", "expected 4"]);
    bad_line(csv("t,x,y,p\n0,1,2,1\n1,2,3,1,0\n"), "in.csv", 3, &["5 fields"]);
    bad_line(csv("0,1.5,2,1\n"), "in.csv", 1, &["x", "\"1.5\"", "not an integer"]);
    bad_line(csv("0,1,2,1\n0,1,two,1\n"), "in.csv", 2, &["y", "\"two\"", "not an integer"]);
    bad_line(csv("0,128,2,1\n"), "in.csv", 1, &["x = 128", "0..=127"]);
    bad_line(csv("0,1,128,1\n"), "in.csv", 1, &["y = 128", "0..=127"]);
    bad_line(csv("0,-1,2,1\n"), "in.csv", 1, &["x = -1", "0..=127"]);
    bad_line(csv("0,1,2,2\n"), "in.csv", 1, &["p = 2", "0..=1"]);
    bad_line(csv("10,1,2,1\n11,1,2,1\n5,1,2,1\n"), "in.csv", 3, &["timestamp 5", "previous", "11"]);
    bad_line(csv("-1,1,2,1\n"), "in.csv", 1, &["timestamp", "\"-1\""]);
    // With a header and a comment, line numbers are still the file's.
    bad_line(csv("t,x,y,p\n# note\n0,1,2,1\n1,1,2,7\n"), "in.csv", 4, &["p = 7", "0..=1"]);
}

#[test]
fn jsonl_every_item_kind() {
    let text = r#"{"t":0,"kind":"dvs","x":3,"y":4,"p":1}
{"t":1,"kind":"spike","layer":8,"c":1023,"x":127,"y":0}

{"t":2,"kind":"leak_tick"}
{"t":3,"kind":"write_neuron","layer":0,"f":2,"x":63,"y":1,"value":-32768}
{"t":3,"kind":"read_neuron","layer":4,"f":0,"x":0,"y":63}
{"kind":"write_neuron","t":9,"value":32767,"y":0,"x":0,"f":0,"layer":1}
"#;
    let got = jsonl(text).unwrap();
    let want = vec![
        Timed { t: 0, item: HostInput::Dvs { x: 3, y: 4, p: 1 } },
        Timed { t: 1, item: HostInput::Spike { layer: 8, c: 1023, x: 127, y: 0 } },
        Timed { t: 2, item: HostInput::LeakTick },
        Timed { t: 3, item: HostInput::WriteNeuron { layer: 0, f: 2, x: 63, y: 1, value: -32768 } },
        Timed { t: 3, item: HostInput::ReadNeuron { layer: 4, f: 0, x: 0, y: 63 } },
        Timed { t: 9, item: HostInput::WriteNeuron { layer: 1, f: 0, x: 0, y: 0, value: 32767 } },
    ];
    assert_eq!(got, want);
    // Written back by write_inputs_jsonl, the items parse to the same list.
    let mut buf = Vec::new();
    write_inputs_jsonl(&mut buf, &want).unwrap();
    assert_eq!(jsonl(std::str::from_utf8(&buf).unwrap()).unwrap(), want);
}

#[test]
fn jsonl_bad_lines() {
    let ok = "{\"t\":0,\"kind\":\"leak_tick\"}\n";
    let at2 = |line: &str| jsonl(&format!("{ok}{line}\n"));
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":128,"y":0,"p":0}"#), "in.jsonl", 2, &["x = 128", "0..=127"]);
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1,"y":200,"p":0}"#), "in.jsonl", 2, &["y = 200", "0..=127"]);
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1,"y":0,"p":2}"#), "in.jsonl", 2, &["p = 2", "0..=1"]);
    bad_line(at2(r#"{"t":1,"kind":"flash","x":1}"#), "in.jsonl", 2, &["unknown kind", "\"flash\"", "dvs", "read_neuron"]);
    bad_line(at2(r#"{"t":1,"kind":"spike","layer":0,"x":1,"y":1}"#), "in.jsonl", 2, &["spike", "missing field", "\"c\""]);
    bad_line(at2(r#"{"t":1,"kind":"write_neuron","layer":0,"f":0,"x":1,"y":1}"#), "in.jsonl", 2, &["missing field", "\"value\""]);
    bad_line(at2(r#"{"kind":"leak_tick"}"#), "in.jsonl", 2, &["missing field", "\"t\""]);
    bad_line(at2(r#"{"t":1}"#), "in.jsonl", 2, &["kind"]);
    bad_line(jsonl(&format!("{ok}{ok}{}\n", r#"{"t":1,"kind":"dvs","x":1,"y":1,"p":1}"#).replace("\"t\":0", "\"t\":5")), "in.jsonl", 3, &["timestamp 1", "previous", "5"]);
    bad_line(at2(r#"{"t":-1,"kind":"leak_tick"}"#), "in.jsonl", 2, &["timestamp", "-1"]);
    bad_line(at2(r#"{"t":1.5,"kind":"leak_tick"}"#), "in.jsonl", 2, &["timestamp", "1.5"]);
    // Layer ids that are not cores of a 9-core chip.
    for layer in [9, 12, 13] {
        bad_line(
            at2(&format!(r#"{{"t":1,"kind":"spike","layer":{layer},"c":0,"x":1,"y":1}}"#)),
            "in.jsonl",
            2,
            &[&format!("layer = {layer}"), "0..=8"],
        );
        bad_line(
            at2(&format!(r#"{{"t":1,"kind":"read_neuron","layer":{layer},"f":0,"x":1,"y":1}}"#)),
            "in.jsonl",
            2,
            &[&format!("layer = {layer}"), "0..=8"],
        );
    }
    // The chip size is a parameter.
    let r = parse_jsonl(Cursor::new(r#"{"t":1,"kind":"spike","layer":3,"c":0,"x":1,"y":1}"#), "a", 3);
    bad_line(r, "a", 1, &["layer = 3", "0..=2"]);
    bad_line(at2(r#"{"t":1,"kind":"spike","layer":0,"c":1024,"x":1,"y":1}"#), "in.jsonl", 2, &["c = 1024", "0..=1023"]);
    bad_line(
        at2(r#"{"t":1,"kind":"write_neuron","layer":0,"f":0,"x":1,"y":1,"value":32768}"#),
        "in.jsonl",
        2,
        &["value = 32768", "-32768..=32767"],
    );
    // Non-integers name the field.
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1.5,"y":1,"p":1}"#), "in.jsonl", 2, &["x", "1.5", "not an integer"]);
    bad_line(at2(r#"{"t":1,"kind":"spike","layer":"0","c":0,"x":1,"y":1}"#), "in.jsonl", 2, &["layer", "not an integer"]);
    // Fields that do not belong to the kind, or to any kind.
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1,"y":1,"p":1,"layer":0}"#), "in.jsonl", 2, &["dvs", "no field", "\"layer\""]);
    bad_line(at2(r#"{"t":1,"kind":"leak_tick","x":0}"#), "in.jsonl", 2, &["leak_tick", "no field", "\"x\""]);
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1,"y":1,"p":1,"z":0}"#), "in.jsonl", 2, &["unknown field", "z"]);
    bad_line(at2(r#"{"t":1,"kind":"dvs","x":1,"#), "in.jsonl", 2, &["EOF"]);
    // Blank lines count: the bad line below is line 4.
    bad_line(jsonl(&format!("{ok}\n\n{}\n", r#"{"t":1,"kind":"dvs","x":1,"y":1,"p":9}"#)), "in.jsonl", 4, &["p = 9"]);
}

fn sample_outputs() -> Vec<Timed<HostOutput>> {
    vec![
        Timed { t: 0, item: HostOutput::Spike { layer: 3, f: 1023, x: 63, y: 0 } },
        Timed { t: 0, item: HostOutput::Monitor { layer: 13, f: 1, x: 127, y: 5 } },
        Timed { t: 7, item: HostOutput::NeuronValue { layer: 8, f: 2, x: 1, y: 2, value: -32768 } },
        Timed { t: 7, item: HostOutput::NeuronValue { layer: 0, f: 0, x: 0, y: 0, value: 32767 } },
        Timed { t: 18_446_744_073_709_551_615, item: HostOutput::Monitor { layer: 0, f: 0, x: 0, y: 0 } },
    ]
}

/// Reads back the CSV output format `t,kind,layer,f,x,y,value`.
fn read_output_csv(text: &str) -> Vec<Timed<HostOutput>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,kind,layer,f,x,y,value"));
    lines
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            assert_eq!(v.len(), 7, "{l}");
            let n = |i: usize| v[i].parse::<i64>().unwrap_or_else(|_| panic!("{l}: field {i}"));
            let (layer, f, x, y) = (n(2) as u8, n(3) as u16, n(4) as u16, n(5) as u16);
            let item = match v[1] {
                "spike" => HostOutput::Spike { layer, f, x, y },
                "monitor" => HostOutput::Monitor { layer, f, x, y },
                "neuron_value" => HostOutput::NeuronValue { layer, f, x, y, value: n(6) as i16 },
                k => panic!("unknown kind {k}"),
            };
            if v[1] != "neuron_value" {
                assert_eq!(v[6], "", "{l}");
            }
            Timed { t: v[0].parse().unwrap(), item }
        })
        .collect()
}

#[test]
fn outputs_round_trip() {
    let items = sample_outputs();
    let mut buf = Vec::new();
    write_outputs_to(&mut buf, Format::JsonLines, &items).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().count(), items.len());
    let back: Vec<Timed<HostOutput>> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(back, items);
    assert!(text.starts_with(r#"{"t":0,"kind":"spike","layer":3,"f":1023,"x":63,"y":0}"#), "{text}");

    let mut buf = Vec::new();
    write_outputs_to(&mut buf, Format::Csv, &items).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(read_output_csv(&text), items);
    assert!(text.contains("\n7,neuron_value,8,2,1,2,-32768\n"), "{text}");

    assert!(write_outputs_to(&mut Vec::new(), Format::Csv, &[]).is_ok());
}

/// A fresh file name in the system temp dir.
fn temp_path(ext: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("spikehdl-model-io-{}-{nanos}-{n}.{ext}", std::process::id()))
}

struct Removed(PathBuf);
impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn files_by_extension() {
    assert_eq!(Format::from_path("a/b.CSV".as_ref()).unwrap(), Format::Csv);
    assert_eq!(Format::from_path("b.ndjson".as_ref()).unwrap(), Format::JsonLines);
    assert_eq!(Format::from_path("b.jsonl".as_ref()).unwrap(), Format::JsonLines);
    match Format::from_path("events.txt".as_ref()) {
        Err(e @ EventFileError::Format { .. }) => assert!(e.to_string().contains("\"txt\""), "{e}"),
        other => panic!("{other:?}"),
    }

    let p = Removed(temp_path("csv"));
    std::fs::write(&p.0, "t,x,y,p\n1,2,3,0\n2,3,4,1\n").unwrap();
    assert_eq!(read_inputs(&p.0, N).unwrap(), vec![dvs(1, 2, 3, 0), dvs(2, 3, 4, 1)]);
    std::fs::write(&p.0, "t,x,y,p\n1,2,3,0\n2,3,400,1\n").unwrap();
    bad_line(read_inputs(&p.0, N), &p.0.display().to_string(), 3, &["y = 400"]);

    let p = Removed(temp_path("jsonl"));
    std::fs::write(&p.0, "{\"t\":4,\"kind\":\"spike\",\"layer\":2,\"c\":1,\"x\":2,\"y\":3}\n").unwrap();
    assert_eq!(read_inputs(&p.0, N).unwrap(), vec![Timed { t: 4, item: HostInput::Spike { layer: 2, c: 1, x: 2, y: 3 } }]);

    let missing = temp_path("csv");
    assert!(matches!(read_inputs(&missing, N), Err(EventFileError::Io { .. })));

    // write_outputs picks the format from the extension.
    let items = sample_outputs();
    let p = Removed(temp_path("csv"));
    write_outputs(&p.0, &items).unwrap();
    assert_eq!(read_output_csv(&std::fs::read_to_string(&p.0).unwrap()), items);
    let p = Removed(temp_path("jsonl"));
    write_outputs(&p.0, &items).unwrap();
    let back: Vec<Timed<HostOutput>> =
        std::fs::read_to_string(&p.0).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(back, items);
    assert!(matches!(write_outputs(&temp_path("out"), &items), Err(EventFileError::Format { .. })));
}

#[test]
fn negative_or_huge_jsonl_values_name_the_static_limit() {
    for (line, want) in [
        (r#"{"t":0,"kind":"dvs","x":-1,"y":0,"p":0}"#, "dvs: field x = -1 is out of range 0..=127"),
        (r#"{"t":0,"kind":"spike","layer":-3,"c":0,"x":0,"y":0}"#, "spike: field layer = -3 is out of range 0..=8"),
        (r#"{"t":0,"kind":"read_neuron","layer":0,"f":70000,"x":0,"y":0}"#, "read_neuron: field f = 70000 is out of range 0..=1023"),
        (r#"{"t":0,"kind":"dvs","x":1,"y":2,"p":-1}"#, "dvs: field p = -1 is out of range 0..=1"),
    ] {
        let err = spikehdl_model::io::parse_jsonl(std::io::Cursor::new(line), "e.jsonl", 9).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains(want), "{err}");
    }
}

#[test]
fn streamed_output_lines_equal_serde_and_the_batch_writer() {
    use spikehdl_model::io::write_output;
    let items = sample_outputs();
    for fmt in [Format::JsonLines, Format::Csv] {
        let mut batch = Vec::new();
        write_outputs_to(&mut batch, fmt, &items).unwrap();
        let mut streamed = Vec::new();
        if fmt == Format::Csv {
            streamed.extend_from_slice(b"t,kind,layer,f,x,y,value\n");
        }
        for o in &items {
            write_output(&mut streamed, fmt, o).unwrap();
        }
        assert_eq!(String::from_utf8(streamed).unwrap(), String::from_utf8(batch).unwrap(), "{fmt:?}");
    }
}

#[test]
fn open_inputs_streams_what_read_inputs_reads() {
    let dir = std::env::temp_dir().join(format!("spikehdl-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv_path = dir.join("a.csv");
    std::fs::write(&csv_path, "x,t,p,y\n1,0,1,2\n3,5,0,4\n3,5,0,4\n").unwrap();
    let jsonl_path = dir.join("a.jsonl");
    std::fs::write(&jsonl_path, "{\"t\":0,\"kind\":\"dvs\",\"x\":3,\"y\":4,\"p\":1}\n\n{\"t\":2,\"kind\":\"leak_tick\"}\n").unwrap();
    let npy_path = dir.join("a.npy");
    let mut bytes = Vec::new();
    spikehdl_model::npy::write_events(&mut bytes, &[(0, 1, 2, 1), (7, 127, 0, 0), (9, 5, 5, 1)]).unwrap();
    std::fs::write(&npy_path, &bytes).unwrap();
    for p in [&csv_path, &jsonl_path, &npy_path] {
        let whole = read_inputs(p, 9).unwrap();
        let streamed: Vec<_> = spikehdl_model::io::open_inputs(p, 9).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(streamed, whole, "{}", p.display());
        assert!(!whole.is_empty());
    }
    // Errors: the same message, and the stream ends after it.
    std::fs::write(&csv_path, "0,1,2,1\n5,200,3,0\n6,1,1,1\n").unwrap();
    let whole = read_inputs(&csv_path, 9).unwrap_err().to_string();
    let streamed: Vec<_> = spikehdl_model::io::open_inputs(&csv_path, 9).unwrap().collect();
    assert_eq!(streamed.len(), 2);
    assert_eq!(streamed[1].as_ref().unwrap_err().to_string(), whole);
    // A truncated .npy is reported before any record is read, as the whole-file reader does.
    std::fs::write(&npy_path, &bytes[..bytes.len() - 3]).unwrap();
    let whole = read_inputs(&npy_path, 9).unwrap_err().to_string();
    let streamed = spikehdl_model::io::open_inputs(&npy_path, 9).err().expect("truncated").to_string();
    assert_eq!(streamed, whole);
    assert!(whole.contains("announced"), "{whole}");
    // A bad record mid-file: the same error naming the record.
    let mut bad = Vec::new();
    spikehdl_model::npy::write_events(&mut bad, &[(0, 1, 2, 1), (7, 128, 0, 0)]).unwrap();
    std::fs::write(&npy_path, &bad).unwrap();
    let whole = read_inputs(&npy_path, 9).unwrap_err().to_string();
    let streamed: Vec<_> = spikehdl_model::io::open_inputs(&npy_path, 9).unwrap().collect();
    assert_eq!(streamed.last().unwrap().as_ref().unwrap_err().to_string(), whole);
    assert!(whole.contains("record 2"), "{whole}");
    std::fs::remove_dir_all(&dir).ok();
}
