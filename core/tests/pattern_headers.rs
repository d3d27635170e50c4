//! The miner must not depend on the header format of a system: the same
//! messages behind another common header (ISO with a level, syslog, log4j
//! with a padded bracketed level and a logger, a bracketed timestamp and
//! level, an epoch with a level, or none at all) must group about as well
//! as behind their own. Two systems of the corpus once scored 0.000 because
//! `strip_header` missed a padded `[INFO ]` and MySQL's `[Note]`; this test
//! would have caught both. Since session 16, round 10, the messages also
//! come behind the default layouts of 33 more programs and libraries
//! (Python logging, Spring Boot, Ruby's Logger, env_logger, nginx, Apache,
//! RFC 5424, logfmt, ...). Systems whose templates carry their own header
//! (no `header:` line: nginx, HealthApp) are left out: a second header in
//! front of one is no real format. So are holdout systems: they are never
//! tuned on. Until session 26, round 32, edgeproxy was left out too: behind
//! logfmt's and logrus's `msg="..."`, which escape its quoted `error="..."`
//! values as `\"`, it scored 0.799 and 0.807 (0.978 behind its own header);
//! since `strip_header` reads those escapes back, 0.980 and 0.979. So was
//! nasfiler, whose `[node:event.name:severity]:` tag was read as a thread
//! only when the node's name held a digit, one event split in two by node
//! (0.028 to 0.047 behind no header and five others); since a bracketed
//! group glued to a `:` ends the header whatever its words, 0.924 to 0.938
//! behind every header (0.932 behind its own).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../eval/patterns/corpus.rs"]
mod corpus;

use corpus::{accuracy, load_with_header, system_paths};

/// How a header meets the message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Joint {
    /// One space between them (the corpus's own way).
    Space,
    /// No space (`WARNING:root:message`).
    Glued,
    /// The message quoted as logfmt's `msg="..."` value, its `"` and `\`
    /// escaped.
    Quoted,
}

/// Ends a header template whose joint is not a space.
const JOINT: char = '\u{1f}';

