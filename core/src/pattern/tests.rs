//! Unit tests of the miner's placement rules (`mod.rs`).

use super::*;

fn miner() -> Miner {
    Miner::new("svc", MinerConfig::default())
}

#[test]
fn equal_masked_messages_share_a_pattern() {
    let mut m = miner();
    let a = m.mine("user 17 logged in from 10.0.0.1");
    let b = m.mine("user 42 logged in from 10.0.0.2");
    assert!(a.new);
    assert!(!b.new);
    assert_eq!(a.id, b.id);
    assert_eq!(
        m.template(a.id).as_deref(),
        Some("user <*> logged in from <*>")
    );
}

#[test]
fn key_value_tokens_differ_by_key() {
    let mut m = miner();
    let a = m.mine("3f2a9c81d0: client=web-1[10.0.0.1]");
    let b = m.mine("77aa01c3e9: removed");
    let c = m.mine("9be0c2d4f1: message-id=<1@x>");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
    assert_ne!(m.resolve(a.id), m.resolve(c.id));
    let d = m.mine("0b1c2d3e4f: client=db-2[10.0.0.9]");
    assert_eq!(m.resolve(d.id), m.resolve(a.id));
}

#[test]
fn one_differing_word_is_a_different_pattern_until_it_varies_enough() {
    let mut m = miner();
    let opened = m.mine("connection to db pool opened");
    let closed = m.mine("connection to db pool closed");
    assert_ne!(opened.id, closed.id);
    m.mine("connection to db pool reset");
    assert_eq!(m.len(), 1, "three values of one word merge");
    assert_eq!(m.resolve(closed.id), m.resolve(opened.id));
    assert_eq!(
        m.template(closed.id).as_deref(),
        Some("connection to db pool <*>")
    );
}

#[test]
fn a_second_varying_word_merges_patterns_already_varying_in_the_first() {
    let mut m = miner();
    let insert =
        |table: &str, column: &str| format!("INSERT INTO {table} (id, {column}) VALUES (7, 'x')");
    // Three columns each make `users` and `orders` patterns of their own.
    let mut ids = Vec::new();
    for (table, columns) in [
        ("users", ["name", "email", "city"]),
        ("orders", ["total", "state", "notes"]),
    ] {
        for column in columns {
            ids.push(m.mine(&insert(table, column)).id);
        }
    }
    assert_eq!(m.len(), 2, "one pattern per table so far");
    // A third table with a column never seen: its line differs from both
    // in the table alone, so the table is a variable too.
    ids.push(m.mine(&insert("billing", "zip")).id);
    assert_eq!(m.len(), 1);
    let first = m.resolve(ids[0]);
    assert!(ids.iter().all(|id| m.resolve(*id) == first), "one pattern");
    assert_eq!(
        first.and_then(|id| m.template(id)).as_deref(),
        Some("INSERT INTO <*> (id, <*> VALUES (<*>)")
    );
}

#[test]
fn words_before_numbers_are_kept_apart() {
    let mut m = miner();
    let line = |handling: &str, code: u32| {
        format!("\"GET /a/{code} HTTP/1.1\" {handling}/{code} {code} \"-\" 0.{code}")
    };
    let mut ids = Vec::new();
    for handling in ["hit", "miss", "pass", "synth", "pipe"] {
        for code in [200, 404] {
            ids.push((handling, m.mine(&line(handling, code)).id));
        }
    }
    assert_eq!(m.len(), 5, "one pattern per handling");
    for (handling, id) in ids {
        let template = m.template(id).unwrap_or_default();
        assert!(template.contains(&format!("{handling}/<*>")), "{template}");
    }
}

#[test]
fn state_values_merge_at_once_prose_words_do_not() {
    let mut m = miner();
    let up = m.mine("Interface Gi1/0/7, changed state to up");
    let down = m.mine("Interface Gi1/0/9, changed state to down");
    assert_eq!(up.id, down.id);
    let opened = m.mine("session for alice opened");
    let closed = m.mine("session for alice closed");
    assert_ne!(opened.id, closed.id);
}

