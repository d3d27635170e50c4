//! Syslog's TCP framing (octet-counting `<len> <msg>` and newline-separated,
//! mixed on one stream): never panics, never hands on a message longer than
//! the limit, and never accounts for more bytes than the stream had.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const MAX_LINE: usize = 256;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let frames = runtime().block_on(anomalog_ingest::fuzzing::syslog_frames(data, MAX_LINE));
    let mut read = 0usize;
    for frame in frames {
        match frame {
            Ok(len) => {
                assert!(len <= MAX_LINE, "a {len}-byte message passed the limit");
                read += len;
            }
            Err(skipped) => read += skipped,
        }
    }
    assert!(read <= data.len(), "{read} bytes framed from {}", data.len());
});