/// Header templates (corpus slot syntax) a message may come behind: the
/// seven of session 8, then (session 16, round 10) the default layouts of
/// common software, each written from the product's documented format.
const HEADERS: &[(&str, &str, Joint)] = &[
    ("none", "", Joint::Space),
    (
        "iso",
        "{ts:%Y-%m-%dT%H:%M:%S%.3fZ} {pick:INFO|WARN|ERROR|DEBUG}",
        Joint::Space,
    ),
    (
        "syslog",
        "{ts:%b %e %H:%M:%S} {host} {pick:app|worker|agentd}[{int:100-65000}]:",
        Joint::Space,
    ),
    (
        "log4j",
        "{ts:%Y-%m-%d %H:%M:%S,%3f} [{pick:INFO |WARN |ERROR|DEBUG}] [{pick:main|pool-1-thread-3|http-nio-8080-exec-7}] {class}:",
        Joint::Space,
    ),
    (
        "bracketed",
        "[{ts:%Y-%m-%d %H:%M:%S}] [{pick:info|warning|error}]",
        Joint::Space,
    ),
    (
        "epoch",
        "{int:1600000000-1700000000} {pick:info|warn|error}",
        Joint::Space,
    ),
    (
        "mysql",
        "{ts:%Y-%m-%dT%H:%M:%S%.6fZ} {int:0-99} [{pick:Note|Warning|System}]",
        Joint::Space,
    ),
    // Python logging, `%(asctime)s - %(name)s - %(levelname)s - %(message)s`.
    (
        "python",
        "{ts:%Y-%m-%d %H:%M:%S,%3f} - {pick:app.worker|app.db.pool|urllib3.connectionpool|celery.worker.strategy} - {pick:INFO|WARNING|ERROR|DEBUG} -",
        Joint::Space,
    ),
    // Python's `logging.basicConfig()` default, `%(levelname)s:%(name)s:%(message)s`.
    (
        "python-basic",
        "{pick:INFO|WARNING|ERROR|DEBUG}:{pick:root|app.worker|urllib3.connectionpool}:\u{1f}",
        Joint::Glued,
    ),
    // Spring Boot 2: `%5p ${PID} --- [%15.15t] %-40.40logger{39} : `.
    (
        "spring-boot",
        "{ts:%Y-%m-%d %H:%M:%S%.3f}  {pick: INFO| WARN|ERROR|DEBUG} {int:100-65000} --- [{pick:           main|nio-8080-exec-1|io-8080-exec-10|  restartedMain|   scheduling-1}] {pick:o.s.b.w.embedded.tomcat.TomcatWebServer |o.s.web.servlet.DispatcherServlet       |c.e.billing.InvoiceService              |com.zaxxer.hikari.HikariDataSource      } :",
        Joint::Space,
    ),
    // Spring Boot 3.2: the application name in brackets before the thread.
    (
        "spring-boot3",
        "{ts:%Y-%m-%dT%H:%M:%S%.3f}+01:00  {pick: INFO| WARN|ERROR|DEBUG} {int:100-65000} --- [{pick:orders|billing}] [{pick:           main|nio-8080-exec-4|   scheduling-1}] {pick:o.s.b.w.embedded.tomcat.TomcatWebServer |c.e.orders.OrderController              } :",
        Joint::Space,
    ),
    // Ruby's Logger: `I, [2024-03-05T10:11:12.345678 #1234]  INFO -- progname: `.
    (
        "ruby",
        "{pick:I|W|E|D}, [{ts:%Y-%m-%dT%H:%M:%S%.6f} #{int:100-65000}] {pick: INFO| WARN|ERROR|DEBUG} -- {pick:|sidekiq|puma}:",
        Joint::Space,
    ),
    // Rust's env_logger: `[2024-03-05T10:11:12Z INFO  my_crate::module]`.
    (
        "env-logger",
        "[{ts:%Y-%m-%dT%H:%M:%SZ} {pick:INFO |WARN |ERROR|DEBUG} {pick:my_service::server|hyper::proto::h1::conn|tokio_postgres::connection|my_service}]",
        Joint::Space,
    ),
    // Go's standard `log` package.
    ("go-log", "{ts:%Y/%m/%d %H:%M:%S}", Joint::Space),
    // Serilog's console sink: `[10:11:12 INF]`.
    (
        "serilog",
        "[{ts:%H:%M:%S} {pick:INF|WRN|ERR|DBG|VRB|FTL}]",
        Joint::Space,
    ),
    // .NET's console logger with single lines: `info: Category[EventId]`.
    (
        "dotnet",
        "{pick:info|warn|fail|crit|dbug|trce}: {pick:Microsoft.Hosting.Lifetime|Microsoft.AspNetCore.Routing.EndpointMiddleware|Orders.Api.OrderService}[{int:0-20}]",
        Joint::Space,
    ),
    // nginx's error log: `2024/03/05 10:11:12 [error] 1234#1234: *56 `.
    (
        "nginx-error",
        "{ts:%Y/%m/%d %H:%M:%S} [{pick:error|warn|notice|crit|info}] {int:100-65000}#{int:0-9}: *{int:1-999999}",
        Joint::Space,
    ),
    // Apache httpd 2.4's error log, `[module:level] [pid N:tid N] [client ip:port]`.
    (
        "apache24",
        "[{ts:%a %b %d %H:%M:%S%.6f %Y}] [{pick:core|proxy|ssl|mpm_event|authz_core}:{pick:error|warn|notice|info}] [pid {int:100-65000}:tid {int:100000000000-999999999999}] [client {ip}:{port}]",
        Joint::Space,
    ),
    // RFC 5424 syslog: `<PRI>1 time host app procid msgid structured-data`.
    (
        "rfc5424",
        "<{int:0-191}>1 {ts:%Y-%m-%dT%H:%M:%S%.3fZ} {host} {pick:app|worker|agentd} {int:100-65000} {pick:ID47|-|audit} -",
        Joint::Space,
    ),
    // go-kit / logfmt: `ts=... caller=file.go:42 level=info msg="..."`.
    (
        "logfmt",
        "ts={ts:%Y-%m-%dT%H:%M:%S%.3fZ} caller={pick:main.go|server.go|store.go}:{int:10-999} level={pick:info|warn|error|debug} msg=\u{1f}",
        Joint::Quoted,
    ),
    // Docker daemon (logrus): `time="..." level=info msg="..."`.
    (
        "logrus",
        "time=\"{ts:%Y-%m-%dT%H:%M:%S%.9fZ}\" level={pick:info|warning|error|debug} msg=\u{1f}",
        Joint::Quoted,
    ),
    // PHP's error log: `[05-Mar-2024 10:11:12 UTC] PHP Warning:  `.
    (
        "php",
        "[{ts:%d-%b-%Y %H:%M:%S} UTC] PHP {pick:Warning|Notice|Fatal error|Deprecated}: ",
        Joint::Space,
    ),
    // Elixir's Logger with Phoenix's request id: `$time $metadata[$level] `.
    (
        "elixir",
        "{ts:%H:%M:%S%.3f} request_id={b64} [{pick:info|warning|error|debug}]",
        Joint::Space,
    ),
    // journalctl `-o short-precise`.
    (
        "journald-precise",
        "{ts:%b %d %H:%M:%S%.6f} {host} {pick:systemd|sshd|dockerd|NetworkManager}[{int:1-65000}]:",
        Joint::Space,
    ),
    // klog / glog: `I0305 10:11:12.345678    1234 file.go:123]`.
    (
        "klog",
        "{pick:I|W|E}{ts:%m%d %H:%M:%S%.6f}    {int:1-99999} {pick:server.go|controller.go|reflector.go}:{int:10-999}]",
        Joint::Space,
    ),
    // Windows CBS-like servicing logs: `2024-03-05 10:11:12, Info   CBS   `.
    (
        "windows-cbs",
        "{ts:%Y-%m-%d %H:%M:%S}, {pick:Info   |Warning|Error  }               CBS   ",
        Joint::Space,
    ),
    // PostgreSQL with `log_line_prefix = '%m [%p] %q%u@%d '`.
    (
        "postgres",
        "{ts:%Y-%m-%d %H:%M:%S%.3f} UTC [{int:100-65000}] {pick:app|replicator|postgres}@{pick:orders|billing|postgres} {pick:LOG|WARNING|ERROR|FATAL}: ",
        Joint::Space,
    ),
    // MySQL 8's error log: `time thread [Warning] [MY-010068] [Server] `.
    (
        "mysql8",
        "{ts:%Y-%m-%dT%H:%M:%S%.6fZ} {int:0-99} [{pick:Note|Warning|System|ERROR}] [MY-0{int:10000-13999}] [{pick:Server|InnoDB|Repl}]",
        Joint::Space,
    ),
    // Kafka's server.log: `[time] LEVEL [Component id=1]: `.
    (
        "kafka",
        "[{ts:%Y-%m-%d %H:%M:%S,%3f}] {pick:INFO|WARN|ERROR|DEBUG} [{pick:ReplicaFetcher replicaId=1, leaderId=2, fetcherId=0|GroupCoordinator 1|Controller id=1|Log partition=orders-3, dir=/var/lib/kafka}]:",
        Joint::Space,
    ),
    // Logback's and log4j2's default console layout:
    // `%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg`.
    (
        "logback",
        "{ts:%H:%M:%S%.3f} [{pick:main|http-nio-8080-exec-7|scheduling-1|ForkJoinPool.commonPool-worker-3}] {pick:INFO |WARN |ERROR|DEBUG} {pick:c.e.billing.InvoiceService|o.h.engine.jdbc.spi.SqlExceptionHelper|com.zaxxer.hikari.pool.HikariPool} -",
        Joint::Space,
    ),
    // log4j with an MDC in brackets: `[%t] [%X{requestId}] %c - `.
    (
        "log4j-mdc",
        "{ts:%Y-%m-%d %H:%M:%S,%3f} {pick:INFO |WARN |ERROR|DEBUG} [{pick:main|http-nio-8080-exec-2}] [requestId={hex:16} user={user}] {class} -",
        Joint::Space,
    ),
    // uWSGI with `--log-date`: `Tue Mar  5 10:11:12 2024 - `.
    ("uwsgi", "{ts:%a %b %e %H:%M:%S %Y} -", Joint::Space),
    // HAProxy 2's own messages on stderr: `[WARNING]  (1234) : `.
    (
        "haproxy",
        "[{pick:NOTICE]  |WARNING] |ALERT]   }({int:1-65000}) :",
        Joint::Space,
    ),
    // pino-pretty: `[10:11:12.345] INFO (1234): `.
    (
        "pino-pretty",
        "[{ts:%H:%M:%S%.3f}] {pick:INFO|WARN|ERROR|DEBUG} ({int:100-65000}):",
        Joint::Space,
    ),
    // gunicorn: `[2024-03-05 10:11:12 +0000] [1234] [INFO] `.
    (
        "gunicorn",
        "[{ts:%Y-%m-%d %H:%M:%S} +0000] [{int:100-65000}] [{pick:INFO|WARNING|ERROR|DEBUG}]",
        Joint::Space,
    ),
    // Celery: `[2024-03-05 10:11:12,345: INFO/ForkPoolWorker-1] `.
    (
        "celery",
        "[{ts:%Y-%m-%d %H:%M:%S,%3f}: {pick:INFO|WARNING|ERROR}/{pick:MainProcess|ForkPoolWorker-1|ForkPoolWorker-12}]",
        Joint::Space,
    ),
    // Airflow: `[2024-03-05T10:11:12.345+0000] {file.py:123} INFO - `.
    (
        "airflow",
        "[{ts:%Y-%m-%dT%H:%M:%S%.3f}+0000] {{{pick:scheduler_job_runner.py|taskinstance.py|dagbag.py}:{int:10-2000}}} {pick:INFO|WARNING|ERROR} -",
        Joint::Space,
    ),
    // log4net's default: `%date [%thread] %-5level %logger - `.
    (
        "log4net",
        "{ts:%Y-%m-%d %H:%M:%S,%3f} [{int:1-40}] {pick:INFO |WARN |ERROR|DEBUG} {pick:Orders.Api.OrderService|NHibernate.Engine.Cascade|Quartz.Core.QuartzSchedulerThread} -",
        Joint::Space,
    ),
    // Jenkins (java.util.logging, its own formatter): `time [id=N]\tLEVEL\tclass#method: `.
    (
        "jenkins",
        "{ts:%Y-%m-%d %H:%M:%S%.3f}+0000 [id={int:1-500}]\t{pick:INFO|WARNING|SEVERE}\t{pick:jenkins.InitReactorRunner$1#onAttained|hudson.model.AsyncPeriodicWork#lambda$doRun$0|hudson.slaves.ChannelPinger$1#onDead}:",
        Joint::Space,
    ),
    // Envoy's own log: `[time][thread][level][logger] [file:line] `.
    (
        "envoy",
        "[{ts:%Y-%m-%d %H:%M:%S%.3f}][{int:1-64}][{pick:info|warning|error|debug}][{pick:upstream|config|main|http}] [source/common/{pick:upstream/cluster_manager_impl.cc|config/grpc_stream.h|http/conn_manager_impl.cc}:{int:10-2000}]",
        Joint::Space,
    ),
];

