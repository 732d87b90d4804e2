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

#[test]
fn chip_and_core_models_skip_the_input_settle() {
    // Every co-simulation's speed rests on it (docs/decisions.md): a
    // Verilator whose generated trigger line differs leaves a model
    // unpatched, slower by 2.5-4.6x, and this names it.
    for name in models().into_iter().filter(|n| n.starts_with("chip_") || n.starts_with("layer_core_")) {
        assert!(Model::new(name, None).unwrap().info().incremental, "{name}: input settle not patched (see sim/build.rs patch_ico_trigger)");
    }
}

/// Random input changes on some cycles, none on others: both settle modes
/// must show the same outputs on every cycle, read after the settle and
/// after the edge.
#[test]
fn skipping_the_input_settle_changes_no_output() {
    use spikehdl_sim::{Settle, PowerUp};
    for name in models().into_iter().filter(|n| ["chip_tiny", "layer_core_tiny"].contains(n)) {
        let mut a = Model::with_power_up(name, None, PowerUp::Random(7)).unwrap();
        let mut b = Model::with_power_up(name, None, PowerUp::Random(7)).unwrap();
        a.set_settle(Settle::Always);
        b.set_settle(Settle::OnInputChange);
        let ports = a.info().ports;
        let inputs: Vec<_> = ports.iter().filter(|p| !p.output && p.name != "clock").map(|p| (a.input(p.name).unwrap(), p.width)).collect();
        let outputs: Vec<_> = ports.iter().filter(|p| p.output).map(|p| (p.name, a.output(p.name).unwrap())).collect();
        let reset = a.input("reset").unwrap();
        for m in [&mut a, &mut b] {
            m.set(reset, 1);
            m.tick(4);
            m.set(reset, 0);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for cycle in 0..3000 {
            // Inputs change on about a third of the cycles (reset stays low).
            if rnd() % 3 == 0 {
                for &(p, w) in &inputs {
                    let v = if p == reset { 0 } else { rnd() & if w >= 64 { u64::MAX } else { (1 << w) - 1 } };
                    a.set(p, v);
                    b.set(p, v);
                }
            }
            for phase in ["settled", "after the edge"] {
                if phase == "settled" {
                    a.eval();
                    b.eval();
                } else {
                    a.tick(1);
                    b.tick(1);
                }
                for &(n, p) in &outputs {
                    assert_eq!(a.get(p), b.get(p), "{name} cycle {cycle} {phase}: output {n}, settling on every eval (left) vs on input change (right)");
                }
            }
        }
    }
}
