//! Unit tests of the run step (`runs.rs`).

use crate::pattern::{Miner, MinerConfig};

fn mine_all(m: &mut Miner, lines: &[String]) -> Vec<crate::pattern::PatternId> {
    lines.iter().map(|l| m.mine(l).id).collect()
}

/// A fresh miner after mining `line` of each of `values`, and the ids.
fn mine_values(
    line: impl Fn(&str) -> String,
    values: &[&str],
) -> (Miner, Vec<crate::pattern::PatternId>) {
    let mut m = Miner::new("svc", MinerConfig::default());
    let lines: Vec<String> = values.iter().map(|v| line(v)).collect();
    let ids = mine_all(&mut m, &lines);
    (m, ids)
}

/// Every value of `values` in `line` is one pattern's.
fn assert_one_pattern(line: impl Fn(&str) -> String, values: &[&str]) {
    let (m, ids) = mine_values(&line, values);
    for id in &ids[1..] {
        assert_eq!(m.resolve(ids[0]), m.resolve(*id), "{}", line("<*>"));
    }
}

#[test]
fn a_value_of_several_capitalised_words_is_one_variable() {
    let products = [
        "Windows Defender",
        "Norton Security",
        "Bitdefender Antivirus Plus",
        "McAfee",
    ];
    for reversed in [false, true] {
        let mut m = Miner::new("svc", MinerConfig::default());
        let mut lines: Vec<String> = products
            .iter()
            .map(|p| format!("Updated {p} status successfully to running"))
            .collect();
        if reversed {
            lines.reverse();
        }
        let ids = mine_all(&mut m, &lines);
        for id in &ids {
            assert_eq!(m.resolve(*id), m.resolve(ids[0]), "reversed: {reversed}");
        }
        assert_eq!(
            m.template(ids[0]).as_deref(),
            Some("Updated <*> status successfully to running")
        );
        // A fifth product of another length joins the `<*>`.
        let more = m.mine("Updated Avast Free Antivirus status successfully to running");
        assert!(!more.new);
        assert_eq!(m.resolve(more.id), m.resolve(ids[0]));
    }
}

#[test]
fn a_value_after_a_label_needs_three_runs() {
    let mut m = Miner::new("svc", MinerConfig::default());
    let line = |reason: &str| {
        format!("An account failed to log on. Reason: {reason} Source address: 10.0.0.1")
    };
    let a = m.mine(&line("Unknown user name or bad password."));
    let b = m.mine(&line("Account currently disabled."));
    assert_ne!(m.resolve(a.id), m.resolve(b.id), "two runs are not enough");
    // Fifteen words: a reason written as a sentence.
    let c = m.mine(&line(
        "The referenced account is currently locked out and may not be logged on to.",
    ));
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    assert_eq!(m.resolve(a.id), m.resolve(c.id));
    assert_eq!(
        m.template(a.id).as_deref(),
        Some("An account failed to log on. Reason: <*> Source address: <*>")
    );
}

/// Session 14: a run that ends the message after a lower-case or
/// masked label is a value (three runs, as after any label).
#[test]
fn a_value_that_ends_the_message_after_a_lower_case_label() {
    for line in [
        |v: &str| format!("SP Operation completed successfully: {v}"),
        |v: &str| format!("Could not connect to web-01:443: {v}"),
    ] {
        assert_one_pattern(
            line,
            &[
                "Apply Setup Plugins",
                "Create Boot Configuration",
                "No route to host",
            ],
        );
    }
}

/// Session 14: a run of lower-case words that ends the message after
/// a lower-case label is that field's value.
#[test]
fn a_lower_case_value_after_a_lower_case_label() {
    assert_one_pattern(
        |v| format!("The controller was rebooted with the following reason: {v}"),
        &["user initiated", "watchdog timeout", "ac power cycle"],
    );
}

/// Session 21, round 18: a sentence (plain words, a lower-case one
/// after the first, a final `.`) that ends the message after a lower-case
/// word that names no field is the event's reason, constant words: one
/// template per reason; after a field's name (`reason:`) it stays that
/// field's value.
#[test]
fn a_sentence_after_a_plain_word_is_the_events_reason() {
    let reasons = [
        "Volume is offline.",
        "Operation aborted by user.",
        "Change log is full.",
        "session ended normally.",
    ];
    for line in [
        |v: &str| format!("Deduplication operation on /vol/home stopped: {v}"),
        |v: &str| format!("Job 42 on node b failed to complete: {v}"),
    ] {
        let (m, ids) = mine_values(line, &reasons);
        let templates: std::collections::BTreeSet<_> =
            ids.iter().map(|id| m.template(*id)).collect();
        assert_eq!(templates.len(), reasons.len(), "{}", line("<*>"));
    }
    assert_one_pattern(
        |v| format!("The controller was rebooted with the following reason: {v}"),
        &["user initiated.", "watchdog timeout.", "ac power cycle."],
    );
}