/// Systems whose templates carry the second half of their header (the
/// logger and a request context after the level the header ends with:
/// `cinder.volume.manager [req-<*> ...] message`): behind a header without
/// a level nothing marks those fields as header, a line no real program
/// prints. cinder (session 15) scores 0.524 so without a header and 0.633
/// behind its own, with the miner of session 14 as with session 15's.
/// hclogsvc (session 19) carries its padded `[LEVEL]` and subsystem after
/// the time: behind a logfmt or logrus header, whose level and quoted
/// `msg=` come first, its lines hold a second level inside the message
/// (0.738 / 0.742 there, 0.879 behind its own, with the miner of 468b129).
/// illumos (session 25, round 29) carries the second half of its syslog
/// line, `program[pid]: [ID msgid facility.level]`: behind a header of
/// another kind the tag stays in the message, `sshd[4242]:` is masked
/// whole, and sshd's `Accepted publickey for <user> from` and
/// `Disconnected from` merge as runs (0.749 to 0.868 there, 0.890 behind
/// its own with round 29's rule; 0.677 behind its own without it, whose
/// `[ID ...]` group merged short messages only where it opened them).
const CARRY_THEIR_LOGGER: &[&str] = &["cinder", "hclogsvc", "illumos"];

/// Systems whose score depends on the generated sample more than the test's
/// margin, whatever the header: another header takes another number of
/// random draws per line, so its lines are another sample of the same
/// templates. ipmisel (holdout2 until session 17) scores 0.489 to 0.820
/// behind its own header at seeds 1-4, and as low as 0.560 behind other
/// headers at seed 1, the same score behind every header that draws alike
/// (0.595 behind formats as unlike as MySQL's, Python's, Kafka's and
/// gunicorn's): a sample's spread, not a header's miss. mailstore
/// (session 19) scores 0.457 to 0.678 behind its own header at seeds 1-4
/// and 0.537 to 0.583 behind the others at seed 1, alike behind headers as
/// unlike as syslog's, log4j's and an epoch (the miner of 468b129).
/// cupsd (session 18), once its prose reasons became constants in session
/// 19, round 15, scores 0.807 to 0.973 behind its own header at seeds 1-4
/// and 0.700 to 0.781 behind the others at seed 1, alike behind headers as
/// unlike as Spring Boot's and PostgreSQL's (0.700), syslog's and logfmt's
/// (0.739): which reasons a sample draws decides how many of them the runs
/// rule merges (the miner of 8e27bf7). sqlerrlog (session 20, round 16),
/// once its `Reason:` values became one template's, scores 0.686 to 0.966
/// behind its own header at seeds 1-4 and 0.561 to 0.637 behind the others
/// at seed 1, the same 0.577 behind headers as unlike as Spring Boot's,
/// nginx's, PostgreSQL's and MySQL's, 0.613 behind syslog's ISO, logrus's
/// and PHP's: how often a sample draws the long I/O warning, whose file
/// path holds spaces, decides its score (the miner of 39948c1).
const SAMPLE_BOUND: &[&str] = &["ipmisel", "mailstore", "cupsd", "sqlerrlog"];

