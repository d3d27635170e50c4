//! Grouping accuracy of the template miner on the labelled corpus in
//! `eval/patterns/` (raw lines, headers stripped by `strip_header`), with the
//! one default setting for every system. Prints a table with `--nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../eval/patterns/corpus.rs"]
mod corpus;

use corpus::{Split, load_all};

/// Holdout systems are read through their mean only; a system's own score is
/// printed when it is named in `PATTERN_SHOW_HOLDOUT` (comma-separated), for
/// recording a new system's first score before any change.
fn shown_holdout(name: &str) -> bool {
    std::env::var("PATTERN_SHOW_HOLDOUT")
        .is_ok_and(|names| names.split(',').any(|n| n.trim() == name))
}

fn report(seed: u64) -> (f64, f64, f64, Vec<(String, Split, f64)>) {
    let mut tune = Vec::new();
    let mut holdout = Vec::new();
    let mut holdout2 = Vec::new();
    let mut each = Vec::new();
    for system in load_all(seed) {
        let accuracy = corpus::accuracy(&system);
        if system.split == Split::Tune || shown_holdout(&system.name) {
            println!(
                "{:<12} {:<8} {:>5} lines {:>3} templates  GA {:.3}",
                system.name,
                match system.split {
                    Split::Tune => "tune",
                    Split::Holdout => "holdout",
                    Split::Holdout2 => "holdout2",
                },
                system.lines.len(),
                system.templates.len(),
                accuracy
            );
        }
        match system.split {
            Split::Tune => tune.push(accuracy),
            Split::Holdout => holdout.push(accuracy),
            Split::Holdout2 => holdout2.push(accuracy),
        }
        each.push((system.name, system.split, accuracy));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "tune mean {:.3}, holdout mean {:.3}, holdout2 mean {:.3}",
        mean(&tune),
        mean(&holdout),
        mean(&holdout2)
    );
    (mean(&tune), mean(&holdout), mean(&holdout2), each)
}