/// Session 18: `key=value` fields after the text (a structured logger's
/// layout) do not keep a run from ending the text: a reason after a
/// lower-case label is a value there too.
#[test]
fn a_value_that_ends_the_text_before_key_value_fields() {
    assert_one_pattern(
        |v| format!("Executor \"docker\" stopped the job: {v}  job=4411 project=7 runner=ab12cd34"),
        &[
            "context canceled",
            "execution took longer than 1h0m0s seconds",
            "image pull failed",
        ],
    );
}

/// Session 18: a bare ` - ` before the message's last words labels them
/// as a label's `:` does (a reason or a name that ends the message).
#[test]
fn a_value_that_ends_the_message_after_a_dash() {
    assert_one_pattern(
        |v| {
            format!(
                "Request 'INVITE' from '<sip:400@10.0.0.1>' routed for '10.0.0.9:5060' (callid: 7f8a5e) - {v}"
            )
        },
        &[
            "Failed to authenticate",
            "No matching endpoint found",
            "Not a local domain",
        ],
    );
    assert_one_pattern(
        |v| format!("updated activity 4f2a - completed 50.0% - {v}"),
        &[
            "Media download by alice",
            "Scanning Movies",
            "Refreshing Metadata",
        ],
    );
}

/// Session 15: an exception's class and its text after a label are
/// one value, also after a masked label (the class is no label).
#[test]
fn an_exception_after_a_label_is_one_value() {
    for line in [
        |v: &str| format!("Balancer: Exception while balancing: {v}"),
        |v: &str| format!("Giving up on the exception for block 42: {v}"),
    ] {
        assert_one_pattern(
            line,
            &[
                "java.io.IOException: Another Balancer is running",
                "java.net.ConnectException: Connection refused",
                "org.apache.ipc.RemoteException: Operation category READ is not supported",
            ],
        );
    }
}

/// Session 15: a value after a label may open with a number before a
/// capitalised word.
#[test]
fn a_value_after_a_label_may_open_with_a_number() {
    assert_one_pattern(
        |v| format!("Windows successfully installed the following update: {v}"),
        &[
            "2024-01 Cumulative Update for Windows 11 Version 23H2",
            "Security Intelligence Update for Defender",
            "Intel Corporation - Display - 31.0.101.4502",
            "2024-02 Dynamic Update for Windows 10",
        ],
    );
}

/// Session 15: a run framed whole by brackets that ends the message is
/// a value after a value too (four runs), one token or nested.
#[test]
fn a_framed_value_ends_the_message_after_a_value() {
    let line = |v: &str| format!("kernel low swap: suspending pid 42 {v}");
    assert_one_pattern(
        line,
        &[
            "(Xcode).",
            "(Docker Desktop).",
            "(Slack Helper (Renderer)).",
            "(Google Chrome Helper).",
        ],
    );
    // Three are not enough after a field's value (since session 17 they
    // are after a bare value: below).
    let (m, ids) = mine_values(
        |v| format!("kernel low swap: suspending pid=42 {v}"),
        &["(Xcode)", "(Docker Desktop)", "(Google Chrome Helper)"],
    );
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
}

/// Session 16: a run right after a masked value joins a pattern that
/// has learnt a field of its own there (`<*> <*> Success`: the fields
/// of a tab-separated record), whichever form came first.
#[test]
fn a_value_right_after_a_value_joins_the_field_a_pattern_learnt() {
    let line = |v: &str| format!("183 [AGENT_INSTALLING]\t101\t0\t{v}\tSuccess\tContent Install");
    let mut forms = vec![
        "UpdateOrchestrator",
        "MoUpdateOrchestrator",
        "Windows Defender Antivirus",
    ];
    assert_one_pattern(line, &forms);
    forms.reverse();
    assert_one_pattern(line, &forms);
}

