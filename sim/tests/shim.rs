//! The shim itself, on whatever modules this build verilated.

use spikehdl_sim::{models, Model, SimError};

#[test]
fn unknown_model_and_port_are_errors() {
    match Model::new("no_such_module", None) {
        Err(SimError::UnknownModel { name, .. }) => assert_eq!(name, "no_such_module"),
        other => panic!("expected UnknownModel, got {:?}", other.err()),
    }
    if let Some(name) = models().first() {
        let m = Model::new(name, None).unwrap();
        assert!(matches!(m.input("no_such_port"), Err(SimError::UnknownPort { .. })));
        assert!(matches!(m.output("clock"), Err(SimError::WrongDirection { output: false, .. })), "clock is an input");
    }
}

#[test]
fn every_model_has_a_clock_and_flat_ports() {
    assert!(!models().is_empty(), "build.rs verilated no module: is rtl/ empty?");
    for name in models() {
        let m = Model::new(name, None).unwrap();
        assert!(m.input("clock").is_ok(), "{name} has a clock");
        for p in m.info().ports {
            assert!(!p.name.contains('$') && p.width <= 64, "{name}.{}", p.name);
        }
    }
}

#[test]
fn model_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Model>();
}