#[test]
fn an_upper_case_word_after_a_capitalised_one_is_the_event() {
    let mut m = miner();
    let up = m.mine("eth0: Link UP");
    let down = m.mine("eth0: Link DOWN");
    assert_ne!(up.id, down.id);
    let add = m.mine(r#""SyncLoop ADD" source="api" pods=["web/web-7f9c"]"#);
    let delete = m.mine(r#""SyncLoop DELETE" source="api" pods=["web/web-7f9c"]"#);
    assert_ne!(add.id, delete.id);
    // After lower-case words, a state's value.
    let a = m.mine("peer /10.0.0.1:7000 is now DOWN");
    let b = m.mine("peer /10.0.0.2:7000 is now UP");
    assert_eq!(a.id, b.id);
    // Three siblings still make it a variable.
    let get = m.mine(r#"Started GET "/users/7" for 10.0.0.1 at 12:00:01"#);
    m.mine(r#"Started POST "/users/8" for 10.0.0.1 at 12:00:01"#);
    let patch = m.mine(r#"Started PATCH "/users/9" for 10.0.0.1 at 12:00:01"#);
    assert_eq!(m.resolve(get.id), m.resolve(patch.id));
}

#[test]
fn an_upper_case_word_that_opens_the_message_is_its_type() {
    let mut m = miner();
    let offer = m.mine("DHCPOFFER on 10.0.0.5 to 00:11:22:33:44:55 via eth0");
    let ack = m.mine("DHCPACK on 10.0.0.6 to 00:11:22:33:44:56 via eth0");
    assert_ne!(offer.id, ack.id);
    // Elsewhere two upper-case words are names that merge at once.
    let a = m.mine("lease DHCPOFFER on 10.0.0.5 to 00:11:22:33:44:55 via eth0");
    let b = m.mine("lease DHCPACK on 10.0.0.6 to 00:11:22:33:44:56 via eth0");
    assert_eq!(a.id, b.id);
}

#[test]
fn an_upper_case_tag_that_opens_the_message_is_its_type() {
    // A router's event tags (`UPPER_CASE_WORDS:`) name the event.
    let mut m = miner();
    let down = m.mine("SNMP_TRAP_LINK_DOWN: ifIndex 512, ifAdminStatus up(1), ifName ge-0/0/4");
    let up = m.mine("SNMP_TRAP_LINK_UP: ifIndex 513, ifAdminStatus up(1), ifName ge-0/0/5");
    assert_ne!(m.resolve(down.id), m.resolve(up.id));
    // So after the program's label that opens the message.
    let down = m.mine(
        "mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 512, ifAdminStatus up(1), ifName ge-0/0/4",
    );
    let up =
        m.mine("mib2d[1234]: SNMP_TRAP_LINK_UP: ifIndex 513, ifAdminStatus up(1), ifName ge-0/0/5");
    assert_ne!(m.resolve(down.id), m.resolve(up.id));
    // Elsewhere they are names that merge at once.
    let mut m = miner();
    let a = m.mine("trap SNMP_TRAP_LINK_DOWN: ifIndex 512, ifAdminStatus up(1), ifName ge-0/0/4");
    let b = m.mine("trap SNMP_TRAP_LINK_UP: ifIndex 513, ifAdminStatus up(1), ifName ge-0/0/5");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_word_that_ends_a_labelled_field_is_its_value() {
    let mut m = miner();
    let a = m.mine("Proxy web-1:80 check: reachable, latency 12 ms");
    let b = m.mine("Proxy web-2:80 check: unreachable, latency 40 ms");
    assert_eq!(a.id, b.id);
    let c = m.mine("repair options (parallelism: parallel, ranges: 4)");
    let d = m.mine("repair options (parallelism: sequential, ranges: 9)");
    assert_eq!(c.id, d.id);
    // A word that does not end the field is prose.
    let e = m.mine("job 7 error: connection refused by peer");
    let f = m.mine("job 9 error: handshake refused by peer");
    assert_ne!(e.id, f.id);
}

#[test]
fn the_only_word_among_bare_variables_stays_a_constant() {
    let mut m = miner();
    let types = [
        "DISCOVER", "OFFER", "REQUEST", "ACK", "NAK", "INFORM", "RELEASE",
    ];
    for t in types {
        m.mine(&format!("DHCP{t}(eth0) 00:11:22:33:44:55"));
    }
    assert_eq!(m.len(), types.len(), "one pattern per message type");
    // With a word around, enough siblings still make a variable.
    let mut m = miner();
    for t in types {
        m.mine(&format!("sent DHCP{t}(eth0) 00:11:22:33:44:55"));
    }
    assert_eq!(m.len(), 1);
}

#[test]
fn sibling_evidence_counts_the_words_the_merged_pattern_keeps() {
    let mut m = miner();
    let config = m.mine("config 10.0.0.1 is 10.0.0.2");
    let cached = m.mine("cached 10.0.0.3 is 10.0.0.4");
    // Its own words (`gateway`, `NXDOMAIN`) stand where the siblings have
    // `<*>`: the merged pattern would keep `is` alone, which needs six
    // siblings, not three.
    let reply = m.mine("reply gateway is NXDOMAIN");
    assert_eq!(m.len(), 3);
    assert_ne!(m.resolve(reply.id), m.resolve(config.id));
    assert_ne!(m.resolve(cached.id), m.resolve(config.id));
}

#[test]
fn punctuation_is_no_word_of_sibling_evidence() {
    // `-` and `[info]`... around the verb: `-` is no word, so two words
    // stand around it and three verbs are not enough to make it a value
    // (`Started flows` / `Stopping flows` are three events).
    let mut m = miner();
    for verb in ["Started", "Stopping", "Starting"] {
        m.mine(&format!("5 Feb 16:32:27 - [info] {verb} flows"));
    }
    assert_eq!(m.len(), 3, "one pattern per verb");
    // Four siblings, as with two words around, make it a value.
    m.mine("5 Feb 16:32:27 - [info] Reloaded flows");
    assert_eq!(m.len(), 1);
    // A word in place of the `-` counts: three siblings are enough.
    let mut m = miner();
    for verb in ["Started", "Stopping", "Starting"] {
        m.mine(&format!("5 Feb 16:32:27 node [info] {verb} flows"));
    }
    assert_eq!(m.len(), 1);
}

#[test]
fn different_keys_merge_alike_in_any_order() {
    let pass = [
        "cache POST served pass/201 to client",
        "cache PUT served pass/204 to client",
    ];
    let get = ["hit", "miss", "hitmiss", "synth", "pipe"]
        .map(|outcome| format!("cache GET served {outcome}/200 to client"));
    let mut first = miner();
    for line in pass.iter().copied().chain(get.iter().map(String::as_str)) {
        first.mine(line);
    }
    let mut last = miner();
    for line in get.iter().map(String::as_str).chain(pass.iter().copied()) {
        last.mine(line);
    }
    // `cache <*> served pass/<*>` (the method a `<*>` since `PUT`) is no
    // sibling of the `GET` lines: six outcomes stay six patterns whether or
    // not the `<*>` came first.
    assert_eq!(first.len(), 6);
    assert_eq!(last.len(), 6);
}

#[test]
fn names_merge_at_once_and_ids_stay_valid() {
    let mut m = miner();
    let a = m.mine("Started nginx.service in background");
    let b = m.mine("Started cron.service in background");
    assert_eq!(a.id, b.id);
    assert_eq!(
        m.template(a.id).as_deref(),
        Some("Started <*> in background")
    );
}

#[test]
fn the_cap_evicts_the_least_used() {
    let mut m = Miner::new(
        "svc",
        MinerConfig {
            max_patterns: 2,
            max_cache: 10,
        },
    );
    let a = m.mine("alpha beta gamma");
    m.mine("alpha beta gamma");
    m.mine("delta epsilon");
    m.mine("zeta eta theta iota");
    assert_eq!(m.len(), 2);
    assert_eq!(m.stats().evicted, 1);
    assert!(m.resolve(a.id).is_some(), "the most used stays");
}

#[test]
fn a_snapshot_restores_the_same_ids() {
    let mut m = miner();
    let lines = [
        "job 1 started",
        "job 2 started",
        "disk sda full",
        "job 3 done",
    ];
    let ids: Vec<PatternId> = lines.iter().map(|l| m.mine(l).id).collect();
    let json = serde_json::to_string(&m.snapshot()).unwrap_or_default();
    let snap: MinerSnapshot = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    let mut restored = Miner::restore(snap, MinerConfig::default());
    for (line, id) in lines.iter().zip(ids) {
        assert_eq!(restored.mine(line).id, id);
    }
    assert_eq!(restored.stats().lines, 8);
}

#[test]
fn ids_print_and_parse_as_16_hex_digits() {
    let id = PatternId::of("svc", "a <*>");
    let text = id.to_string();
    assert_eq!(text.len(), 16);
    assert_eq!(text.parse::<PatternId>(), Ok(id));
    assert!("xyz".parse::<PatternId>().is_err());
}

#[test]
fn a_camel_case_label_names_the_event() {
    let mut m = miner();
    let join = m.mine("agent.server.serf.lan: serf: EventMemberJoin: web-1 10.0.0.1");
    let leave = m.mine("agent.server.serf.lan: serf: EventMemberLeave: web-2 10.0.0.2");
    assert_ne!(m.resolve(join.id), m.resolve(leave.id));
    let again = m.mine("agent.server.serf.lan: serf: EventMemberJoin: api-7 10.0.0.9");
    assert_eq!(m.resolve(again.id), m.resolve(join.id));
    // After a value, such a word may be an instance's name: one at once.
    let mut m = miner();
    let a = m.mine("svchost (12, D, 3) SRUJet: The database engine attached a database");
    let b = m.mine("svchost (40, D, 7) DataStore: The database engine attached a database");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_name_before_a_lone_colon_is_a_padded_label() {
    let mut m = miner();
    let uri = m.mine("(response.c.488) Request-URI     :  /index.html");
    let scheme = m.mine("(response.c.489) URI-scheme      :  https");
    let authority = m.mine("(response.c.490) URI-authority   :  example.com");
    assert_ne!(m.resolve(uri.id), m.resolve(scheme.id));
    assert_ne!(m.resolve(scheme.id), m.resolve(authority.id));
    assert_ne!(m.resolve(uri.id), m.resolve(authority.id));
    // The field's value still varies under its label.
    let again = m.mine("(response.c.488) Request-URI     :  /api/v1/orders");
    assert_eq!(m.resolve(again.id), m.resolve(uri.id));
    // A name before a glued `:` or among values is unchanged: one at once.
    let a = m.mine("worker web-01: queue drained after retry");
    let b = m.mine("worker db-replica-3: queue drained after retry");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_particle_after_a_participle_is_a_word_of_the_event() {
    let mut m = miner();
    let on = m.mine("Event 4811: web-01 on esx-3 in ha-datacenter is powered on");
    let off = m.mine("Event 4812: web-01 on esx-3 in ha-datacenter is powered off");
    assert_ne!(m.resolve(on.id), m.resolve(off.id));
    let again = m.mine("Event 4890: db-02 on esx-1 in ha-datacenter is powered on");
    assert_eq!(m.resolve(again.id), m.resolve(on.id));
    // A state after a noun, or a capitalised pair, is a value: one at once.
    let up = m.mine("conserver: [tn114] console up after reset");
    let down = m.mine("conserver: [tn115] console down after reset");
    assert_eq!(m.resolve(up.id), m.resolve(down.id));
    let a = m.mine("sharingd: BTLE scanner Powered On");
    let b = m.mine("sharingd: BTLE scanner Powered Off");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn an_upper_case_word_after_a_lower_case_key_is_the_operation() {
    let mut m = miner();
    let unbind = m.mine("slapd[812]: conn=1042 op=3 UNBIND");
    let starttls = m.mine("slapd[812]: conn=1042 op=0 STARTTLS");
    assert_ne!(m.resolve(unbind.id), m.resolve(starttls.id));
    let again = m.mine("slapd[812]: conn=2077 op=9 UNBIND");
    assert_eq!(m.resolve(again.id), m.resolve(unbind.id));
    // After a field a list of fields goes on with (`region=<*>,`), or an
    // upper-case key's, such a word is a value: one at once.
    let a = m.mine("Finished pid=12, state=SUCCESS; table=t1, region=ab12cd34ef56, ASSIGN");
    let b = m.mine("Finished pid=13, state=SUCCESS; table=t1, region=ab12cd34ef57, UNASSIGN");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_padded_fields_value_and_a_labels_value_with_a_dash_are_state_values() {
    let mut m = miner();
    let a = m.mine("(response.c.489) URI-scheme      :  http");
    let b = m.mine("(response.c.489) URI-scheme      :  https");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("Appl: detect Parent, Disposition = Detect, VersionComp: 1");
    let b = m.mine("Appl: detect Parent, Disposition = Set, VersionComp: 1");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("Header: Adjusted Connection header to: close");
    let b = m.mine("Header: Adjusted Connection header to: keep-alive");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // Prose words elsewhere stay apart.
    let a = m.mine("Header: Adjusted Connection header to close now");
    let b = m.mine("Header: Adjusted Connection header to open now");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn the_word_after_state_to_or_status_is_is_a_state_value() {
    let mut m = miner();
    let a = m.mine("NHC: node is suspect, 3 tests failed, setting node state to admindown");
    let b = m.mine("NHC: node is suspect, 2 tests failed, setting node state to suspect");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("Waiting for pod to be running, status is Pending job=12 project=3");
    let b = m.mine("Waiting for pod to be running, status is ContainerCreating job=13 project=3");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // Elsewhere such words stay apart.
    let a = m.mine("NHC: node is suspect, 3 tests failed, setting node weight to admindown");
    let b = m.mine("NHC: node is suspect, 2 tests failed, setting node weight to suspect");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_word_after_a_preposition_and_a_noun_is_the_nouns_value() {
    let mut m = miner();
    let a = m.mine("app_voicemail.c: Couldn't find mailbox 663 in context default");
    let b = m.mine("app_voicemail.c: Couldn't find mailbox 441 in context sales");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("su(pam_unix)[72867]: session opened for user root by cyrus(uid=11847)");
    let b = m.mine("su(pam_unix)[19841]: session opened for user slurm by guest(uid=19886)");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // Before more words of the message such a word stays apart.
    let mut m = miner();
    let a = m.mine("app_voicemail.c: Couldn't find mailbox 663 in context default now");
    let b = m.mine("app_voicemail.c: Couldn't find mailbox 441 in context sales now");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_state_before_an_arrow_a_side_and_a_command_line_option_are_values() {
    let mut m = miner();
    let a = m.mine(
        "relayd[4711]: host 10.0.0.1, check http code (12ms,http code ok), state unknown -> up",
    );
    let b = m
        .mine("relayd[4711]: host 10.0.0.2, check http code (15ms,http code ok), state down -> up");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("sync conflict local_version=3 remote_version=4, keeping local");
    let b = m.mine("sync conflict local_version=5 remote_version=2, keeping remote");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("VersionLoggerListener.log Command line argument: -Dcatalina.base=/opt/tomcat");
    let b = m.mine("VersionLoggerListener.log Command line argument: -Djava.io.tmpdir=/tmp");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // An option after no label keeps its name as a key.
    let mut m = miner();
    let a = m.mine("VersionLoggerListener.log Command line argument -Dcatalina.base=/opt/tomcat");
    let b = m.mine("VersionLoggerListener.log Command line argument -Djava.io.tmpdir=/tmp");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_framed_word_after_a_value_and_minor_or_major_are_values() {
    let mut m = miner();
    let a = m.mine(
        "[signalProcessingThread] got signal 2 (Interrupt), will terminate after current cmd ends",
    );
    let b = m.mine("[signalProcessingThread] got signal 15 (Terminated), will terminate after current cmd ends");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("regionserver.HStore: Completed minor compaction of 3 (all) file(s) in cf");
    let b = m.mine("regionserver.HStore: Completed major compaction of 5 (all) file(s) in cf");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // After a word such a framed word stays apart.
    let mut m = miner();
    let a = m.mine("[signalProcessingThread] got signal INT (Interrupt), will terminate after current cmd ends");
    let b = m.mine("[signalProcessingThread] got signal INT (Terminated), will terminate after current cmd ends");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_value_before_a_padded_field_and_between_a_noun_and_a_participle() {
    let mut m = miner();
    let a = m.mine("vmotion: Setting VMOTION info: Source ts = 1712, src ip = <*>");
    let b = m.mine("vmotion: Setting VMOTION info: Dest ts = 1713, src ip = <*>");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("INFO [io.quarkus] (main) Profile dev activated.");
    let b = m.mine("INFO [io.quarkus] (main) Profile prod activated.");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // Before a word that is no participle such words stay apart.
    let a = m.mine("INFO [io.quarkus] (main) Profile dev missing.");
    let b = m.mine("INFO [io.quarkus] (main) Profile prod missing.");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_capitalised_word_after_a_preposition_that_ends_the_message_is_a_name() {
    let mut m = miner();
    let a = m.mine("Plex Media Server: Cleaning up 12 old bundles in Metadata.");
    let b = m.mine("Plex Media Server: Cleaning up 40 old bundles in Media.");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    // Before more of the message it stays apart.
    let mut m = miner();
    let a = m.mine("Plex Media Server: Cleaning up 12 old bundles in Metadata now");
    let b = m.mine("Plex Media Server: Cleaning up 40 old bundles in Media now");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

#[test]
fn a_word_before_state_or_mode_is_a_state_value() {
    let mut m = miner();
    let running = m.mine("The Print Spooler service entered the running state.");
    let stopped = m.mine("The Print Spooler service entered the stopped state.");
    assert_eq!(m.resolve(running.id), m.resolve(stopped.id));
    let serial = m.mine("Starting task [Stage-1:MAPRED] in serial mode");
    let parallel = m.mine("Starting task [Stage-1:MAPRED] in parallel mode");
    assert_eq!(m.resolve(serial.id), m.resolve(parallel.id));
    // A state and its negation are two events.
    let up = m.mine("Component State Change: Component alt0 is in the available state");
    let down = m.mine("Component State Change: Component alt0 is in the unavailable state");
    assert_ne!(m.resolve(up.id), m.resolve(down.id));
    // The running pattern gains its `<*>` from a line the stopped one
    // never sees: the two still meet (`meet.rs`).
    let mut m = miner();
    let running = m.mine("The spooler service entered the running state.");
    let stopped = m.mine("The winupdate service entered the stopped state.");
    m.mine("The svc42 service entered the running state.");
    assert_eq!(m.resolve(running.id), m.resolve(stopped.id));
    assert_eq!(
        m.template(stopped.id).as_deref(),
        Some("The <*> service entered the <*> state.")
    );
}

#[test]
fn short_messages_of_two_source_locations_stay_apart() {
    // A SeaweedFS-like log prints the caller before the message. Its file
    // stays, so the handlers of two files stay two patterns once their
    // buckets are values (with the whole location masked, the two lines
    // differed in a name only and merged); each file's lines share one.
    let mut m = miner();
    let mut get = Vec::new();
    let mut put = Vec::new();
    for (i, bucket) in [
        "photos", "logs", "backups", "media", "tenant", "builds", "exports",
    ]
    .iter()
    .enumerate()
    {
        get.push(
            m.mine(&format!(
                "s3api_object_handlers.go:365 GetObjectHandler {bucket} 2024/{i}/a.jpg"
            ))
            .id,
        );
        put.push(
            m.mine(&format!(
                "s3api_object_handlers_put.go:49 PutObjectHandler {bucket} raw/{i}/b.log"
            ))
            .id,
        );
    }
    assert!(get.iter().all(|&id| m.resolve(id) == m.resolve(get[0])));
    assert!(put.iter().all(|&id| m.resolve(id) == m.resolve(put[0])));
    assert_ne!(m.resolve(get[0]), m.resolve(put[0]));
    assert_eq!(
        m.template(get[0]).as_deref(),
        Some("s3api_object_handlers.go:<*> GetObjectHandler <*> <*>")
    );
}

#[test]
fn units_of_one_kind_after_a_number_merge_at_once() {
    // A size printed with a unit chosen by its magnitude (the kernel's
    // `(30.8 GB/28.6 GiB)` / `(1.00 TB/932 GiB)`), a duration likewise.
    let mut m = miner();
    let a = m.mine("sd 4:0:0:0: [sdd] 388650787 512-byte logical blocks: (30.8 GB/28.6 GiB)");
    let b = m.mine("sd 1:0:0:0: [sdd] 430418335 512-byte logical blocks: (1.00 TB/932 GiB)");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let a = m.mine("transfer of the backup finished in 250 ms");
    let b = m.mine("transfer of the backup finished in 2.5 s");
    let c = m.mine("transfer of the backup finished in 1 minute");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    assert_eq!(m.resolve(a.id), m.resolve(c.id));
    // A size and a duration stay apart, as units after a word do.
    let mut m = miner();
    let a = m.mine("transfer of the backup finished in 250 ms");
    let d = m.mine("transfer of the backup finished in 250 MB");
    assert_ne!(m.resolve(a.id), m.resolve(d.id));
    let e = m.mine("transfer of the backup finished in ms");
    let f = m.mine("transfer of the backup finished in s");
    assert_ne!(m.resolve(e.id), m.resolve(f.id));
}

#[test]
fn an_exceptions_cause_after_its_class_is_constant() {
    // A chained exception's cause is the outer exception's text: one
    // template per cause, though both classes are dotted names.
    let mut m = miner();
    let line = |cause: &str| {
        format!(
            "Services which failed to start: service jboss.deployment.unit.app.undertow-deployment: java.lang.RuntimeException: {cause}"
        )
    };
    let a = m.mine(&line(
        "java.lang.ClassNotFoundException: org.springframework.web.context.ContextLoaderListener",
    ));
    let b = m.mine(&line(
        "java.lang.NoSuchMethodError: javax.persistence.Table.indexes()",
    ));
    let c = m.mine(&line("java.lang.OutOfMemoryError: Metaspace"));
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
    assert_ne!(m.resolve(a.id), m.resolve(c.id));
    assert_ne!(m.resolve(b.id), m.resolve(c.id));
    // Names elsewhere still merge at once.
    let d = m.mine("worker started for queue jobs.mail.outbound on node main");
    let e = m.mine("worker started for queue jobs.sms.outbound on node main");
    assert_eq!(m.resolve(d.id), m.resolve(e.id));
}

#[test]
fn an_upper_case_tag_without_a_colon_that_opens_the_message_is_its_type() {
    // A KDC's request types open its messages with no `:` after them.
    let mut m = miner();
    let line = |kind: &str, n: u32| {
        format!(
            "{kind} (2 etypes {{18 17}}) 10.0.0.{n}: ISSUE: authtime 1700000{n}, etypes {{rep=18 tkt=18 ses=18}}, alice@EXAMPLE.COM for krbtgt/EXAMPLE.COM@EXAMPLE.COM"
        )
    };
    let a = m.mine(&line("AS_REQ", 1));
    let b = m.mine(&line("TGS_REQ", 2));
    let c = m.mine(&line("AS_REQ", 3));
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
    assert_eq!(m.resolve(a.id), m.resolve(c.id));
    // After a label it is the label's value.
    let d = m.mine("smbd_exit_server_cleanly: NT_STATUS_IO_TIMEOUT");
    let e = m.mine("smbd_exit_server_cleanly: NT_STATUS_END_OF_FILE");
    assert_eq!(m.resolve(d.id), m.resolve(e.id));
    // A tag and one word are too short to tell a type from a value.
    let f = m.mine("BODY_SENSORS granted");
    let g = m.mine("ACTIVITY_RECOGNITION granted");
    assert_eq!(m.resolve(f.id), m.resolve(g.id));
}

#[test]
fn a_program_tag_that_opens_the_message_is_no_value() {
    // Dovecot's login processes open their messages with their tags; a
    // digit in `pop3-login` makes no value of it, and two tags are two
    // programs' events, not names that merge at once.
    let mut m = miner();
    let line = |tag: &str, n: u32| {
        format!(
            "{tag}: Disconnected: Connection closed (auth failed, {n} attempts in 12 secs): user=<bob>, method=PLAIN, rip=10.0.0.{n}, lip=10.0.1.{n}, TLS, session=<abc{n}>"
        )
    };
    let a = m.mine(&line("imap-login", 1));
    let b = m.mine(&line("pop3-login", 2));
    let c = m.mine(&line("pop3-login", 3));
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
    assert_eq!(m.resolve(b.id), m.resolve(c.id));
}

#[test]
fn a_lower_case_word_that_ends_a_field_in_brackets_is_a_state_value() {
    // `[uid: 12, name: admin]`: the closing bracket ends the field's
    // value as `,` and `)` do (session 28, round 40); two such values
    // merge at once. A word before another word stays apart.
    let mut m = miner();
    let line = |name: &str| {
        format!(
            "Failed authentication attempt for ci-bot from 10.0.0.1:5000: user's password is invalid [uid: 12, name: {name}]"
        )
    };
    let a = m.mine(&line("admin"));
    let b = m.mine(&line("bob"));
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let c = m.mine("Auth: [admin] fail now");
    let d = m.mine("Auth: [bob] fail now");
    assert_ne!(m.resolve(c.id), m.resolve(d.id));
}

#[test]
fn a_capitalised_word_opening_a_phrase_needs_six_siblings() {
    // `Zabbix` / `SNMP` / `IPMI agent item ...`: the word that opens the
    // message before a lower-case word names the event's kind, three
    // siblings make no value of it (session 28, round 40); six do. A
    // request's method before a path still becomes a value on three.
    let mut m = miner();
    let line = |kind: &str| {
        format!(
            "{kind} agent item \"cpu.load\" on host \"Web Server 01\" failed: first network error, wait for 15 seconds"
        )
    };
    let ids: Vec<_> = ["Zabbix", "SNMP", "IPMI"]
        .iter()
        .map(|k| m.mine(&line(k)).id)
        .collect();
    assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
    assert_ne!(m.resolve(ids[1]), m.resolve(ids[2]));
    let more: Vec<_> = ["JMX", "Telnet", "Calculated"]
        .iter()
        .map(|k| m.mine(&line(k)).id)
        .collect();
    assert_eq!(m.resolve(ids[0]), m.resolve(more[2]));
    let mut m = miner();
    let req: Vec<_> = ["GET", "POST", "PUT"]
        .iter()
        .map(|v| {
            m.mine(&format!(
                "{v} /checkout/orders user=alice status=200 time=12ms"
            ))
            .id
        })
        .collect();
    assert_eq!(m.resolve(req[0]), m.resolve(req[2]));
}

/// The upper-case words that open a message before lower-case words name
/// the event (`LOG PAUSE command issued`: the level left in the message,
/// then the command): four siblings do not make it a variable; before a
/// value the word is a request's method, a value (session 28, round 39).
#[test]
fn an_opening_upper_case_name_needs_the_most_siblings() {
    let mut m = miner();
    for command in ["PAUSE", "RESUME", "RELOAD", "SUSPEND"] {
        m.mine(&format!("LOG {command} command issued"));
    }
    assert_eq!(m.len(), 4);
    let mut m = miner();
    for method in ["GET", "POST", "PUT", "DELETE"] {
        m.mine(&format!(
            "{method} /orders/list user=alice status=200 time=12ms"
        ));
    }
    assert_eq!(m.len(), 1);
}

/// A word that ends the message after a lower-case word and `mode` or
/// `state` is the mode's value (session 28, round 39); after a capitalised
/// word the words tell the event.
#[test]
fn a_word_after_mode_that_ends_the_message_is_its_value() {
    let mut m = miner();
    let a = m.mine("Stopping service indexserver, shutdown mode hard");
    let b = m.mine("Stopping service indexserver, shutdown mode soft");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    let mut m = miner();
    let a = m.mine("Synchronizing state complete");
    let b = m.mine("Synchronizing state failed");
    assert_ne!(m.resolve(a.id), m.resolve(b.id));
}

/// The words of `changed from <old> to <new>` are the change's values
/// (session 28, round 39).
#[test]
fn the_words_of_a_change_are_its_values() {
    let mut m = miner();
    let a = m.mine("Host hana-01 role changed from master to slave");
    let b = m.mine("Host hana-01 role changed from standby to master");
    assert_eq!(m.resolve(a.id), m.resolve(b.id));
    assert_eq!(
        m.template(a.id).as_deref(),
        Some("Host <*> role changed from <*> to <*>")
    );
}
