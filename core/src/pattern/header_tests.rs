//! Unit tests of header stripping (`header.rs`).

use super::strip_header;

#[test]
fn common_headers_are_removed() {
    let cases = [
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating",
            "PacketResponder 1 for block blk_1 terminating",
        ),
        (
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "instruction cache parity error corrected",
        ),
        (
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0",
            "authentication failure; logname= uid=0",
        ),
        (
            "Jan  8 03:32:16 10.1.2.3 136129: *Jan  8 03:32:16.620 UTC: %LINK-3-UPDOWN: Interface Gi1/0/16, changed state to down",
            "%LINK-3-UPDOWN: Interface Gi1/0/16, changed state to down",
        ),
        (
            "Jan  8 03:32:16 backup-1 cron: Jan reports were sent",
            "Jan reports were sent",
        ),
        // rsyslog's high-precision ISO time before a host and a
        // program (session 16).
        (
            "2024-03-05T10:11:12.123456-06:00 tbadmin1 sshd[79606]: Received disconnect from 10.0.0.1",
            "Received disconnect from 10.0.0.1",
        ),
        (
            "2024-03-05T10:11:12+00:00 login-2 kernel: EDAC MC0: 1 CE memory read error",
            "EDAC MC0: 1 CE memory read error",
        ),
        (
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app",
            "printFreezingDisplayLogs opening app",
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        ),
        (
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
            "Notification time out: 3200",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster",
            "Created MRAppMaster",
        ),
        (
            "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
            "onStandStepChanged 3579",
        ),
        (
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack",
            "CBS    Loaded Servicing Stack",
        ),
        (
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1 - - -] 10.11.10.1 \"GET /v2\"",
            "10.11.10.1 \"GET /v2\"",
        ),
        (
            "2026-05-06T12:00:00Z ERROR payment declined for order 7",
            "payment declined for order 7",
        ),
        (
            "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
            "session closed for user root",
        ),
        (
            "2023-12-02 12:11:26.106 UTC [2510] LOG:  checkpoint starting: time",
            "LOG:  checkpoint starting: time",
        ),
        (
            "UTC offset is plain text here",
            "UTC offset is plain text here",
        ),
        (
            "plain message without header",
            "plain message without header",
        ),
        ("2026-05-06 12:00:00", "2026-05-06 12:00:00"),
        (
            "I1209 03:12:06.123456    1234 kubelet.go:2430] \"SyncLoop ADD\" source=\"api\"",
            "\"SyncLoop ADD\" source=\"api\"",
        ),
        (
            "E0101 00:00:01.5 7 server.cc:88] Check failed: ok",
            "Check failed: ok",
        ),
        ("I1209 is not a glog header", "I1209 is not a glog header"),
        // Session 14: a `|` header glued to the time after a date, a
        // thread id in hex, a host name without a digit before a level,
        // and `Ok` as a severity after two header fields.
        (
            "12/06/2024 02:46:33|worker|qmaster01|W|job 17.1 finished on host web-01",
            "job 17.1 finished on host web-01",
        ),
        (
            "2024-12-06 02:46:33.123 7f2c3b7fe700 Connect: Accepted connection",
            "Connect: Accepted connection",
        ),
        (
            "2023-12-03T03:37:27-05:00 bmc-db-master Critical TMP0120 The board is hot",
            "TMP0120 The board is hot",
        ),
        (
            "2023-12-03T03:37:27-05:00 idrac-r740-01 Ok FAN0000 The fan is fine",
            "FAN0000 The fan is fine",
        ),
        (
            "2023-12-03T03:37:27-05:00 bmc-db-master Ok FAN0000 The fan is fine",
            "FAN0000 The fan is fine",
        ),
        ("2023-12-03 12:00:00 Ok then we go", "Ok then we go"),
        (
            "2024-06-12_14:02:33.123+0100: [I] Accepted and connected to gw",
            "Accepted and connected to gw",
        ),
        (
            "2024-06-12_14:02:33.123+0100: [N] Node 10.0.0.1 (gw) is up.",
            "Node 10.0.0.1 (gw) is up.",
        ),
        ("[I] opens the message", "[I] opens the message"),
        (
            "2024-03-04T04:00:00.123Z INFO Request: web-01/index.html",
            "Request: web-01/index.html",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

#[test]
fn a_program_name_after_a_level_is_no_logger() {
    // `chrome.exe -` opens the message (the program of a record), as
    // `svchost.exe *64 -` does in lines of the same template.
    assert_eq!(
        strip_header("2024-03-04T04:00:00.123Z INFO chrome.exe - web-02:443 open directly"),
        "chrome.exe - web-02:443 open directly"
    );
    assert_eq!(
        strip_header("2024-03-04T04:00:00.123Z INFO svchost.exe *64 - web-02:443 open directly"),
        "svchost.exe *64 - web-02:443 open directly"
    );
    // Logger names stay header fields.
    assert_eq!(
        strip_header("2024-03-04T04:00:00.123Z INFO o.e.n.Node - started"),
        "started"
    );
    assert_eq!(
        strip_header("2024-03-04 04:00:00.123 4242 INFO neutron.wsgi - request done"),
        "request done"
    );
}

/// Session 22, round 19: after Ruby's `--`, a `progname:` is header before
/// a message of one word too (`OK`), as before a longer one; after a single
/// `-` (Python's ` - ` separators) a `Name:` before one word stays the
/// message's own label.
#[test]
fn a_program_name_after_two_dashes_is_header_before_one_word() {
    assert_eq!(
        strip_header("W, [2024-01-17T13:58:15.414805 #56226] DEBUG -- puma: OK"),
        "OK"
    );
    assert_eq!(
        strip_header("I, [2024-01-17T13:58:15.414805 #56226]  INFO -- : OK"),
        "OK"
    );
    assert_eq!(
        strip_header(
            "2024-03-05 10:11:12,345 - app.proxy - INFO - Request: example.com/index.html"
        ),
        "Request: example.com/index.html"
    );
}

/// Session 16, round 10: the default layouts of common software, each
/// stripped to the message (`core/tests/pattern_headers.rs` mines the tune
/// systems' messages behind them).
#[test]
fn default_layouts_of_common_software_are_removed() {
    let message = "Connection closed by peer";
    let cases = [
        // Python logging: a logger before `- LEVEL -`.
        "2024-03-05 10:11:12,345 - app.db.pool - WARNING - Connection closed by peer",
        // Python's basicConfig: `LEVEL:logger:` glued to the message.
        "WARNING:root:Connection closed by peer",
        // Spring Boot: a pid, `---`, a padded thread and logger, ` : `.
        "2024-03-05 10:11:12.345  INFO 12345 --- [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Connection closed by peer",
        "2024-03-05T10:11:12.345+01:00  WARN 12345 --- [orders] [   scheduling-1] c.e.orders.OrderController               : Connection closed by peer",
        // Ruby's Logger: `I,` then `-- :` or `-- progname:`.
        "I, [2024-03-05T10:11:12.345678 #1234]  INFO -- : Connection closed by peer",
        "E, [2024-03-05T10:11:12.345678 #1234] ERROR -- sidekiq: Connection closed by peer",
        // .NET's console logger: `info: Category[EventId]`.
        "info: Microsoft.Hosting.Lifetime[0] Connection closed by peer",
        "fail: Orders.Api.OrderService[12] Connection closed by peer",
        // Serilog's short levels after a time.
        "10:11:12 WRN Connection closed by peer",
        // nginx: `pid#tid: *connection`.
        "2024/03/05 10:11:12 [error] 1234#0: *56 Connection closed by peer",
        // Apache 2.4: `[module:level]`, `[pid:tid]`, `[client]`.
        "[Tue Mar 05 10:11:12.345678 2024] [proxy:error] [pid 1234:tid 140000000000] [client 10.0.0.1:5678] Connection closed by peer",
        // RFC 5424 syslog, with and without structured data.
        "<34>1 2024-03-05T10:11:12.003Z web-01 app 1234 ID47 - Connection closed by peer",
        "<165>1 2024-03-05T10:11:12.003Z web-01 app - - [meta sequenceId=\"29\"] Connection closed by peer",
        // logfmt: the fields before `msg=`, the message's quotes.
        "ts=2024-03-05T10:11:12.345Z caller=main.go:42 level=info msg=\"Connection closed by peer\"",
        "time=\"2024-03-05T10:11:12.123456789Z\" level=warning msg=\"Connection closed by peer\"",
        // PHP: `PHP Deprecated:` and `PHP Fatal error:`.
        "[05-Mar-2024 10:11:12 UTC] PHP Deprecated:  Connection closed by peer",
        "[05-Mar-2024 10:11:12 UTC] PHP Fatal error:  Connection closed by peer",
        // Elixir: `key=value` metadata before a bracketed level.
        "10:11:12.345 request_id=F1x2yAbCdEfGhIjKlMnOpQ [info] Connection closed by peer",
        // PostgreSQL's `%u@%d` and its severity.
        "2024-03-05 10:11:12.345 UTC [1234] app@orders WARNING:  Connection closed by peer",
        // Kafka: `[Component id]:` after the level.
        "[2024-03-05 10:11:12,345] INFO [GroupCoordinator 1]: Connection closed by peer",
        // logback's default: a thread in brackets before the level.
        "10:11:12.345 [http-nio-8080-exec-7] INFO  c.e.billing.InvoiceService - Connection closed by peer",
        // uWSGI: a ctime-like time ending in a year.
        "Tue Mar  5 10:11:12 2024 - Connection closed by peer",
        // HAProxy and pino-pretty: a pid in parentheses.
        "[WARNING]  (1234) : Connection closed by peer",
        "[10:11:12.345] INFO (1234): Connection closed by peer",
        // Jenkins: a logger with `#method`.
        "2024-03-05 10:11:12.345+0000 [id=42]\tINFO\tjenkins.InitReactorRunner$1#onAttained: Connection closed by peer",
    ];
    for line in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// What looks like those headers but is the message, kept.
#[test]
fn message_words_like_header_fields_are_kept() {
    let cases = [
        // An event code names the message (Apache's `AH01382:`).
        (
            "[Tue Mar 05 10:11:12.345678 2024] [reqtimeout:info] [pid 1:tid 2] [client 10.0.0.1:5] AH01382: Request header read timeout",
            "AH01382: Request header read timeout",
        ),
        // A queue id of digits only after a time is the message's key.
        (
            "2024/03/05 10:11:12 1234567890: removed",
            "1234567890: removed",
        ),
        // PostgreSQL's `LOG:` without a session stays (session 8's case).
        (
            "2024-03-05 10:11:12.345 UTC [1234] LOG:  checkpoint starting: time",
            "LOG:  checkpoint starting: time",
        ),
        // A lower-case level without a category is prose.
        ("fail: disk full", "fail: disk full"),
        // `key=value` fields without a `msg=` are the message.
        ("user=alice action=login", "user=alice action=login"),
        // A logger not followed by an upper-case level is the message.
        (
            "2024-03-05 10:11:12 disk error: sector 7",
            "disk error: sector 7",
        ),
        // logfmt's `msg` before other fields keeps them.
        (
            "level=info msg=\"Started x\" id=7",
            "msg=\"Started x\" id=7",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// Session 18: a one-letter level that opens the line before a bracketed
/// time (a CUPS-like error log), and a bracketed thread after a time that
/// follows `Mon DD, YYYY` (a media server's log), are header; a syslog
/// time is still followed by its host.
#[test]
fn letter_levels_before_bracketed_times_and_threads_after_dated_times_are_header() {
    let cases = [
        (
            "I [13/Feb/2024:13:11:30 +0000] Full reload complete.",
            "Full reload complete.",
        ),
        (
            "E [13/Feb/2024:13:30:05 +0000] [cups-deviced] PID 18942 (snmp) stopped with status 3!",
            "[cups-deviced] PID 18942 (snmp) stopped with status 3!",
        ),
        (
            "Feb 21, 2024 14:35:28.063 [0x7f14002eddf3] DEBUG - Transcode session 7 stopped",
            "Transcode session 7 stopped",
        ),
        ("Feb 21 14:35:28 web-01 cron[12]: job done", "job done"),
        // A letter that opens a message before other brackets stays.
        ("I [will] retry", "I [will] retry"),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// A day and month joined by `-` (`24-Feb`, a job log's date without a
/// year) is a date as `Feb 24` is: the time after it is followed by a
/// host, as a syslog time is (session 19). With a year and a level after
/// the time (`06-Dec-2024 10:12:01.123 INFO [main]`: Tomcat's) the level
/// is read as before.
#[test]
fn a_day_month_date_opens_a_syslog_like_header() {
    let cases = [
        (
            "24-Feb 02:28 db02-fd JobId 51255: Start Backup JobId 71831, Job=NightlySave.2024-02-24_02.28.50_41",
            "JobId 51255: Start Backup JobId 71831, Job=NightlySave.2024-02-24_02.28.50_41",
        ),
        (
            "24-Feb 02:26 bacula-sd JobId 87041: Volume \"Inc-3770\" previously written",
            "JobId 87041: Volume \"Inc-3770\" previously written",
        ),
        (
            "06-Dec-2024 10:12:01.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in 1234 ms",
            "Server startup in 1234 ms",
        ),
        (
            "06-Dec-2024 10:12:01 fileserver backup: run finished",
            "run finished",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// Session 21, round 17: a bracketed thread after a time is header before
/// an Android-like `L/Tag:` (a one-letter level glued to its tag), digits
/// or not, as it is before a level word: the thread's name decided before
/// (`[worker-3]` went, `[main]` stayed), so every event split by thread.
/// The `L/Tag:` stays in the message, as it does after a time alone.
#[test]
fn a_thread_before_a_level_glued_to_its_tag_is_header() {
    let cases = [
        (
            "2024-03-08 12:22:23.017 [main] I/PlaybackService: onPlay position=373834ms",
            "I/PlaybackService: onPlay position=373834ms",
        ),
        (
            "2024-03-08 12:22:23.017 [OkHttp Dispatcher] W/OkHttp: <-- HTTP FAILED",
            "W/OkHttp: <-- HTTP FAILED",
        ),
        (
            "2024-03-08 12:22:23.017 [worker-3] I/PlaybackService: onPlay position=373834ms",
            "I/PlaybackService: onPlay position=373834ms",
        ),
        // A bracket before a word that only looks like one stays.
        (
            "2024-03-08 12:22:23.017 [main] I/O error on /dev/sda",
            "[main] I/O error on /dev/sda",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// Session 24: a one-letter level after a bracketed time that opens the
/// line (GlusterFS: `[time +0000] E [MSGID: N] ...`) is header; the
/// brackets after it stay in the message.
#[test]
fn a_letter_level_after_a_bracketed_time_is_header() {
    for level in ["I", "W", "E"] {
        let line = format!(
            "[2024-01-02 14:38:02.382733 +0000] {level} [MSGID: 106004] [glusterd-handler.c:6329:__glusterd_peer_rpc_notify] 0-management: Peer <gfs-02> (<5c3f>), in state <Peer in Cluster>, has disconnected from glusterd."
        );
        assert_eq!(
            strip_header(&line),
            "[MSGID: 106004] [glusterd-handler.c:6329:__glusterd_peer_rpc_notify] 0-management: Peer <gfs-02> (<5c3f>), in state <Peer in Cluster>, has disconnected from glusterd."
        );
    }
    // A word that is no level stays.
    assert_eq!(
        strip_header("[2024-01-02 14:38:02.382733 +0000] Starting glusterd"),
        "Starting glusterd"
    );
}

/// Session 26, round 32: the text of a quoted logfmt `msg="..."` that ends
/// the line is the message as the program printed it, its escapes read
/// back (go-kit's logfmt and logrus escape `"`, `\`, newlines and tabs),
/// so a message behind logfmt is the one behind any other header.
#[test]
fn a_quoted_logfmt_message_is_unescaped() {
    let cases = [
        (
            r#"ts=2024-03-05T10:11:12.345Z level=error msg="dial failed: error=\"connection refused\"""#,
            r#"dial failed: error="connection refused""#,
        ),
        (
            r#"time="2024-03-05T10:11:12.123456789Z" level=info msg="path C:\\temp\\x not found""#,
            r"path C:\temp\x not found",
        ),
        (
            r#"level=warn msg="retry\tin 5s\nlast error: \"EOF\"""#,
            "retry\tin 5s\nlast error: \"EOF\"",
        ),
        // A message that printed `\n` itself (zerolog's escaped error
        // value) reads back as those two characters.
        (r#"level=error msg="error=\"a\\nb\"""#, r#"error="a\nb""#),
        // Control characters as go-logfmt prints them; an escape logfmt
        // does not read back (`\x`) and a bad `\u` stay as they stand.
        (
            r#"level=info msg="bell\u0007 byte\xff \uZZ end""#,
            "bell\u{7} byte\\xff \\uZZ end",
        ),
        // An escaped newline around the text is trimmed as spaces are.
        (
            r#"level=info msg="\nConnection closed\n""#,
            "Connection closed",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
    // A message of escaped space only stays as the line quotes it.
    assert_eq!(strip_header(r#"level=info msg="\n""#), r"\n");
    // Escapes are kept where the quotes are logfmt's syntax: a `msg`
    // before other fields, and a quoted message behind no logfmt header.
    let kept = [
        (
            r#"level=info msg="Started \"x\"" id=7"#,
            r#"msg="Started \"x\"" id=7"#,
        ),
        (
            r#"2024-03-05 10:11:12 ERROR parse failed: "a\"b""#,
            r#"parse failed: "a\"b""#,
        ),
    ];
    for (line, message) in kept {
        assert_eq!(strip_header(line), message, "{line}");
    }
}

/// The message borrows from the line unless it was unescaped, so the
/// common path allocates nothing.
#[test]
fn only_an_unescaped_message_is_owned() {
    use std::borrow::Cow;
    for line in [
        "2024-03-05 10:11:12 ERROR Connection closed by peer",
        r#"level=info msg="Connection closed by peer""#,
        r#"level=info msg="Started \"x\"" id=7"#,
    ] {
        assert!(matches!(strip_header(line), Cow::Borrowed(_)), "{line}");
    }
    let line = r#"level=info msg="Started \"x\"""#;
    assert!(matches!(strip_header(line), Cow::Owned(_)), "{line}");
}

/// Session 26, round 32: a bracketed group glued to a `:` ends the header
/// as a syslog `program[pid]:` does, whatever its words hold; read as a
/// thread only when they held a digit, an EMS-like event tag was stripped
/// behind `fas8200-01` and kept behind `filer-lab`.
#[test]
fn a_bracketed_tag_before_a_colon_ends_the_header_whatever_its_words() {
    let cases = [
        (
            "[fas8200-01:raid.disk.missing:error]: Disk 0a.00.7 is missing.",
            "Disk 0a.00.7 is missing.",
        ),
        (
            "[filer-lab:raid.disk.missing:error]: Disk 0a.00.7 is missing.",
            "Disk 0a.00.7 is missing.",
        ),
        (
            "2024/03/05 10:11:12 [filer-lab:raid.disk.missing:error]: Disk 0a.00.7 is missing.",
            "Disk 0a.00.7 is missing.",
        ),
        // A Minecraft-like server's `[time] [thread/LEVEL]:`, the thread's
        // name with a digit or not.
        (
            "[10:11:12] [Server thread/INFO]: Steve joined the game",
            "Steve joined the game",
        ),
        (
            "[10:11:12] [User Authenticator #3/INFO]: UUID of player Steve is 0f3c",
            "UUID of player Steve is 0f3c",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(strip_header(line), message, "{line}");
    }
    // Not glued to a `:`, or nothing after it: the bracket stays.
    for line in [
        "[filer-lab] Disk 0a.00.7 is missing.",
        "[filer-lab]:x is missing",
    ] {
        assert_eq!(strip_header(line), line, "{line}");
    }
}