/// Session 16: a lower-case value of two or three words after a
/// lower-case word joins the `<*>` one-word values made there, in the
/// middle of the message or at its end; by itself it is no value.
#[test]
fn a_lower_case_value_of_words_joins_the_variable_of_one_word_values() {
    for line in [
        |v: &str| format!("Volume 42: status changed from {v} to available"),
        |v: &str| format!("Night Shift was disabled by {v}"),
    ] {
        assert_one_pattern(
            line,
            &["creating", "deleting", "attaching", "awaiting transfer"],
        );
        let (m, ids) = mine_values(line, &["awaiting transfer", "error deleting"]);
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
    }
}

/// Session 16: the same in a message with no capitalised word or label
/// after its first word, and after a lower-case label with a full stop
/// ending the value; three words only where they end the message
/// (`for invalid user guest from` is another event than `for <*> from`).
#[test]
fn a_lower_case_value_of_words_in_prose_and_after_a_label() {
    assert_one_pattern(
        |v| format!("image 42 status changed from saving to {v}"),
        &["active", "killed", "deleted", "pending delete"],
    );
    assert_one_pattern(
        |v| format!("AMQP server on 10.0.0.1:5672 is closing: {v} Trying again in 5 seconds."),
        &[
            "Server unexpectedly closed connection.",
            "Connection reset by peer.",
            "Broken pipe.",
            "timed out.",
        ],
    );
    let line = |v: &str| format!("Failed password for {v} from 10.0.0.1 port 22 ssh2");
    let (m, ids) = mine_values(line, &["root", "admin", "guest", "invalid user guest"]);
    assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[3]));
}

/// Session 16: a name of capitalised words that ends the message right
/// after a lower-case word is the value of the field the word names (four
/// runs, as in the middle of a message).
#[test]
fn a_name_that_ends_the_message_after_a_lower_case_word_is_one_value() {
    let line = |v: &str| format!("(Normal) Volume: Index opened for volume {v}");
    assert_one_pattern(
        line,
        &[
            "Macintosh HD",
            "Backup Disk",
            "Macintosh HD - Data",
            "Untitled",
        ],
    );
    // Three of one word count are not enough (three of two word counts
    // are since session 24, round 22: `run_slots_tests.rs`).
    let (m, ids) = mine_values(line, &["Macintosh HD", "Backup Disk", "Time Machine"]);
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]), "three are not enough");
}

/// Session 16: a name followed by the event's prose (a lower-case word)
/// is no name that ends the message: the sensor lines stay two events.
#[test]
fn a_name_followed_by_prose_is_no_name_that_ends_the_message() {
    let mut m = Miner::new("svc", MinerConfig::default());
    let within = m.mine("VLT0305 The system board PS1 Voltage 1 voltage is within range.");
    for line in [
        "TMP0120 The system board CPU2 Temp temperature is greater than the upper critical threshold.",
        "TMP0120 The system board System Board Exhaust Temp temperature is greater than the upper critical threshold.",
        "VLT0305 The system board System Board 3.3V PG voltage is within range.",
        "TMP0118 The system board System Board Inlet Temp temperature is greater than the upper warning threshold.",
        "VLT0305 The system board CPU1 VCORE PG voltage is within range.",
    ] {
        m.mine(line);
    }
    let greater = m.mine(
        "TMP0118 The system board System Board Exhaust Temp temperature is greater than the upper warning threshold.",
    );
    assert_ne!(m.resolve(within.id), m.resolve(greater.id));
}

/// Session 16: a run framed whole by brackets that ends the message after
/// a plain word is a value on three runs, as after a label (after a value
/// it still needs four).
#[test]
fn a_framed_value_ends_the_message_after_a_word_on_three_runs() {
    assert_one_pattern(
        |v| format!("Captive: en0: SSID 'Office' making interface primary {v}"),
        &[
            "(protected network)",
            "(cache indicates no captive)",
            "(captive portal detected)",
        ],
    );
}

/// Session 17: a framed run that ends the message after a masked value
/// is a value on three runs too.
#[test]
fn a_framed_value_ends_the_message_after_a_value_on_three_runs() {
    assert_one_pattern(
        |v| format!("Error reading readable client_fd 17 {v}"),
        &[
            "(Connection reset by peer)",
            "(Broken pipe)",
            "(Connection timed out)",
        ],
    );
}

