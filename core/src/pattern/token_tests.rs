//! Unit tests of tokenisation and masking (`token.rs`).

use super::*;

fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut spans = Vec::new();
    mask_into(s, &mut out, &mut spans);
    let joined: Vec<&str> = spans
        .iter()
        .map(|&(a, b)| &out[a as usize..b as usize])
        .collect();
    assert_eq!(joined.join(" "), out);
    out
}

#[test]
fn usual_variables_are_masked() {
    assert_eq!(
        mask(
            "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010"
        ),
        "Receiving block <*> src: <*> dest: <*>"
    );
    assert_eq!(
        mask("session opened for user root by (uid=0)"),
        "session opened for user root by (uid=<*>)"
    );
    assert_eq!(
        mask("GET https://example.com/a took 12ms"),
        "GET <*> took <*>"
    );
    // A URL with a query is one value, not a key before `=`.
    assert_eq!(
        mask("GET https://example.com/a/b?id=42&x=y took 12ms"),
        "GET <*> took <*>"
    );
    assert_eq!(mask("url=https://h/a?id=7 ok"), "url=<*> ok");
    assert_eq!(mask("mail to bob@example.com failed"), "mail to <*> failed");
    assert_eq!(mask("opened /var/log/messages,"), "opened <*>,");
    assert_eq!(mask("id deadbeefcafe ok"), "id <*> ok");
    assert_eq!(mask("onExtend:1234 5 6"), "onExtend:<*> <*>");
    assert_eq!(mask("addr fe80::1%eth0 up"), "addr <*> up");
    assert_eq!(
        mask("request 123e4567-e89b-12d3-a456-426614174000 done"),
        "request <*> done"
    );
    assert_eq!(mask("at Mon Jun 14 15:16:01 2005 now"), "at <*> now");
    assert_eq!(mask("flag=true enabled"), "flag=<*> enabled");
    // logfmt's message is text, not a value.
    assert_eq!(
        mask(r#"level=info msg="StartContainer for x" id=7"#),
        r#"level=<*> msg="StartContainer for x" id=<*>"#
    );
    assert!(!looks_like_name(r#"msg="StartContainer"#));
}

#[test]
fn a_name_before_an_address_is_one_value() {
    assert_eq!(mask("alice/203.0.113.5:51234 VERIFY OK"), "<*> VERIFY OK");
    assert_eq!(
        mask("HIER_DIRECT/10.0.0.1 hit/200"),
        "HIER_DIRECT/<*> hit/<*>"
    );
    assert_eq!(mask("GET / HTTP/1.1"), "GET / HTTP/<*>");
}

#[test]
fn mac_and_ipv6_addresses_are_masked_whole() {
    assert_eq!(mask("from ef:4f:51:af:a0:18 via eth0"), "from <*> via <*>");
    assert_eq!(mask("peer abcd:ef01::2 up"), "peer <*> up");
    assert_eq!(mask("onExtend:42 done"), "onExtend:<*> done");
}

#[test]
fn a_word_before_a_number_stays() {
    assert_eq!(mask("hit/200 5940 ok"), "hit/<*> <*> ok");
    assert_eq!(
        mask("TCP_MISS/404 DIRECT/10.0.0.1"),
        "TCP_MISS/<*> DIRECT/<*>"
    );
    assert_eq!(mask("via HTTP/1.1,"), "via HTTP/<*>,");
    // Paths and names with digits before the slash stay whole variables.
    assert_eq!(mask("on Gi1/0/7 and /dev/sda1"), "on <*> and <*>");
    assert_eq!(mask("md/raid1:md127: failed"), "<*>: failed");
}

#[test]
fn a_keyed_quoted_value_of_several_words_is_one_value() {
    assert_eq!(
        mask(r#"assigned vehicle="Tesla Model X" eta_s=40"#),
        mask(r#"assigned vehicle="Kia" eta_s=40"#)
    );
    assert_eq!(
        mask(r#"assigned vehicle="Tesla Model X" eta_s=40"#)
            .matches(' ')
            .count(),
        2
    );
    assert_eq!(
        mask(r#"closed reason="going away", code=1001"#),
        mask(r#"closed reason="normal", code=1001"#)
    );
    // logfmt's message keeps its words.
    assert_eq!(
        mask(r#"level=info msg="Started x" a=1"#)
            .matches(' ')
            .count(),
        3
    );
}

/// Session 15: a user glued before a bracketed key is a value.
#[test]
fn a_name_before_a_bracketed_key_is_a_value() {
    assert_eq!(mask("by alice(uid=1000)"), "by <*>(uid=<*>)");
    assert_eq!(mask("by www-data(uid=33)"), "by <*>(uid=<*>)");
    assert_eq!(mask("by (uid=0)"), "by (uid=<*>)");
    assert_eq!(
        mask("TruncationState(offset=5, done)"),
        "TruncationState(offset=<*>, done)"
    );
}

/// Session 17: an unquoted value of several words runs to the next key.
#[test]
fn an_unquoted_value_runs_to_the_next_key() {
    assert_eq!(
        mask("request failed method=GET error=dns failure retry=2"),
        "request failed method=<*> error=<*> retry=<*>"
    );
    assert_eq!(
        mask("uncaught exception thread=OkHttp Dispatcher type=java.io.IOException"),
        "uncaught exception thread=<*> type=<*>"
    );
    // Not after a value that a comma ends, nor at the end of the
    // message, nor over more than three words.
    assert_eq!(
        mask("conflict local=3, keeping remote copy=1"),
        "conflict local=<*>, keeping remote copy=<*>"
    );
    assert_eq!(
        mask("sync done count=3 keeping local"),
        "sync done count=<*> keeping local"
    );
    assert_eq!(
        mask("a=1 one two three four b=2"),
        "a=<*> one two three four b=<*>"
    );
}

/// Session 18: an upper-case word after a lower-case key's value is
/// the event's name (a directory server's operations), not a word of
/// the value; after an upper-case key's it is a flag, a value's word.
#[test]
fn an_upper_case_word_after_a_lower_case_key_ends_its_value() {
    assert_eq!(
        mask("conn=1042 op=3 SRCH scope=2 deref=0"),
        "conn=<*> op=<*> SRCH scope=<*> deref=<*>"
    );
    assert_eq!(
        mask("conn=1042 fd=17 ACCEPT from IP=10.0.0.5:4012"),
        "conn=<*> fd=<*> ACCEPT from IP=<*>"
    );
    assert_eq!(
        mask("blocked ID=0 DF PROTO=TCP RES=0x00 ACK RST URGP=0"),
        "blocked ID=<*> PROTO=<*> RES=<*> URGP=<*>"
    );
    // A capitalised word still continues one (`status=201 Created`).
    assert_eq!(
        mask("uploaded status=201 Created token=ab12"),
        "uploaded status=<*> token=<*>"
    );
}

#[test]
fn a_key_opens_with_no_digit() {
    assert_eq!(mask("Error: 0x8007a1b2[gle=0x00000005]"), "Error: <*>]");
}

#[test]
fn quoted_strings_are_one_token() {
    assert_eq!(
        mask(r#"agent "Mozilla/5.0 (X11; Linux x86_64)" sent "GET / HTTP/1.1", ok"#),
        r#"agent "<*>" sent "<*>", ok"#
    );
    assert_eq!(mask("component 'alt0' is 'in"), "component '<*>' is 'in");
    assert_eq!(mask("say \"hi\""), "say \"<*>\"");
}

#[test]
fn a_quoted_message_keeps_its_words() {
    assert_eq!(
        mask(r#""SyncLoop ADD" source="api" pods=["a/b-1"]"#),
        r#""SyncLoop ADD" source=<*>" pods=<*>"]"#
    );
    // Later quoted strings are values.
    assert_eq!(mask(r#"said "SyncLoop ADD" ok"#), r#"said "<*>" ok"#);
    // An escaped quote does not end a quoted string.
    assert_eq!(
        mask(r#"err "failed to \"Start\" for \"web\" now" ok"#),
        r#"err "<*>" ok"#
    );
}

/// Session 19: a quoted value runs to its closing quote, whatever
/// punctuation ends it inside.
#[test]
fn a_quoted_value_runs_to_its_closing_quote() {
    assert_eq!(
        mask(r#"id=7, subject="(private)", UID=x"#),
        mask(r#"id=7, subject="Dentist", UID=x"#)
    );
    assert_eq!(mask(r#"subject="(private)","#), r#"subject=<*>","#);
}

/// Session 19: in a message printed inside quotes (logfmt's and
/// logrus's `msg="..."`), an escaped quote frames a value of one word or
/// several as a quote does elsewhere.
#[test]
fn an_escaped_quote_frames_a_value_in_a_quoted_message() {
    let one = mask(r#""Using Device \"FileStorage\" to write.""#);
    assert_eq!(one, r#""Using Device \"<*>\" to write.""#);
    assert_eq!(mask(r#""Using Device \"LTO-7 Drive 1\" to write.""#), one);
    // An escaped quote that opens the message is its text, never one
    // value (its words are masked one by one, as before).
    assert!(!mask(r#"\"SyncLoop ADD\" source=\"api\""#).starts_with(r#"\"<*>\""#));
    assert_eq!(
        mask(r#""on device \"Offsite NAS Dev\" (/a/b.so).""#),
        r#""on device \"<*>\" (<*>).""#
    );
}

#[test]
fn hex_byte_dumps_are_masked_whole() {
    assert_eq!(
        mask("CDB: Read (10) 00 e2 bb af 00 ok"),
        "CDB: Read (<*>) <*> ok"
    );
    assert_eq!(mask("we be ad ok"), "we be ad ok");
    assert_eq!(mask("port 80 is up"), "port <*> is up");
}

#[test]
fn lists_of_values_are_one_token() {
    assert_eq!(mask("parts Set(a-1, b-2, c-3) ok"), "parts Set(<*>) ok");
    assert_eq!(mask("parts Set(a-1) ok"), "parts Set(<*>) ok");
    assert_eq!(mask("ids [1, 2, 3], done"), "ids [<*>], done");
    // Keyed values stay apart.
    assert_eq!(mask("a=1, b=2"), "a=<*>, b=<*>");
    assert_eq!(mask("x=1, 2"), "x=<*>, <*>");
    assert_eq!(mask("on eth0, 10.0.0.1#53"), "on <*>, <*>");
    assert_eq!(mask(r#"keys ["a", "b", "c"]} ok"#), r#"keys [<*>]} ok"#);
    assert_eq!(mask(r#"keys ["a"]} ok"#), r#"keys [<*>]} ok"#);
    assert_eq!(mask("t ('a', 'b')"), "t (<*>)");
    assert_eq!(mask("t ('a')"), "t (<*>)");
    assert_eq!(mask("v (7, 'x')"), "v (<*>)");
}

/// Session 18: a list in braces separated by spaces is one value too
/// (a KDC's `{18 17 23}`); a bracketed time keeps its words.
#[test]
fn spaced_lists_of_values_are_one_token() {
    assert_eq!(
        mask("req (4 etypes {18 17 23}) ok"),
        "req (<*> etypes {<*>}) ok"
    );
    assert_eq!(
        mask("req (4 etypes {18 17}) ok"),
        "req (<*> etypes {<*>}) ok"
    );
    assert_eq!(mask("req (4 etypes {23}) ok"), "req (<*> etypes {<*>}) ok");
    assert_eq!(
        mask("at [22/Dec/2023:17:44:31 +0000] ok"),
        "at [<*> <*>] ok"
    );
    // Words keep their place; a closed list takes nothing more.
    assert_eq!(mask("(20 live) #e96a"), "(<*> live) <*>");
    assert_eq!(mask("{18} 17 ok"), "{<*>} <*> ok");
}

#[test]
fn names_are_told_from_words() {
    assert!(looks_like_name("nginx.service"));
    assert!(looks_like_name("www-data"));
    assert!(looks_like_name("getUserName()"));
    assert!(!looks_like_name("opened"));
    assert!(!looks_like_name("Connection"));
    assert!(looks_like_name("READ"));
    assert!(looks_like_name("SOCKS5"));
    assert!(!is_variable("SHA256"));
    assert!(is_variable("A1"));
    assert!(is_variable("ID12345"));
    assert!(!looks_like_name("read"));
    assert!(looks_like_name("IPv6LL"));
    assert!(!is_variable("DHCPv4"));
    assert!(is_variable("eth0"));
    assert!(is_variable("sda1"));
    assert!(is_variable("aB3xYzQ7pLm2RtUvWx9kLm"));
}

#[test]
fn state_values_are_told_from_words() {
    assert!(is_state_value("up"));
    assert!(is_state_value("enabled,"));
    assert!(is_state_value("(udp)"));
    assert!(!is_state_value("opened"));
    assert!(!is_state_value("UP"));
    assert!(!is_state_value("u"));
    assert!(is_state_value("On"));
    assert!(is_state_value("Disabled."));
    assert!(!is_state_value("ON"));
    assert!(!is_state_value("oN"));
}

/// Session 21: the fast path for cores of letters only gives the answer of
/// `is_variable` (the full path), and leaves every other core to it.
#[test]
fn the_letters_fast_path_agrees_with_the_full_path() {
    for word in [
        "a",
        "block",
        "Receiving",
        "RUNNING",
        "camelCase",
        "deadbeef",
        "deadbee",
        "DEADBEEF",
        "abcdefab",
        "Jun",
        "Mon",
        "jun",
        "Foo",
        "true",
        "False",
        "TRUE",
        "null",
        "None",
        "none",
        "nulls",
        "xyz",
    ] {
        assert_eq!(letters_variable(word), Some(is_variable(word)), "{word}");
    }
    // Not letters only: a digit, `=`, `:`, `/`, `.`, quotes, brackets,
    // `_`, `-`, `@`, a backslash, non-ASCII letters.
    for word in [
        "eth0",
        "SHA256",
        "IPv6LL",
        "a=b",
        "src:",
        "name:value",
        "hit/200",
        "/var",
        "nginx.service",
        "\"a",
        "a'",
        "(uid",
        "x]",
        "a_b",
        "www-data",
        "bob@x",
        "a\\b",
        "café",
        "Straße",
    ] {
        assert_eq!(letters_variable(word), None, "{word}");
    }
    assert_eq!(letters_variable("x"), Some(false));
    // Framing punctuation is set aside before the check, as before.
    assert_eq!(
        mask("failed, Jun deadbeef. (true) [block]"),
        "failed, <*> <*>. (<*>) [block]"
    );
    assert_eq!(mask("café Straße eth0"), "café Straße <*>");
}

/// Session 21: the fast path of `mask_into` for words of letters only
/// keeps a hex dump's letter bytes, collapsed wildcards, and a value that
/// runs to the next key as the full path does.
#[test]
fn the_letters_fast_path_of_a_message_keeps_every_rule() {
    assert_eq!(mask("dump 00 e2 ec ab ok"), "dump <*> ok");
    assert_eq!(mask("dump ec ab ok"), "dump ec ab ok");
    assert_eq!(mask("at Mon Jun true deadbeef now"), "at <*> now");
    assert_eq!(mask("ids {18 ab 17} ok"), "ids {<*> ab <*>} ok");
    assert_eq!(
        mask("request failed method=GET error=dns failure retry=2"),
        "request failed method=<*> error=<*> retry=<*>"
    );
}

#[test]
fn a_source_location_keeps_its_file() {
    // glog-like and Go callers, log4j's `%F:%L`, C daemons' locations: the
    // file stays, the line is a value.
    assert_eq!(
        mask("s3api_object_handlers.go:365 GetObjectHandler photos raw/a.txt"),
        "s3api_object_handlers.go:<*> GetObjectHandler photos raw/a.txt"
    );
    assert_eq!(
        mask("INFO Memtable.java:412 - Writing Memtable"),
        "INFO Memtable.java:<*> - Writing Memtable"
    );
    assert_eq!(
        mask("rocksdb: [db/db_impl/db_impl_write.cc:1431] Flushing"),
        "rocksdb: [db/db_impl/db_impl_write.cc:<*>] Flushing"
    );
    // A function after the line stays; one with a digit is part of the value.
    assert_eq!(
        mask("(ldlm_request.c:452:ldlm_cli_enqueue_fini()) failed"),
        "(ldlm_request.c:<*>:ldlm_cli_enqueue_fini()) failed"
    );
    assert_eq!(mask("main.rs:12:5 panicked"), "main.rs:<*> panicked");
    // Not a source file, or a path from the root or `..`: a value as before.
    assert_eq!(mask("line config.yaml:12 bad"), "line <*> bad");
    assert_eq!(mask("host web.example.com:8080 down"), "host <*> down");
    assert_eq!(mask("at /etc/app/auth.lua:12: nil"), "at <*>: nil");
    assert_eq!(mask("held (../Sync/SyncItem.cpp:80): 2"), "held (<*>): <*>");
}

#[test]
fn a_keyed_quote_of_several_words_in_brackets_is_one_value() {
    // wpa_supplicant's `(SSID='Pixel 7 Hotspot' freq=2412 MHz)`: a keyed
    // quoted value that opens a bracketed list of fields is one value
    // whatever its words, as `vehicle="Tesla Model 3"` is.
    let one = mask("Trying to associate with 11:22:33:44:55:66 (SSID='eduroam' freq=2412 MHz)");
    assert_eq!(one, "Trying to associate with <*> (SSID=<*>' freq=<*> MHz)");
    assert_eq!(
        mask("Trying to associate with 11:22:33:44:55:66 (SSID='Pixel 7 Hotspot' freq=5180 MHz)"),
        one
    );
    assert_eq!(
        mask("user [name=\"Jane Q Doe\" id=7]"),
        "user [name=<*>\" id=<*>]"
    );
}

#[test]
fn a_status_code_takes_its_reason_phrase() {
    // One value whatever the phrase's length (session 25, round 28).
    assert_eq!(
        mask("proxy.go:100 > 502 Bad Gateway error=\"EOF\""),
        mask("proxy.go:100 > 499 Client Closed Request error=\"EOF\"")
    );
    assert_eq!(
        mask("Completed 500 Internal Server Error in 12ms"),
        "Completed <*> in <*>"
    );
    assert_eq!(mask("Completed 200 OK in 12ms"), "Completed <*> in <*>");
    assert_eq!(mask("GET /a (404 Not Found)"), "GET <*> (<*>)");
    assert_eq!(mask("HTTP/1.1 304 Not Modified,"), "HTTP/<*> <*>,");
    // Only the code's own phrase: other words after a number stay.
    assert_eq!(mask("sent 200 Found items"), "sent <*> Found items");
    assert_eq!(mask("copied 404 Not files"), "copied <*> Not files");
    assert_eq!(mask("took 2000 OK"), "took <*> OK");
}

/// `word_len` (eight bytes at a time) ends a word where a byte loop does:
/// at every kind of whitespace, at no other control byte, past the eighth
/// byte and at the end of the text, in UTF-8 too.
#[test]
fn a_word_ends_at_the_first_whitespace_read_eight_bytes_at_a_time() {
    let bytes = [
        b' ', b'\t', b'\n', b'\x0b', b'\x0c', b'\r', b'\x01', b'\x1f', b'!', b'a', b'0', 0xc3,
        0xa9, 0x80, 0xff,
    ];
    let mut state = 7u64;
    for _ in 0..20_000 {
        let mut text = Vec::new();
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (state >> 59) as usize + (state >> 57 & 1) as usize * 9;
        for _ in 0..len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Mostly letters, whitespace and control bytes now and then.
            let pick = (state >> 33) as usize % (bytes.len() * 3);
            text.push(bytes.get(pick).copied().unwrap_or(b'a' + (pick % 26) as u8));
        }
        let expected = text
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(text.len());
        assert_eq!(word_len(&text), expected, "{text:?}");
    }
}

/// `all_letters` (eight bytes at a time) agrees with a byte test on every
/// length and on every byte value at every position.
#[test]
fn letters_are_told_eight_bytes_at_a_time() {
    for len in 0..24 {
        for at in 0..len {
            for c in 0..=255u8 {
                let mut word = vec![b'k'; len];
                word[at] = c;
                assert_eq!(
                    all_letters(&word),
                    word.iter().all(u8::is_ascii_alphabetic),
                    "{word:?}"
                );
            }
        }
    }
    assert!(all_letters(b""));
    assert!(all_letters(b"AzaZ"));
}

/// A tag of `-`-joined lower-case words ending in `:` that opens the
/// message (`pop3-login:`) is the program's, kept though it holds a digit;
/// a host (`web-01:`), an interface (`eth0:`) or such a word later in the
/// message is masked as before.
#[test]
fn a_program_tag_with_a_digit_that_opens_the_message_is_kept() {
    assert_eq!(
        mask("pop3-login: Login: user=<bob>, rip=10.0.0.1"),
        "pop3-login: Login: user=<*>>, rip=<*>"
    );
    assert_eq!(mask("imap-login: Login:"), "imap-login: Login:");
    assert_eq!(mask("web-01: link down"), "<*>: link down");
    assert_eq!(mask("eth0: Gained carrier"), "<*>: Gained carrier");
    assert_eq!(mask("node-a2-x: ok"), "node-a2-x: ok");
    assert_eq!(mask("service pop3-login: ok"), "service <*>: ok");
    assert_eq!(mask("pop3-login ok"), "<*> ok");
    assert!(!is_program_tag("Pop3-login:"));
    assert!(!is_program_tag("pop3--login:"));
    assert!(!is_program_tag("pop3:"));
}

/// A distinguished name printed without quotes whose part holds a space
/// (`ou=service accounts`) is one value, as one without a space is; a
/// word with a `,` before a key that follows no field, or a plain field
/// after one, is masked as before (`dn.rs`).
#[test]
fn a_distinguished_name_with_a_space_is_one_value() {
    assert_eq!(
        mask("Bind with uid=guest,ou=service accounts,dc=example,dc=com to ldap://h:389 failed"),
        "Bind with uid=<*> to <*> failed"
    );
    assert_eq!(
        mask("Bind with uid=guest,ou=people,dc=example,dc=com to ldap://h:389 failed"),
        "Bind with uid=<*> to <*> failed"
    );
    assert_eq!(
        mask("subject CN=Jane Q Doe,OU=Sales,O=Acme accepted"),
        "subject CN=<*> accepted"
    );
    assert_eq!(mask("seen accounts,dc=x here"), "seen accounts,dc=<*> here");
    assert_eq!(mask("user=bob role=admin done"), "user=<*> role=<*> done");
    assert_eq!(
        mask("uid=a,ou=b c,dc=com: failed"),
        "uid=<*> c,dc=<*>: failed"
    );
}

/// A quoted value of several words after a key and `:` (protobuf's text
/// format, `Reason:"Half Target 60% Threshold"`) is one value, as after
/// `=`; a `name:value` of one word is kept as before.
#[test]
fn a_quoted_value_after_a_keys_colon_is_one_value() {
    assert_eq!(
        mask(r#"Tgt:12 Reason:"Half Target 60% Threshold" Decay 0.99:"#),
        r#"Tgt:<*> Reason:"<*>" Decay <*>:"#
    );
    assert_eq!(
        mask(r#"Tgt:12 Reason:"Conservative Double Target longer horizon" Decay 0.5:"#),
        r#"Tgt:<*> Reason:"<*>" Decay <*>:"#
    );
    assert_eq!(mask(r#"status:"ok" done"#), r#"status:"ok" done"#);
    assert_eq!(mask("state:running now"), "state:running now");
}

/// A quoted string of several words that ends with an error's code in
/// brackets is the error's text and its code: its words are kept, the
/// code masked (`codes.rs`); a name in quotes with a word in brackets,
/// or one word before a code, is one value as before.
#[test]
fn a_quoted_error_text_with_its_code_keeps_its_words() {
    assert_eq!(
        mask("Program returned code (1) and output 'Logon failure (0xc000006d)'"),
        "Program returned code (<*>) and output 'Logon failure (<*>)'"
    );
    assert_eq!(
        mask("output 'Account locked out (0xc0000234)' now"),
        "output 'Account locked out (<*>)' now"
    );
    assert_eq!(
        mask(r#"on host "File Server (Berlin)" failed"#),
        r#"on host "<*>" failed"#
    );
    assert_eq!(mask("output 'Timeout (5)' now"), "output '<*>' now");
}

/// Values joined by `/` before a key hold no key: the word is one value
/// (session 28, round 39); a key after words with no digit stays.
#[test]
fn values_before_a_key_make_one_value() {
    assert_eq!(
        mask("SSL established: TLSv1.2/ECDHE-RSA-AES256-GCM-SHA384/ECDH=prime256v1"),
        "SSL established: <*>"
    );
    assert_eq!(
        mask("SSL established: TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519"),
        "SSL established: <*>"
    );
    assert_eq!(mask("login tls=TLSv1.3/TLS_AES"), "login tls=<*>");
    assert_eq!(mask("opts a/b=7"), "opts a/b=<*>");
}