/// Floors just under the measured scores at seed 1 (session 8, 39 systems:
/// tune 0.958 over 31, holdout 0.760 over 8), so a regression fails. The goal
/// for both is 0.92. The holdout split (eight systems written in session 8,
/// before the miner first ran on them, never debugged) does not reach it: one
/// of its systems (squid) scores 0.000 and two score about 0.7, so its floor
/// is its mean as measured, not a tuned number, and its systems have no floor
/// of their own. Tune systems must each stay at 0.85 or more.
///
/// Session 9 added three tune systems (varnish, cisco, storage: 42 in all)
/// and rules for `word/number` tokens and mixed-case names with a number:
/// tune 0.957 over 34 (the 31 older ones unchanged at 0.958), holdout 0.842
/// (read as a number after each change, never tuned on). The floors are
/// unchanged.
///
/// Session 9, round 2 added three more tune systems (bind, firewall,
/// jenkins: 45 in all) and rules for state and protocol values, bracketed
/// lists, variables spanning a word more or less, and logfmt's `msg=`: tune
/// 0.974 over 37, holdout 0.842 (unchanged). The floors are unchanged.
///
/// Session 10 added four holdout systems (proxyclient, cray, fitband,
/// macunified: first run 0.793, 0.977, 0.980, 0.960; holdout mean over 12
/// 0.871) and three tune systems (openvpn, dhcp, mongod: 52 in all). The
/// holdout floor rises to 0.85, just under its measured mean. dhcp has a
/// floor of its own: most of its errors are upper-case message types
/// (`DHCPDISCOVER`, `DHCPOFFER`), names to the miner, which its labels
/// take as constants in one form (`DHCPOFFER on ...`) and as values in
/// another (`DHCPOFFER(eth0) ...`); no rule that reads words can honour
/// both (docs/patterns.md, session 10).
///
/// Session 11 moved the twelve holdout systems of sessions 8 and 10 to the
/// tune split (52 tune systems: mean 0.942 at seed 1 before this session's
/// rules) and wrote six new holdout systems (yarnrm, logcatsys, dism,
/// rasevent, authlog, flinktm; read as a mean only: 0.904 at seed 1). The
/// tune floor falls to 0.94 (the older holdout systems score lower), the
/// holdout floor rises to 0.90, just under its measured mean. Three of the
/// formerly held-out systems (ios, neutron, squid; and dhcp, above) keep
/// floors of their own, under their measured scores: their
/// remaining errors are labels no word-reading rule honours both ways
/// (docs/patterns.md, session 11).
///
/// Session 12 fixed tune labels that contradicted the Loghub-style
/// conventions the holdout follows (a word that changes the event's meaning
/// is a constant: `passed` / `failed`, `armed` / `cancelled`, `DHCPOFFER` /
/// `DHCPACK`; a number or a field's value is `<*>`: squid's status codes and
/// content types, journald's quoted result), and added two sibling rules
/// (a word among bare `<*>` only is never made a variable; the evidence
/// counts the words the merged pattern keeps): tune 0.969 at seed 1. The tune
/// floor rises to 0.96; squid (1.000) and ios (0.958) lose their own floors,
/// dhcp's rises to 0.70 (0.723).
///
/// Session 12, round 2 (upper-case event words after a capitalised word or
/// opening the message merge by siblings only; keyed siblings have no `<*>`
/// where the line has a word): tune 0.973 at seed 1. The tune floor rises
/// to 0.97.
///
/// Session 13 added a second holdout split (`holdout2`: six systems of
/// kinds and formats the corpus lacked, written before the miner first ran
/// on them; 0.691 at seed 1 with the miner of 6ab3289) and three tune
/// systems of other new kinds (winapp, tomcat, smartd: 55 tune systems,
/// 0.967 at seed 1 before this session's rule). After the run rule
/// (`pattern/runs.rs`), at seed 1: tune 0.970, holdout 0.908, holdout2
/// 0.773. The tune floor is 0.965; the second holdout's floor, 0.76, is a
/// regression guard under its measured mean, not a goal met.
///
/// Session 14 added six tune systems of holdout2's kinds in other formats
/// (idracsel, hiveserver, rideapp, winsetup, sgejobs, privoxy; 0.673 at
/// seed 1 before this session's rules, 0.814 after): tune 0.956 over 61 at
/// seed 1 (the older 55 at 0.972), holdout 0.914, holdout2 0.789.
/// The tune floor is 0.95; five of the new systems have floors of 0.60.
///
/// Session 15 added eight tune systems of the held-out kinds in other
/// products and formats (gpfs, cinder, amservice, macdaemons, modsec,
/// balancer, svcnodes, wureport; 0.583 at seed 1 before this session's
/// rules, 0.605 after): tune 0.915 over 69 at seed 1 (the older 61 at
/// 0.956). The tune floor falls to 0.91; the eight have floors of their
/// own, just under their scores at seed 1 (regression guards, not goals).
///
/// Session 16 added no system: general rules for session 15's error
/// classes (a value right after a value, lower-case values of words, names
/// and framed values that end the message, rsyslog's ISO header) took the
/// tune mean at seed 1 from 0.915 to 0.921 (session 15's eight 0.605 ->
/// 0.649), holdout 0.909 -> 0.959, holdout2 0.789 unchanged. The floors
/// are unchanged.
///
/// Session 17 retired the second holdout: its six systems (ipmisel, hbase,
/// shopapp, winsystem, pbsjobs, tinyproxy; 0.789 at seed 1, unmoved for
/// three sessions) moved to the tune split, and six new systems (imapmail,
/// wildfly, nasfiler, ltmlog, iotgateway, musicapp), written and committed
/// before the miner first ran on them, became `holdout2`: 0.667 at seed 1
/// with the miner of 7632f1d, so its floor falls to 0.66 (a regression
/// guard under its first mean, not a goal met). With the six added, the
/// tune mean at seed 1 is 0.910 over 75 (0.921 over the 69 before), still
/// over its 0.91 floor, which is unchanged. The three moved systems under
/// 0.85 have floors just under their seed-1 scores (ipmisel 0.527, shopapp
/// 0.696, winsystem 0.673), and the three over it floors of 0.90 (hbase
/// 0.945, pbsjobs 0.957, tinyproxy 0.934). This session's rules (unquoted
/// `key=value` values of several words, `|`-separated fields, framed
/// reasons after a value, an exception's text after its class) took the
/// tune mean at seed 1 to 0.918 (the six 0.789 -> 0.878, the 69 older
/// 0.921 -> 0.922); the floors are as above.
///
/// Session 18 added six tune systems of kinds the corpus lacked, all with
/// values of several words (cirunner, oraalert, ldapkdc, mediasrv, cupsd,
/// asterisk; written before the miner first ran on them): 0.741 at seed 1
/// with the miner of 6699bc9, so the tune mean at seed 1 is 0.905 over 81
/// (0.918 over the 75 before). The tune floor falls to 0.90; the four new
/// systems under 0.85 have floors just under their seed-1 scores (cirunner
/// 0.833, cupsd 0.741, mediasrv 0.523, ldapkdc 0.500). This session's
/// rules (a one-letter level before a bracketed time and a bracketed
/// thread after a `Mon DD, YYYY` time are header; a list in braces
/// separated by spaces is one value; an upper-case word after a
/// lower-case key's value ends it; `key=value` fields that end a message
/// end its text for the run step; a bare `-` labels the run that ends the
/// message) took the six to 0.800 at seed 1 and the tune mean to 0.909
/// (the 75 older unchanged at 0.918). cirunner (0.936) and cupsd (0.857)
/// are now held to 0.85 as the others; ldapkdc's floor rises to 0.55
/// (0.584), mediasrv's stays 0.50 (0.544).
///
/// Session 19 added six more tune systems of kinds the corpus lacked, all
/// with values of several words (bkpjobs, avscan, hclogsvc, idserver,
/// sambad, mailstore; written before the miner first ran on them): 0.698
/// at seed 1 with the miner of 468b129, so the tune mean at seed 1 is
/// 0.895 over 87 (0.909 over the 81 before). The tune floor falls to
/// 0.89; the four new systems under 0.85 have floors just under their
/// seed-1 scores (sambad 0.756, mailstore 0.678, idserver 0.667, bkpjobs
/// 0.335). This session's rules (an escaped quote frames a value; a
/// `24-Feb` date opens a syslog-like header; a quoted `key="..."` value
/// runs to its closing quote) took the six to 0.780 at seed 1 and the tune
/// mean to 0.901 (the 81 older 0.909 -> 0.910); bkpjobs's floor rises to
/// 0.70 (0.723), mailstore's to 0.75 (0.781), ldapkdc's to 0.60 (0.640).
///
/// Session 19, round 15 relabelled the templates of sessions 18 and 19 that
/// held a prose reason in a `{pick:...}` value (one template per reason, a
/// constant, as the convention says): tune 0.901 -> 0.899 at seed 1. The
/// floors of the relabelled systems that fell under theirs fall to just
/// under their new seed-1 scores (asterisk 0.578, cirunner 0.826, cupsd
/// 0.807, sambad 0.680, mailstore 0.698): the labels changed, not the miner.
///
/// Session 20, round 16 relabelled session 15's tune files the same way
/// (gpfs, cinder, amservice, macdaemons, modsec, balancer, svcnodes; 29
/// templates, one per reason): tune 0.899 -> 0.905 at seed 1. amservice
/// (0.789) and cinder (0.570) fell under their floors, which fall to just
/// under their new seed-1 scores (0.78, 0.55): the labels changed, not the
/// miner. Four new tune systems of products the corpus lacked, all with
/// values of several words (gamesrv, sqlerrlog, esxhost, homeauto; written
/// before the miner first ran on them): 0.691 at seed 1 with the miner of
/// 5d0c3db, so the tune mean at seed 1 is 0.895 over 91 (0.905 over the 87
/// before), over the 0.89 floor; the three under 0.85 have floors just
/// under their seed-1 scores (sqlerrlog 0.760, esxhost 0.590, homeauto
/// 0.532). sqlerrlog's four `Login failed ... Reason: <reason>` templates
/// were then made one, the reason a labelled field's value as the
/// convention says (written against it): 0.686 at seed 1, so its floor is
/// 0.65. This round's rules (a name of capitalised words before more of
/// the message is a value after a word or a value, its `:` too; a path
/// whose names hold spaces is one value) took the tune mean at seed 1 to
/// 0.898 (the four 0.743, sqlerrlog 0.877); the floors are as above.
///
/// Session 21, round 17 retired the second holdout again: its six systems
/// (imapmail, wildfly, nasfiler, ltmlog, iotgateway, musicapp; 0.673 at
/// seed 1, about 0.67 through rounds 12-16) moved to the tune split. With
/// them the tune mean at seed 1 is 0.884 over 97 (0.898 over the 91
/// before), under the 0.89 floor, which falls to 0.88; the four moved
/// systems under 0.85 have floors just under their seed-1 scores (imapmail
/// 0.777, nasfiler 0.766, ltmlog 0.687; musicapp 0.000, every line of it
/// misgrouped, so its floor is 0), iotgateway (0.901) and wildfly (0.908)
/// are held to 0.85 as the others. Six new systems (pgpooler, zbxserver,
/// radiusd, coinnode, hanatrace, gitforge), written and committed before
/// the miner first ran on them, became `holdout2`: 0.794 at seed 1 with
/// the miner of 7bde16d, so its floor rises to 0.79 (a regression guard
/// under its first mean, not a goal met). The six moved systems' prose
/// reasons held in `{pick:...}` values became one template per reason, as
/// rounds 15 and 16 did for other files (43 picks, 99 templates more):
/// tune 0.884 -> 0.880 at seed 1, so the tune floor falls to 0.87, and the
/// six's floors are just under their new seed-1 scores (nasfiler 0.851,
/// ltmlog 0.783, imapmail 0.700, wildfly 0.698, iotgateway 0.609,
/// musicapp 0.000): the labels changed, not the miner. This round's rule
/// (a bracketed thread after a time is header before an Android-like
/// `I/Tag:`) took musicapp to 0.780 and the tune mean at seed 1 to 0.888;
/// musicapp's floor rises to 0.75.
///
/// Session 21, round 18's rules (the text after an exception's class that
/// ends the message is constant; so is a sentence that ends it after a
/// lower-case word that names no field) took the tune mean at seed 1 to
/// 0.890 (wildfly 0.698 -> 0.793, nasfiler 0.851 -> 0.901, idserver 0.707
/// -> 0.754; hbase 0.982 -> 0.945, whose older labels keep exception texts
/// as values): their floors rise to 0.78, 0.89 and 0.75.
///
/// Session 22, round 19 relabelled the older tune files' exception texts
/// after their class as constants (hbase, hiveserver, balancer, tomcat,
/// amservice, cinder, modsec): tune 0.890 -> 0.894 at seed 1, no floor
/// changed. It added one tune system of a kind the corpus lacked (junos: a
/// Juniper-JunOS-like router and firewall syslog, written and committed
/// before the miner first ran on it): 0.656 / 0.785 / 0.517 / 0.701 at
/// seeds 1-4 with the miner of d1609bc, so its floor is 0.65, just under
/// its first seed-1 score (a regression guard, not a goal met); the tune
/// mean at seed 1 is 0.891 over 98 (0.894 over the 97 before), over the
/// 0.87 floor, which is unchanged. This round's rule for upper-case event
/// tags (`SNMP_TRAP_LINK_DOWN:` opening the message) took junos to 0.777
/// at seed 1, so its floor rises to 0.75.
///
/// Session 23, round 20 added three tune systems of kinds the corpus
/// lacked, written and committed before the miner first ran on them
/// (glusterd: a GlusterFS-like cluster's logs; lighttpd: a lighttpd-like
/// web server error log; bsdsyslog: an OpenBSD-like daemon syslog). First
/// scores at seeds 1-4 with the miner of ae63d17: glusterd 0.939 / 0.891 /
/// 0.944 / 0.958, lighttpd 0.837 / 0.926 / 0.707 / 0.895, bsdsyslog 0.907
/// / 0.767 / 0.843 / 0.844. Only lighttpd is under 0.85 at seed 1, so its
/// floor is 0.83, just under its first seed-1 score (a regression guard,
/// not a goal met); the tune mean at seed 1 is 0.893 over 101 (0.893 over
/// the 98 before), over the 0.87 floor, which is unchanged. This round's
/// rule for padded labels (a name before a lone `:` is the field's key)
/// took lighttpd to 0.941 at seed 1, so it is held to 0.85 as the others.
///
/// Session 25, round 29 added three tune systems written blind, before
/// their author read the miner's rules (lustresrv: a Lustre-like
/// filesystem server's kernel log; daskclus: a Dask-like compute
/// cluster; illumos: an illumos-like syslog with SMF and FMA), committed
/// before the miner first ran on them. Three labels that broke the
/// convention (a Lustre target or the MGS before `Client ... reconnecting`
/// and `Connection restored to`, a disk path before an illumos `WARNING:`
/// record, written as separate templates per kind of name) were made one
/// template each after that first run; that regenerates the systems, so
/// illumos went from 0.915 to 0.677 at seed 1 with no change of the miner.
/// This round's rule (the words of a bracketed group that opens the
/// message, `[ID 107833 kern.warning]`, are no evidence that two messages
/// share a template) took illumos to 0.890 at seed 1, so it is held to
/// 0.85 as the others; the tune mean at seed 1 is 0.922 over 107.
///
/// Session 28 retired the second holdout a third time: its six systems
/// (pgpooler, zbxserver, radiusd, coinnode, hanatrace, gitforge) had stood
/// at 0.79-0.81 at seed 1 through eleven rounds (17-37) while the tune
/// split rose, so they measured nothing but themselves. Read once, system
/// by system, with the miner of 9e5ede3, they moved to the tune split
/// (only their `split:` line changed): pgpooler 0.615, hanatrace 0.645,
/// coinnode 0.861, zbxserver 0.903, gitforge 0.899, radiusd 0.915 at seed
/// 1, so the tune mean at seed 1 is 0.920 over 116 (0.926 over the 110
/// before), over the 0.87 floor, which is unchanged; the two under 0.85
/// have floors just under their seed-1 scores (a regression guard, not a
/// goal met). Until a new second holdout is committed the split is empty
/// and its floor is not asserted.
///
/// Session 28, round 38 committed a new second holdout (e733a50): six
/// systems written blind, of the held-out kinds but of products no other
/// file imitates (raftkv, fabricsm, auditlog, wsgisrv, meshvpn, tvplayer:
/// an etcd-like raft store, an OpenSM-like subnet manager, a Linux auditd
/// log, a uWSGI-like application server, a Tailscale-like VPN client, an
/// Android-TV-like logcat), before the miner first ran on them. Their first
/// reading, as a mean only, with the miner of aea589b: 0.788 / 0.818 /
/// 0.803 / 0.801 at seeds 1-4 (locality mode 0.828 / 0.840 / 0.796 /
/// 0.830). The holdout2 floor is 0.78, just under the seed-1 mean: a
/// regression guard, not a goal met. The empty-split guard stays.
///
/// Session 28, round 39 (a reason after
/// `because:`, an opening upper-case name, a span after a value, names
/// after an opening noun, a change's values) took pgpooler to 0.873 and
/// hanatrace to 1.000 at seed 1: both are held to 0.85 as the others.
///
/// Session 28, round 42: three tune systems written blind (edrsysmon,
/// chromeos, expressapp: Defender- and Sysmon-like Windows event text, a
/// ChromeOS-like /var/log/messages, a Node.js-Express-like app under a
/// PM2-like manager) score 0.495, 0.679 and 0.661 at seed 1 with the
/// miner of 6170b1e (edrsysmon after its 3002 `Reason:` label became one
/// value), so edrsysmon and expressapp have floors just under that;
/// chromeos, its event words relabelled as constants (they had been
/// written in picks), scores 0.870 and is held to 0.85 as the others. The
/// tune mean at seed 1 is 0.923 over 119 (0.930 over the 116 before).
#[test]
fn grouping_accuracy_meets_the_floor_on_both_splits() {
    let (tune, holdout, holdout2, each) = report(1);
    assert!(each.len() >= 116, "at least 116 systems");
    assert!(tune >= 0.87, "tune split mean {tune:.3} < 0.87");
    assert!(holdout >= 0.90, "holdout split mean {holdout:.3} < 0.90");
    // An empty split (between a retired second holdout and its successor's
    // commit) has no mean.
    if each.iter().any(|(_, split, _)| *split == Split::Holdout2) {
        assert!(
            holdout2 >= 0.78,
            "second holdout split mean {holdout2:.3} < 0.78"
        );
    }
    for (name, split, accuracy) in each {
        if split == Split::Tune {
            let floor = match name.as_str() {
                "dhcp" | "neutron" => 0.70,
                // Session 14's new kinds, far under the others still.
                "idracsel" | "privoxy" | "rideapp" | "sgejobs" | "winsetup" => 0.60,
                // Session 15's new kinds, far under the others still.
                "gpfs" => 0.80,
                // Session 20, round 16: relabelled (reasons as constants),
                // just under their new scores at seed 1.
                "amservice" => 0.78,
                "balancer" => 0.70,
                "modsec" => 0.60,
                "cinder" => 0.55,
                "svcnodes" => 0.55,
                "macdaemons" => 0.35,
                "wureport" => 0.05,
                // Session 13's second holdout, retired to the tune split in
                // session 17: just under their scores at seed 1.
                "hbase" | "pbsjobs" | "tinyproxy" => 0.90,
                "shopapp" | "winsystem" => 0.65,
                "ipmisel" => 0.50,
                // Session 18's new kinds: just under their scores at seed 1.
                "ldapkdc" => 0.60,
                "mediasrv" => 0.50,
                // Session 19's new kinds: just under their scores at seed 1.
                "bkpjobs" => 0.70,
                "sambad" | "mailstore" => 0.65,
                // Round 18's exception texts as constants: 0.754 at seed 1.
                "idserver" => 0.75,
                // Session 19, round 15: prose reasons relabelled as
                // constants (the convention), just under their new scores
                // at seed 1.
                "cirunner" | "cupsd" => 0.80,
                "asterisk" => 0.55,
                // Session 20, round 16's new kinds: just under their
                // scores at seed 1.
                "esxhost" => 0.55,
                "sqlerrlog" => 0.65,
                "homeauto" => 0.50,
                // Session 17's second holdout, retired to the tune split in
                // session 21: just under their scores at seed 1.
                // Relabelled in round 17 (reasons as constants): just
                // under their new scores at seed 1.
                // Round 18 (exception texts and sentences after a plain
                // word as constants): nasfiler 0.901, wildfly 0.793.
                "nasfiler" => 0.89,
                "ltmlog" => 0.75,
                "imapmail" => 0.68,
                "wildfly" => 0.78,
                "iotgateway" => 0.60,
                "musicapp" => 0.75,
                // Session 22, round 19's new kind: just under its score
                // at seed 1 after the round's tag rule (0.777).
                "junos" => 0.75,
                // Session 28, round 42's blind systems: just under their
                // scores at seed 1 (a regression guard, not a goal met).
                "edrsysmon" => 0.49,
                "expressapp" => 0.65,
                _ => 0.85,
            };
            assert!(accuracy >= floor, "{name}: {accuracy:.3} < {floor}");
        }
    }
}