/// Session 14: upper-case words in a run of mixed case are a name's
/// (`PERC <*> Mini`), not the event's.
#[test]
fn a_name_holding_an_upper_case_word_is_one_value() {
    assert_one_pattern(
        |v| format!("The firmware update operation is initiated for {v} today"),
        &[
            "PERC H740P Mini",
            "Integrated Remote Access Controller",
            "Broadcom NetXtreme Gigabit Ethernet",
            "Lifecycle Controller Agent",
        ],
    );
}

/// Session 14: two runs that share three words in a row are two
/// differences (a name and a word of the event), not one value.
#[test]
fn runs_sharing_three_words_are_two_differences() {
    let mut m = Miner::new("svc", MinerConfig::default());
    let mut ids = Vec::new();
    for level in ["critical", "warning"] {
        for sensor in ["Inlet Temp", "Exhaust Temp"] {
            let line = format!(
                "The system board {sensor} temperature is greater than the upper {level} threshold."
            );
            ids.push((level, m.mine(&line).id));
        }
    }
    for (level, id) in &ids {
        for (other, oid) in &ids {
            if level != other {
                assert_ne!(m.resolve(*id), m.resolve(*oid), "{level} {other}");
            }
        }
    }
}

#[test]
fn events_prose_and_fields_are_no_runs() {
    let cases: [&[&str]; 6] = [
        // Lower-case prose that ends the message after a value and `:`.
        &[
            "HSN: link 5 on tile 3: lane degraded, some lanes active",
            "HSN: link 5 on tile 3: link recovered after retries",
            "HSN: link 5 on tile 3: link failed, routing around it",
            "HSN: link 5 on tile 3: port went down",
        ],
        // A run that ends the message after a header's logger (a
        // masked label after no lower-case word).
        &[
            "INFO [Main Allocator] org.v2.Alloc: Got allocated containers",
            "INFO [Main Allocator] org.v2.Alloc: Assigned container to attempt",
            "INFO [Main Allocator] org.v2.Alloc: Recalculating schedule now",
            "INFO [Main Allocator] org.v2.Alloc: Reduce slow start threshold not met",
        ],
        // Upper-case words name the event.
        &[
            "Received LINK DOWN event from switch core",
            "Received ROAM event from switch core",
            "Received BSS STEERING event from switch core",
            "Received DEAUTH NOW event from switch core",
        ],
        // Lower-case prose changes what the event is.
        &[
            "Connection to pool was opened by the manager",
            "Connection to pool was not opened by the manager",
            "Connection to pool could never be opened by the manager",
            "Connection to pool got closed by the manager",
        ],
        // A run that ends the message.
        &[
            "kernel mce: Hardware Error: Machine check events logged",
            "kernel mce: Hardware Error: Corrected error",
            "kernel mce: Hardware Error: Uncorrected error seen",
            "kernel mce: Hardware Error: Processor context corrupt",
        ],
        // Runs holding labels are fields.
        &[
            "process state changed: Running; visibility: Unknown for app shell",
            "process state changed: Suspended; visibility: Foreground for app shell",
            "process state changed: Terminated; visibility: Background for app shell",
            "process state changed: Running; visibility: Background now for app shell",
        ],
    ];
    for lines in cases {
        let mut m = Miner::new("svc", MinerConfig::default());
        let ids: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().map(|id| m.resolve(*id)).collect();
        assert_eq!(distinct.len(), lines.len(), "{lines:?}");
    }
}

mod order_tests {
    use crate::pattern::{Miner, MinerConfig};

