//! The host link codec: every frame kind round-trips, and a stream of good
//! frames with arbitrary line noise between them yields every good frame, in
//! order, whatever the noise (resynchronisation rule of `host_link`).

use proptest::prelude::*;
use spikehdl_model::host_link::*;
use spikehdl_model::{HostInput, HostOutput};

fn xy() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(127), 0u16..128]
}
fn a11() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(2047), Just(0x7C0), 0u16..2048]
}
fn layer() -> impl Strategy<Value = u8> {
    prop_oneof![Just(0u8), Just(15), 0u8..16]
}

fn host_frame() -> impl Strategy<Value = HostFrame> {
    prop_oneof![
        (xy(), xy(), 0u8..2).prop_map(|(x, y, p)| HostFrame::Input(HostInput::Dvs { x, y, p })),
        (layer(), a11(), xy(), xy()).prop_map(|(layer, c, x, y)| HostFrame::Input(HostInput::Spike { layer, c, x, y })),
        Just(HostFrame::Input(HostInput::LeakTick)),
        (layer(), a11(), xy(), xy(), any::<i16>())
            .prop_map(|(layer, f, x, y, value)| HostFrame::Input(HostInput::WriteNeuron { layer, f, x, y, value })),
        (layer(), a11(), xy(), xy()).prop_map(|(layer, f, x, y)| HostFrame::Input(HostInput::ReadNeuron { layer, f, x, y })),
        (prop_oneof![Just(0xC0_C0DBu32), 0u32..(1 << 24)], prop_oneof![Just(0xDBC0_C0DBu32), any::<u32>()])
            .prop_map(|(addr, data)| HostFrame::ConfigWrite { addr, data }),
        any::<u8>().prop_map(HostFrame::Barrier),
        Just(HostFrame::ReadCounters),
        Just(HostFrame::Reset),
        any::<u8>().prop_map(HostFrame::Grant),
    ]
}

fn board_frame() -> impl Strategy<Value = BoardFrame> {
    prop_oneof![
        (any::<u8>(), any::<u16>(), xy(), xy()).prop_map(|(layer, f, x, y)| BoardFrame::Output(HostOutput::Spike { layer, f, x, y })),
        (any::<u8>(), any::<u16>(), xy(), xy()).prop_map(|(layer, f, x, y)| BoardFrame::Output(HostOutput::Monitor { layer, f, x, y })),
        (any::<u8>(), any::<u16>(), xy(), xy(), any::<i16>())
            .prop_map(|(layer, f, x, y, value)| BoardFrame::Output(HostOutput::NeuronValue { layer, f, x, y, value })),
        (any::<u8>(), any::<u32>()).prop_map(|(id, value)| BoardFrame::Counter { id, value }),
        any::<u8>().prop_map(BoardFrame::CountersEnd),
        any::<u8>().prop_map(BoardFrame::BarrierAck),
        any::<u8>().prop_map(BoardFrame::Credit),
        (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(version, n_cores, depth)| BoardFrame::Status { version, n_cores, depth }),
    ]
}

/// Noise biased to the framing bytes.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(END), Just(ESC), Just(ESC_END), Just(ESC_ESC), any::<u8>()], 0..12)
}

proptest! {
    #[test]
    fn host_frames_roundtrip(frames in prop::collection::vec(host_frame(), 1..20)) {
        let mut d = Decoder::host();
        let bytes: Vec<u8> = frames.iter().flat_map(|f| encode_host(f).unwrap()).collect();
        let got: Vec<_> = bytes.iter().filter_map(|&b| d.push(b)).collect();
        prop_assert_eq!(got, frames.iter().map(|f| Ok(*f)).collect::<Vec<_>>());
        prop_assert_eq!(d.bad_frames, 0);
    }

    #[test]
    fn board_frames_roundtrip(frames in prop::collection::vec(board_frame(), 1..20)) {
        let mut d = Decoder::board();
        let bytes: Vec<u8> = frames.iter().flat_map(encode_board).collect();
        let got: Vec<_> = bytes.iter().filter_map(|&b| d.push(b)).collect();
        prop_assert_eq!(got, frames.iter().map(|f| Ok(*f)).collect::<Vec<_>>());
    }

    #[test]
    fn good_frames_survive_any_noise(frames in prop::collection::vec((noise(), host_frame()), 1..12), tail in noise()) {
        let mut bytes = Vec::new();
        for (n, f) in &frames {
            bytes.extend(n);
            bytes.extend(encode_host(f).unwrap());
        }
        bytes.extend(&tail);
        let mut d = Decoder::host();
        let mut results: Vec<Result<HostFrame, BadFrame>> = bytes.iter().filter_map(|&b| d.push(b)).collect();
        if let Some(r) = d.push(END) { results.push(r); }
        let oks: Vec<HostFrame> = results.iter().filter_map(|r| r.ok()).collect();
        // every good frame comes out, in order (noise may rarely form a valid frame of its own)
        let mut it = oks.iter();
        for (_, f) in &frames {
            prop_assert!(it.any(|g| g == f), "frame {:?} lost", f);
        }
        let bad = results.iter().filter(|r| r.is_err()).count() as u64;
        prop_assert_eq!(d.bad_frames, bad);
        // each noise segment between END bytes is at most one bad frame
        let max_bad: u64 = frames.iter().map(|(n, _)| n).chain([&tail]).map(|n| n.iter().filter(|&&b| b == END).count() as u64 + 1).sum();
        prop_assert!(bad <= max_bad, "{} bad frames from at most {} noise segments", bad, max_bad);
    }
}
