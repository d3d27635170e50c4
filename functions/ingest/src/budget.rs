//! What one request may take of the process while it is read, decoded and
//! parsed: bytes from the in-flight budget (`ingest.max_inflight_bytes`),
//! and a CPU slot for the decompression and parsing themselves.
//!
//! Decoding runs off the async workers, but the operating system shares the
//! cores between every thread: sixteen bodies decoding at once on two cores
//! would leave the async workers (health checks, small requests) a sliver of
//! CPU. So at most [`cpu_slots`] requests decode or parse at once, one per
//! core (fewer with `ingest.decode_threads`: [`cpu_slots_for`]); the others
//! wait (at most [`CPU_WAIT`], then 503 with Retry-After)
//! holding only their reservation.
//!
//! The work runs on threads of its own, one per core, at a lower scheduling
//! priority ([`DECODE_NICE_STEPS`] below the process's, Linux): when the
//! cores are busy, the async workers (health checks, reads, small requests)
//! and detect get a core first. That priority, not a core kept idle, is what
//! keeps them answering: with one slot fewer than the cores (sessions 12-18)
//! a two-core machine decoded on one core, and ingest into Redis stopped at
//! about 420k events/s with most of a core idle (docs/benchmarks.md,
//! session 19).

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use anomalog_core::config::IngestConfig;

use crate::{INFLIGHT_WAIT, IngestError};

/// Longest a request waits for a CPU slot before it is answered busy.
pub const CPU_WAIT: Duration = Duration::from_secs(5);

/// Requests decoding or parsing at once by default: one per core.
pub fn cpu_slots() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The CPU slots for `ingest.decode_threads`: [`cpu_slots`] for 0, else
/// that many, at most one per core (the decode threads are one per core).
pub fn cpu_slots_for(decode_threads: usize) -> usize {
    match decode_threads {
        0 => cpu_slots(),
        n => n.min(cpu_slots()),
    }
}

/// Reserves what a request with `headers` may take in memory: the body on
/// the wire, plus what decoding and parsing make of it (the decoded limit
/// when compressed, about the body again when not). `None` when the budget
/// did not free up within [`INFLIGHT_WAIT`].
pub(crate) async fn reserve(
    inflight: &Arc<Semaphore>,
    headers: &HeaderMap,
    config: &IngestConfig,
) -> Option<OwnedSemaphorePermit> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(config.max_body_bytes, |n| n.min(config.max_body_bytes));
    let compressed = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("identity"));
    let expansion = if compressed {
        config.max_decoded_bytes.saturating_mul(2)
    } else {
        declared.saturating_mul(2)
    };
    let budget = config.max_inflight_bytes.min(Semaphore::MAX_PERMITS);
    let weight = declared.saturating_add(expansion).clamp(1, budget);
    let permits = u32::try_from(weight).unwrap_or(u32::MAX);
    let reserve = Arc::clone(inflight).acquire_many_owned(permits);
    match tokio::time::timeout(INFLIGHT_WAIT, reserve).await {
        Ok(Ok(permit)) => Some(permit),
        _ => None,
    }
}

/// How much nicer the decode threads are than the thread that started them
/// (nice values go up to 19, the lowest priority). Linux schedules by
/// thread, so only they yield.
pub const DECODE_NICE_STEPS: i32 = 10;

/// The nice value of a decode thread started by a thread of nice `nice`.
pub fn decode_nice(nice: i32) -> i32 {
    nice.saturating_add(DECODE_NICE_STEPS).min(19)
}

type Job = Box<dyn FnOnce() + Send>;

/// The decode threads' queue: [`cpu_slots`] threads at [`decode_nice`],
/// started on first use. `None` when none could be started.
fn decode_threads() -> Option<&'static Mutex<Sender<Job>>> {
    static THREADS: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            let mut started = 0;
            for n in 0..cpu_slots() {
                let receiver = Arc::clone(&receiver);
                let spawned = std::thread::Builder::new()
                    .name(format!("anomalog-decode-{n}"))
                    .spawn(move || run_jobs(&receiver));
                match spawned {
                    Ok(_) => started += 1,
                    Err(e) => tracing::warn!(error = %e, "decode thread not started"),
                }
            }
            (started > 0).then(|| Mutex::new(sender))
        })
        .as_ref()
}