    #[test]
    fn a_bracketed_run_joins_a_bracketed_value_in_either_order() {
        let line = |thread: &str| {
            format!(
                "The web application [shop] appears to have started a thread named {thread} but has failed to stop it."
            )
        };
        let forms = [
            "[pool-1-thread-1]",
            "[HikariPool-1 housekeeper]",
            "[Timer-0]",
        ];
        // The run first: the `[<*>]` pattern made after it takes it.
        for run_first in [false, true] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let mut order = forms.to_vec();
            let run = "[Abandoned connection cleanup thread]";
            if run_first {
                order.insert(0, run);
            } else {
                order.push(run);
            }
            let reversed = run_first;
            let ids: Vec<_> = order.iter().map(|t| m.mine(&line(t)).id).collect();
            for id in &ids {
                assert_eq!(m.resolve(*id), m.resolve(ids[0]), "reversed: {reversed}");
            }
        }
    }

    #[test]
    fn runs_are_counted_again_when_a_pattern_gains_a_variable() {
        // Each product's pattern lines up with the others only once its
        // state became `<*>`; the last to do so merges them all.
        let mut m = Miner::new("svc", MinerConfig::default());
        let line = |p: &str, state: &str| format!("Updated {p} status successfully to {state}.");
        let products = [
            "Windows Defender",
            "Norton Security",
            "McAfee",
            "Avast Free",
        ];
        let states = ["STATE_ON", "STATE_OFF"];
        let mut ids = Vec::new();
        for (k, p) in products.iter().enumerate() {
            ids.push(m.mine(&line(p, states[k % 2])).id);
        }
        for (k, p) in products.iter().enumerate() {
            ids.push(m.mine(&line(p, states[(k + 1) % 2])).id);
        }
        for id in &ids {
            assert_eq!(m.resolve(*id), m.resolve(ids[0]));
        }
        assert_eq!(
            m.template(ids[0]).as_deref(),
            Some("Updated <*> status successfully to <*>")
        );
    }
}

/// Session 17: a run never spans a bare `|`, the separator of a record's
/// fields; the field after it is the event (`Failure detected`), not part
/// of the sensor's name before it.
#[test]
fn a_run_never_spans_a_field_separator() {
    let mut m = Miner::new("svc", MinerConfig::default());
    let lines = [
        "Power Supply PS1 Status | Power Supply AC lost | Asserted",
        "Power Supply PS2 Status | Failure detected | Asserted",
        "Power Supply PSU Redundancy | Redundancy Lost | Asserted",
        "Power Supply PSU2 Status | Presence detected | Asserted",
        "Power Supply PS Redundancy | Fully Redundant | Asserted",
    ];
    let ids: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
    let groups: std::collections::HashSet<_> = ids.iter().map(|id| m.resolve(*id)).collect();
    let templates: Vec<_> = ids.iter().map(|id| m.template(*id)).collect();
    assert_eq!(groups.len(), lines.len(), "{templates:?}");
}

/// Session 17: a run that ends at a bare `|` is bounded by it as by a
/// bracket: a field's value of any case on three forms (a sensor's name).
#[test]
fn a_run_that_ends_a_field_is_one_value() {
    assert_one_pattern(
        |v| format!("Critical Interrupt {v} | Bus Correctable error | Asserted"),
        &["BUS Fatal Err", "NMI Button", "PCIE Error", "NMI"],
    );
}

/// Session 21, round 18: the text after an exception's class that ends
/// the message is the exception's message, constant words (one template
/// per text), whatever comes before the class (session 17 took it as a
/// value on three runs).
#[test]
fn an_exceptions_text_after_its_class_is_constant() {
    let texts = [
        "Filesystem closed",
        "Connection reset by peer",
        "No space left on device",
        "Broken pipe",
    ];
    for line in [
        |v: &str| format!("Failed construction RegionServer java.io.IOException: {v}"),
        |v: &str| format!("UT005013: An IOException occurred: java.io.IOException: {v}"),
    ] {
        let (m, ids) = mine_values(line, &texts);
        let templates: std::collections::BTreeSet<_> =
            ids.iter().map(|id| m.template(*id)).collect();
        assert_eq!(templates.len(), texts.len(), "{}", line("<*>"));
    }
}

#[test]
fn a_name_of_capitalised_words_before_its_colon_is_one_value() {
    // The name of what the message is about, after a logger's name.
    let automations = [
        "Living Room Lights",
        "Morning Coffee",
        "Garage Door Left Open",
        "Hallway Motion at Night",
    ];
    for rest in ["Already running", "Executing step call service"] {
        assert_one_pattern(
            |v| format!("(MainThread) [hub.automation.x_{}] {v}: {rest}", v.len()),
            &automations,
        );
    }
    // A name after a masked label, before more of the message.
    assert_one_pattern(
        |v| format!("Event 4711: {v} on web-01.example.com in datacenter is powered on"),
        &[
            "Domain Controller 2",
            "SQL Prod",
            "Jenkins Build Agent",
            "Web Server 01",
        ],
    );
}