/// `PATTERN_SEEDS=2,3,4 cargo test -p anomalog-core --release --test
/// pattern_accuracy other_seeds -- --nocapture` prints the table and both
/// means at other generator seeds (nothing is asserted: the floors are set at
/// seed 1).
#[test]
fn other_seeds() {
    let Ok(seeds) = std::env::var("PATTERN_SEEDS") else {
        return;
    };
    for seed in seeds
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
    {
        println!("seed {seed}");
        let (tune, holdout, holdout2, _) = report(seed);
        println!(
            "seed {seed}: tune mean {tune:.3}, holdout mean {holdout:.3}, holdout2 mean {holdout2:.3}"
        );
    }
}

/// `cargo test -p anomalog-core --release --test pattern_accuracy locality
/// -- --nocapture` mines every system as a stream with locality
/// (`corpus::load_with_locality`: templates in runs of mean 8 lines, each
/// variable kept from the run's previous line with probability 0.7), as a
/// real log arrives in file order, at seed 1 and the `PATTERN_SEEDS` seeds.
/// It prints each tune system's score in that mode beside its score in the
/// default mode (independent draws), and the three means (holdouts as means
/// only).
///
/// Session 17, round 12 measured it (main `37ac9ba`'s miner): tune 0.916 /
/// 0.906 / 0.926 / 0.926 at seeds 1-4 against 0.918 / 0.908 / 0.927 / 0.930
/// in the default mode. The floor is just under the tune mean at seed 1.
/// Session 18's six new tune systems took it to 0.906 at seed 1 (default
/// 0.905), so the floor falls to 0.90; session 19's six to 0.893 (default
/// 0.895), so it falls to 0.89. Round 15's relabelling (reasons as
/// constants) took it to 0.898 at seed 1, and its rule kept it there; the
/// floor stays 0.89. Session 20, round 16: session 15's files relabelled
/// the same way, 0.906; four new systems, 0.897 over 91; this round's
/// rules, 0.899. The floor stays 0.89. Session 21, round 17: the six
/// systems of the retired holdout2 took it to 0.887 over 97 (default
/// 0.884), so the floor falls to 0.88; their prose reasons relabelled
/// as constants, 0.883 (default 0.880). Session 23, round 20: three new
/// tune systems (glusterd, lighttpd, bsdsyslog), 0.900 over 101 (default
/// 0.893); the floor stays 0.88.
#[test]
fn locality() {
    let mut seeds = vec![1];
    if let Ok(more) = std::env::var("PATTERN_SEEDS") {
        seeds.extend(
            more.split(',')
                .filter_map(|s| s.trim().parse::<u64>().ok())
                .filter(|&s| s != 1),
        );
    }
    for seed in seeds {
        let (mut tune, mut holdout, mut holdout2, mut tune_default) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for path in corpus::system_paths() {
            let system = corpus::load_with_locality(&path, seed);
            let accuracy = corpus::accuracy(&system);
            match system.split {
                Split::Tune => {
                    let default = corpus::accuracy(&corpus::load(&path, seed));
                    println!(
                        "{:<12} tune  locality GA {accuracy:.3}  default GA {default:.3}  {:+.3}",
                        system.name,
                        accuracy - default
                    );
                    tune.push(accuracy);
                    tune_default.push(default);
                }
                Split::Holdout => holdout.push(accuracy),
                Split::Holdout2 => holdout2.push(accuracy),
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "seed {seed} locality: tune mean {:.3} (default {:.3}), holdout mean {:.3}, holdout2 mean {:.3}",
            mean(&tune),
            mean(&tune_default),
            mean(&holdout),
            mean(&holdout2)
        );
        if seed == 1 {
            let tune = mean(&tune);
            assert!(tune >= 0.88, "locality mode: tune mean {tune:.3} < 0.88");
        }
    }
}

#[test]
fn the_corpus_is_labelled_and_large_enough() {
    for system in load_all(1) {
        assert!(system.lines.len() >= 1000, "{}", system.name);
        assert!(system.templates.len() >= 10, "{}", system.name);
        let used: std::collections::HashSet<_> = system.truth.iter().collect();
        assert!(
            used.len() >= 10,
            "{}: {} templates used",
            system.name,
            used.len()
        );
    }
}

#[test]
fn the_corpus_is_reproducible() {
    let a = load_all(1);
    let b = load_all(1);
    assert_eq!(a[0].lines, b[0].lines);
    assert_ne!(load_all(2)[0].lines, a[0].lines);
}

/// `PATTERN_DEBUG=<tune system> cargo test -p anomalog-core --test
/// pattern_accuracy debug -- --nocapture` prints where its grouping goes
/// wrong; `PATTERN_DEBUG_HEADER=<header template>` puts another header in
/// front of its messages (`""` for none), `PATTERN_DEBUG_SEED=<n>` generates
/// it with another seed. Refuses holdout systems: they are
/// never tuned on.
#[test]
fn debug() {
    let Ok(name) = std::env::var("PATTERN_DEBUG") else {
        return;
    };
    let header = std::env::var("PATTERN_DEBUG_HEADER").ok();
    let path = corpus::corpus_dir().join(format!("{name}.txt"));
    let seed = std::env::var("PATTERN_DEBUG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    // `PATTERN_DEBUG_LOCALITY=1`: the lines as the `locality` test streams them.
    let mut system = if std::env::var("PATTERN_DEBUG_LOCALITY").is_ok() {
        corpus::load_with_locality(&path, seed)
    } else {
        corpus::load_with_header(&path, seed, header.as_deref())
    };
    // `PATTERN_DEBUG_ORDER=<k>`: the lines in the k-th shuffled order of
    // the `orders` test.
    if let Some(k) = std::env::var("PATTERN_DEBUG_ORDER")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let mut order: Vec<usize> = (0..system.lines.len()).collect();
        for k in 0..k {
            fastrand::Rng::with_seed(k + 1).shuffle(&mut order);
        }
        system.lines = order.iter().map(|&i| system.lines[i].clone()).collect();
        system.truth = order.iter().map(|&i| system.truth[i]).collect();
    }
    assert_eq!(
        system.split,
        Split::Tune,
        "holdout systems are never tuned on"
    );
    let (miner, ids) = corpus::mine(&system);
    let mut groups: std::collections::BTreeMap<
        usize,
        std::collections::BTreeMap<String, (usize, String)>,
    > = Default::default();
    for ((line, truth), id) in system.lines.iter().zip(&system.truth).zip(&ids) {
        let template = miner.template(*id).unwrap_or_default();
        let e = groups
            .entry(*truth)
            .or_default()
            .entry(template)
            .or_insert((0, line.clone()));
        e.0 += 1;
    }
    for (truth, found) in groups {
        if found.len() > 1 {
            println!("SPLIT {}", system.templates[truth]);
            for (t, (n, example)) in found {
                println!("   {n:>5} {t}\n         e.g. {example}");
            }
        }
    }
    let mut by_template: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<usize, usize>,
    > = Default::default();
    for (truth, id) in system.truth.iter().zip(&ids) {
        *by_template
            .entry(miner.template(*id).unwrap_or_default())
            .or_default()
            .entry(*truth)
            .or_default() += 1;
    }
    for (t, truths) in by_template {
        if truths.len() > 1 {
            println!("MERGED {t}");
            for (truth, n) in truths {
                println!("     {n:>5} {}", system.templates[truth]);
            }
        }
    }
}

/// `PATTERN_ORDERS=<n> cargo test -p anomalog-core --test pattern_accuracy
/// orders -- --nocapture` mines each tune system's lines (seed 1, or
/// `PATTERN_DEBUG_SEED`) in their order and in `n` shuffled orders, and
/// prints the systems whose grouping accuracy depends on the order (the
/// lowest and highest score): the miner should converge to one grouping
/// whatever order the same lines arrive in. Holdout systems are skipped.
#[test]
fn orders() {
    let Some(n) = std::env::var("PATTERN_ORDERS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let seed = std::env::var("PATTERN_DEBUG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (mut total_low, mut total_high, mut systems) = (0.0, 0.0, 0);
    for system in load_all(seed) {
        if system.split != Split::Tune {
            continue;
        }
        let mut scores = vec![corpus::accuracy(&system)];
        let mut order: Vec<usize> = (0..system.lines.len()).collect();
        for k in 0..n {
            fastrand::Rng::with_seed(k + 1).shuffle(&mut order);
            let shuffled = corpus::System {
                name: system.name.clone(),
                split: system.split,
                lines: order.iter().map(|&i| system.lines[i].clone()).collect(),
                truth: order.iter().map(|&i| system.truth[i]).collect(),
                templates: system.templates.clone(),
                header: system.header.clone(),
            };
            scores.push(corpus::accuracy(&shuffled));
        }
        let low = scores.iter().copied().fold(f64::MAX, f64::min);
        let high = scores.iter().copied().fold(f64::MIN, f64::max);
        total_low += low;
        total_high += high;
        systems += 1;
        if high - low > 0.0005 {
            println!(
                "{:<12} in order {:.3}, shuffled {:.3}..{:.3}",
                system.name, scores[0], low, high
            );
        }
    }
    let systems = f64::from(systems);
    println!(
        "tune mean over orders: lowest {:.3}, highest {:.3}",
        total_low / systems,
        total_high / systems
    );
}