/// A decode thread: lowers its own priority, then runs jobs until the
/// queue is gone.
fn run_jobs(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match receiver.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    let thread = Some(rustix::thread::gettid());
    let lowered = rustix::process::getpriority_process(thread)
        .and_then(|nice| rustix::process::setpriority_process(thread, decode_nice(nice)));
    if let Err(e) = lowered {
        tracing::warn!(error = %e, "decode thread keeps its priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Runs `work` on a decode thread once a CPU slot is free (on the blocking
/// pool if no decode thread could be started).
pub(crate) async fn on_cpu<T, F>(
    slots: &Arc<Semaphore>,
    config: &IngestConfig,
    work: F,
) -> Result<T, IngestError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::clone(slots).acquire_owned();
    let Ok(Ok(slot)) = tokio::time::timeout(CPU_WAIT, slot).await else {
        return Err(IngestError::Busy {
            inflight_limit: config.max_inflight_bytes,
        });
    };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        // The slot is free before the answer is: a caller that gets its
        // result finds the slot back (it raced the send before).
        drop(slot);
        let _ = done.send(outcome);
    });
    let queued = match decode_threads() {
        Some(queue) => match queue.lock() {
            Ok(queue) => queue.send(job).map_err(|refused| refused.0),
            Err(_) => Err(job),
        },
        None => Err(job),
    };
    if let Err(job) = queued {
        tokio::task::spawn_blocking(job);
    }
    match result.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(IngestError::Internal("decoding failed: it panicked".into())),
        Err(_) => Err(IngestError::Internal(
            "decoding failed: the decode thread stopped".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn decoding_runs_at_a_lower_priority_and_survives_a_panic() {
        let slots = Arc::new(Semaphore::new(1));
        let config = IngestConfig::default();
        let panicked = on_cpu(&slots, &config, || -> u8 { panic!("a decoder bug") }).await;
        assert!(matches!(panicked, Err(IngestError::Internal(_))));
        // The slot came back and a decode thread still answers, nicer than
        // this one (which may itself run under `nice`).
        #[cfg(target_os = "linux")]
        let own = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok();
        #[cfg(not(target_os = "linux"))]
        let own = || Some(0);
        let decoding = on_cpu(&slots, &config, own).await.unwrap();
        let here = own();
        #[cfg(target_os = "linux")]
        assert_eq!(decoding, here.map(decode_nice), "{here:?}");
        #[cfg(not(target_os = "linux"))]
        assert_eq!(decoding, here);
        assert_eq!(slots.available_permits(), 1);
    }

    /// Every core decodes: as many bodies as there are cores decode at
    /// once (each job waits for all the others at a barrier, which only
    /// concurrent jobs reach), and the slots all come back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn as_many_bodies_decode_at_once_as_there_are_cores() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(cpu_slots(), cores);
        assert_eq!(cpu_slots_for(0), cores);
        assert_eq!(cpu_slots_for(1), 1);
        assert_eq!(cpu_slots_for(cores + 5), cores);
        let slots = Arc::new(Semaphore::new(cpu_slots()));
        let config = IngestConfig::default();
        let barrier = Arc::new(std::sync::Barrier::new(cores));
        let jobs: Vec<_> = (0..cores)
            .map(|_| {
                let (slots, config, barrier) = (slots.clone(), config.clone(), barrier.clone());
                tokio::spawn(async move {
                    on_cpu(&slots, &config, move || {
                        barrier.wait();
                    })
                    .await
                })
            })
            .collect();
        let all = async {
            for job in jobs {
                job.await.unwrap().unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .expect("the jobs did not run at once");
        assert_eq!(slots.available_permits(), cores);
    }
}