#[test]
fn prose_and_fields_after_a_value_are_no_name() {
    let cases: [&[&str]; 2] = [
        // Lower-case prose after a value changes the event.
        &[
            "Event 4711: Disk was removed on web-01 in datacenter now",
            "Event 4711: Fan stopped spinning on web-01 in datacenter now",
            "Event 4711: Power supply failed on web-01 in datacenter now",
            "Event 4711: Link went down on web-01 in datacenter now",
        ],
        // Fields, not one name.
        &[
            "job 42 State: Running; Mode: Fast for queue main",
            "job 42 State: Stopped; Mode: Slow for queue main",
            "job 42 State: Pending; Mode: Idle for queue main",
            "job 42 State: Failed; Mode: Safe for queue main",
        ],
    ];
    for lines in cases {
        let mut m = Miner::new("svc", MinerConfig::default());
        let ids: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().map(|id| m.resolve(*id)).collect();
        assert_eq!(distinct.len(), lines.len(), "{lines:?}");
    }
}

#[test]
fn names_of_one_and_of_several_words_are_one_value_on_three_runs() {
    // One name of one word, two of two or three, between a lower-case word
    // and more of the message: three runs make the value (four before).
    let names = ["Finance Share", "Scans", "Marketing Assets 2024"];
    for reversed in [false, true] {
        let mut values = names.to_vec();
        if reversed {
            values.reverse();
        }
        assert_one_pattern(
            |v| format!("connect_path: canonicalize failed for share {v}, path /srv/x"),
            &values,
        );
    }
    // Three of the same word count stayed apart (four made the value);
    // since session 27, round 34 two names of two words that differ
    // together are one value (`run_pair.rs`). Runs after a capitalised
    // word stay apart: the event's name (`Received Link Down Event`).
    assert_one_pattern(
        |v| format!("connect_path: canonicalize failed for share {v}, path /srv/x"),
        &["Finance Share", "Scan Inbox", "Marketing Assets"],
    );
    let line = |v: &str| format!("wifi: link[7]: Received {v} Event, reason: 3");
    let (m, ids) = mine_values(line, &["Bss Steering", "Roam", "Link Down"]);
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]), "{}", line("<*>"));
    assert_ne!(m.resolve(ids[1]), m.resolve(ids[2]), "{}", line("<*>"));
}

/// A run that holds a bare `=` holds a field, its key and its value, even
/// framed by brackets (`[erin/<via Auth-Type = eap>]`, a RADIUS server's
/// user authenticated by EAP): no one value that a pattern's `<*>` (`Login
/// OK: [<*>]` of users in brackets) takes, in either order.
#[test]
fn a_framed_run_with_a_bare_equals_sign_is_no_one_value() {
    let line = |u: &str| format!("Auth: (7) Login OK: {u} (from client ap port 3 cli 00-1a-2b)");
    let plain = ["[alice]", "[bob]", "[carol]", "[dave]", "[erin]"];
    let eap = [
        "[frank/<via Auth-Type = eap>]",
        "[grace/<via Auth-Type = eap>]",
        "[heidi/<via Auth-Type = eap>]",
        "[ivan/<via Auth-Type = eap>]",
    ];
    for eap_first in [false, true] {
        let mut m = Miner::new("svc", MinerConfig::default());
        let (first, second) = if eap_first {
            (&eap[..], &plain[..])
        } else {
            (&plain[..], &eap[..])
        };
        let a: Vec<_> = first.iter().map(|u| m.mine(&line(u)).id).collect();
        let b: Vec<_> = second.iter().map(|u| m.mine(&line(u)).id).collect();
        let (plain_ids, eap_ids) = if eap_first { (&b, &a) } else { (&a, &b) };
        for id in plain_ids.iter().chain(eap_ids) {
            let same = if plain_ids.contains(id) {
                plain_ids[0]
            } else {
                eap_ids[0]
            };
            assert_eq!(m.resolve(*id), m.resolve(same), "eap first: {eap_first}");
        }
        assert_ne!(
            m.resolve(plain_ids[0]),
            m.resolve(eap_ids[0]),
            "eap first: {eap_first}"
        );
    }
}

/// A lower-case value of two words after a lower-case word whose first
/// word holds a `/` (a branch or a relative path whose name holds a space,
/// `feature/login page`) is one value as one of letters is: a pattern's
/// bare `<*>` there takes it.
#[test]
fn a_lower_case_value_with_a_slash_joins_a_bare_variable() {
    assert_one_pattern(
        |v| format!("[I] Push to web/storefront: 12 commits, branch {v}"),
        &[
            "main",
            "develop",
            "release/1.4",
            "hotfix",
            "feature/login page",
        ],
    );
}