/// Largest drop of one system's accuracy behind another header.
const MARGIN: f64 = 0.10;

/// Headers whose words `strip_header` leaves in the message by design:
/// scored and printed, not asserted. A CBS-like log's component (`CBS`,
/// `CSI`) after the level stays in the message (the windows and winsetup
/// templates hold it, and components name the event there), and one
/// constant word before every message moves the miner's rules for a
/// message's first word (sshd 1.000 -> 0.691 behind it). Every entry is a
/// known miss, never a tolerance.
const NOT_YET_READ: &[&str] = &["windows-cbs"];

/// `system`'s lines with each header's joint applied (see [`Joint`]).
fn join_header(mut system: corpus::System, joint: Joint) -> corpus::System {
    if joint == Joint::Space {
        return system;
    }
    for line in &mut system.lines {
        let Some(at) = line.find(JOINT) else { continue };
        let message = &line[at + JOINT.len_utf8() + 1..];
        let message = match joint {
            Joint::Quoted => format!("\"{}\"", message.replace('\\', "\\\\").replace('"', "\\\"")),
            _ => message.to_owned(),
        };
        *line = format!("{}{message}", &line[..at]);
    }
    system
}

#[test]
fn grouping_does_not_depend_on_the_header_format() {
    let mut failures = Vec::new();
    let mut drops: Vec<Vec<(f64, String)>> = vec![Vec::new(); HEADERS.len()];
    for path in system_paths() {
        let original = load_with_header(&path, 1, None);
        // Holdout systems are scored by pattern_accuracy, never tuned on.
        if original.header.is_empty()
            || original.split != corpus::Split::Tune
            || CARRY_THEIR_LOGGER.contains(&original.name.as_str())
            || SAMPLE_BOUND.contains(&original.name.as_str())
        {
            continue;
        }
        let own = accuracy(&original);
        let mut row = Vec::new();
        for (i, (name, header, joint)) in HEADERS.iter().enumerate() {
            let system = join_header(load_with_header(&path, 1, Some(header)), *joint);
            let score = accuracy(&system);
            drops[i].push((own - score, system.name.clone()));
            if own - score > 0.02 {
                row.push(format!("{name} {score:.3}"));
            }
            if score < own - MARGIN && !NOT_YET_READ.contains(name) {
                failures.push(format!(
                    "{}: {score:.3} behind the {name} header, {own:.3} behind its own",
                    system.name
                ));
            }
        }
        println!(
            "{:<14} own {own:.3}  more than 0.02 lower: {}",
            original.name,
            row.join("  ")
        );
    }
    println!("header            mean drop  worst drop        over {MARGIN:.2}");
    for ((name, _, _), drops) in HEADERS.iter().zip(&drops) {
        let mean = drops.iter().map(|d| d.0).sum::<f64>() / drops.len().max(1) as f64;
        let worst = drops
            .iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .cloned()
            .unwrap_or_default();
        let over = drops.iter().filter(|d| d.0 > MARGIN).count();
        let note = if NOT_YET_READ.contains(name) {
            "  (not yet read)"
        } else {
            ""
        };
        println!(
            "{name:<17} {mean:>+9.3}  {:>+6.3} {:<11} {over:>3}{note}",
            worst.0, worst.1
        );
    }
    let tested = drops[0].len();
    assert!(tested >= 25, "only {tested} systems with a header");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
