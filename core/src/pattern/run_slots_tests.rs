//! Unit tests of the slots of names of round 22 (`run_slots.rs`).

use crate::pattern::{Miner, MinerConfig};

#[test]
fn names_of_up_to_four_tokens_are_one_value_on_three_runs() {
    // Names of three and four tokens after a lower-case word (`for`) and
    // before more of the message: three runs make the value.
    let names = [
        "Integrated Remote Access Controller",
        "PERC H740P Mini",
        "Broadcom NetXtreme Gigabit Ethernet",
    ];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .map(|v| {
            m.mine(&format!(
                "SUP0516 Updating firmware for {v} to version 2.1.7"
            ))
            .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
}

#[test]
fn upper_case_names_in_a_records_field_are_one_value() {
    // A sensor's name that ends at a bare `|` is a field's value whatever
    // its case (`PCI PERR`, `HDD 3`): the event is the next field.
    let names = ["PCI PERR", "NMI", "BUS ERR 2"];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .map(|v| {
            m.mine(&format!(
                "Critical Interrupt {v} | Bus Correctable error | Asserted"
            ))
            .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
}

#[test]
fn names_of_two_word_counts_that_end_the_message_are_one_value_on_three_runs() {
    // Names of one word and of two that end the message right after a
    // lower-case word: three runs make the value (four before).
    let folders = ["Trash", "Deleted Items", "Junk"];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = folders
        .iter()
        .map(|v| {
            m.mine(&format!("mailbox - Purged 12 old messages from {v}"))
                .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
}

#[test]
fn a_run_after_a_capitalised_label_in_a_list_of_fields_or_after_a_sentence_is_one_value() {
    // `Wake Source:` follows labelled fields with values (`Wake Time:
    // <*>`): the run that ends the message is that field's value.
    let sources = ["Power Button", "Device -USB Composite Device", "Unknown"];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = sources
        .iter()
        .map(|v| {
            m.mine(&format!(
                "The system has returned from a low power state. Sleep Time: \
                 2024-01-17T06:20:04Z Wake Time: 2024-01-17T06:21:04Z Wake Source: {v}"
            ))
            .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    // After a sentence too (`entering sleep. Sleep Reason: Idle Timeout`).
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = ["Application API", "Button or Lid", "Idle Timeout"]
        .iter()
        .map(|v| {
            m.mine(&format!(
                "Kernel-Power 42 The system is entering sleep.  Sleep Reason: {v}"
            ))
            .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    // A capitalised label with no labelled value or sentence before it
    // names the event.
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = ["Corrected error", "Uncorrected error", "Fatal Error"]
        .iter()
        .map(|v| m.mine(&format!("kernel mce: CPU 3 Hardware Error: {v}")).id)
        .collect();
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[2]));
}

#[test]
fn a_framed_run_keeps_its_closing_bracket_when_the_runs_share_it() {
    // The runs all end in `<*>)`: the run keeps that token, so it is
    // framed whole (`(Safari <*>)`), a value after a masked value.
    let products = [
        "Background Task Management 2.0",
        "Safari 17.3",
        "macOS Sonoma 14.3.1",
        "macOS Ventura 13.6.4",
    ];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = products
        .iter()
        .map(|v| {
            m.mine(&format!(
                "Download of product 041-43345 ({v}) failed with error 12"
            ))
            .id
        })
        .collect();
    for id in &ids[1..] {
        assert_eq!(m.resolve(ids[0]), m.resolve(*id));
    }
}

#[test]
fn a_devices_field_that_ends_the_message_is_one_value_on_three_runs() {
    // The kernel prints a USB device's fields after its name and id:
    // the product's name, of one to three words, is the field's value.
    let names = ["Ultra USB 3.0", "USB Receiver", "Logitech USB Headset"];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, v)| m.mine(&format!("usb 1-{i}: Product: {v}")).id)
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    let more = m.mine("usb 2-1: Product: Integrated Camera").id;
    assert_eq!(m.resolve(ids[0]), m.resolve(more));
    // Without the device's id before the label, two words are too few.
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .map(|v| m.mine(&format!("usb: Product: {v}")).id)
        .collect();
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
}

#[test]
fn a_name_in_brackets_after_an_address_is_one_value_on_three_runs() {
    // bluetoothd names a device after its address; one word on each side.
    let names = ["AirPods Pro", "MX Master 3", "Keychron K2"];
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .map(|v| {
            m.mine(&format!("Device 38:18:4C:1A:2B:3C ({v}) connected"))
                .id
        })
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    let more = m.mine("Device 00:1B:66:C0:FF:EE (JBL Flip 5) connected").id;
    assert_eq!(m.resolve(ids[0]), m.resolve(more));
    // After a capitalised word the bracket is no value's name: three runs
    // stay apart.
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = names
        .iter()
        .map(|v| m.mine(&format!("Device Mouse ({v}) connected")).id)
        .collect();
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
}

/// A command's arguments after its name, holding an option, are one value
/// on three runs of two word counts (session 28, round 40); lower-case
/// words without an option there stay apart.
#[test]
fn a_commands_arguments_are_one_value() {
    let mine = |args: &[&str]| {
        let mut m = Miner::new("svc", MinerConfig::default());
        let ids: Vec<_> = args
            .iter()
            .map(|v| {
                m.mine(&format!(
                    "[W] Slow git command: git {v} in /srv/repos/web.git (12.5s)"
                ))
                .id
            })
            .collect();
        ids.iter().all(|id| m.resolve(*id) == m.resolve(ids[0]))
    };
    assert!(mine(&[
        "-c protocol.version=2 upload-pack --stateless-rpc",
        "cat-file --batch",
        "log --name-status -c --format=commit",
    ]));
    assert!(!mine(&["fetch origin main", "gc", "prune now",]));
}

/// Session 28, round 39: lower-case names after the capitalised noun that
/// opens the text and before its verb are one value; a run with a word of
/// grammar is a sentence of its own.
#[test]
fn lower_case_names_after_an_opening_noun_are_one_value() {
    let names = [
        "garbage collection",
        "savepoint",
        "log backup",
        "statistics collector",
    ];
    for prefix in ["w Basis Timer.cpp(00701) : ", ""] {
        let mut m = Miner::new("svc", MinerConfig::default());
        let ids: Vec<_> = (1..)
            .zip(names)
            .map(|(k, v)| {
                m.mine(&format!(
                    "{prefix}Timer {v} took {k}20 ms longer than expected"
                ))
                .id
            })
            .collect();
        for id in &ids {
            assert_eq!(m.resolve(*id), m.resolve(ids[0]), "{prefix}");
        }
    }
    let mut m = Miner::new("svc", MinerConfig::default());
    let ids: Vec<_> = ["was closed", "reset", "is not reachable", "has timed"]
        .iter()
        .map(|v| m.mine(&format!("Connection {v} after 12 ms wait")).id)
        .collect();
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
}
