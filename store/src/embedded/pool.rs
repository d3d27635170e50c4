//! The threads that own the embedded store's connections: each connection
//! lives on one thread of its own for the store's life, and work reaches it
//! as a closure over a channel.
//!
//! Before, every call ran on tokio's blocking pool behind a mutex. Tokio
//! hands blocking tasks to whichever idle thread wakes, so a sustained load
//! spread the store's work over seventeen threads, each keeping its own
//! allocator heap of freed blocks (mimalloc retains freed memory per thread
//! for a second): peak RSS at 200k events/s was about 300 MiB. A call here
//! also no longer takes a second blocking thread to wait on the mutex.
//!
//! A pool of several threads shares one channel: a read waits in it while
//! every reader is busy, and one long query (a `q` scan over every log)
//! holds one reader while the others proceed (SQLite in WAL mode reads
//! concurrently with the writer and with other readers).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::StoreError;

/// Read connections of one store.
pub const READERS: usize = 4;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Threads each owning one connection, taking jobs from one channel.
pub(super) struct Connections {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Connections {
    /// Starts a thread named `name` for each of `conns`.
    pub(super) fn spawn(name: &str, conns: Vec<Connection>) -> Result<Connections, StoreError> {
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::with_capacity(conns.len());
        for conn in conns {
            let receiver = Arc::clone(&receiver);
            let thread = std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || serve(conn, &receiver))
                .map_err(|e| StoreError::Backend(format!("cannot start a {name} thread: {e}")))?;
            threads.push(thread);
        }
        Ok(Connections {
            jobs: Some(jobs),
            threads,
        })
    }

    /// Runs `f` on the next free connection and returns what it returns. A
    /// panic in `f` is an error of this call only: the connection (whose
    /// open transaction the unwinding rolled back) serves the next.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|panic| Err(StoreError::Backend(panicked(&*panic))));
            // The caller may have stopped waiting (a cancelled request).
            let _ = reply.send(result);
        });
        let stopped = || StoreError::Backend("storage thread stopped".into());
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for Connections {
    /// Lets the threads finish the jobs sent and close their connections
    /// before the store is gone (a store opened again on the same directory
    /// right after finds them closed).
    fn drop(&mut self) {
        drop(self.jobs.take());
        let me = std::thread::current().id();
        for thread in self.threads.drain(..) {
            // Never wait for the thread this drop runs on.
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}

fn serve(mut conn: Connection, jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held while waiting, so one waiting thread takes the
        // next job and the others queue behind it; it is released before
        // the job runs.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut conn),
            Err(_) => return,
        }
    }
}

fn panicked(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    format!("storage task panicked: {what}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::{Connections, READERS};
    use crate::EventQueue;
    use crate::embedded::EmbeddedStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn busy_readers_never_block_the_health_read_and_run_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        // Every reader held by a read that waits for a release.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
        let mut held = Vec::new();
        for _ in 0..READERS {
            let (store, wait, started_tx) = (store.clone(), wait.clone(), started_tx.clone());
            held.push(tokio::spawn(async move {
                store
                    .read(move |conn| {
                        conn.query_row("SELECT 1", [], |_| Ok(())).unwrap();
                        started_tx.send(()).unwrap();
                        let _ = wait.lock().unwrap().recv();
                        Ok(())
                    })
                    .await
            }));
        }
        for _ in 0..READERS {
            started.recv().await.unwrap();
        }
        // All readers busy at once: they run side by side, and the health
        // read (queue backlog) answers on its own connection.
        let backlog = tokio::time::timeout(Duration::from_secs(5), store.backlog()).await;
        assert_eq!(backlog.expect("health read blocked").unwrap(), 0);
        // One more read waits for a free reader ...
        let extra = tokio::spawn({
            let store = store.clone();
            async move { store.read(|_| Ok(7)).await }
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(200), async {
                while !extra.is_finished() {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .is_err(),
            "a read ran without a free reader"
        );
        // ... and runs once one is released.
        for _ in 0..READERS {
            release.send(()).unwrap();
        }
        for h in held {
            h.await.unwrap().unwrap();
        }
        assert_eq!(extra.await.unwrap().unwrap(), 7);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_fails_its_call_and_rolls_back_and_the_connection_serves_on() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let pool = Connections::spawn("test-writer", vec![conn]).unwrap();
        let err = pool
            .run(|conn| -> Result<(), crate::StoreError> {
                let tx = conn.transaction().unwrap();
                tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
                panic!("boom");
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("panicked: boom"), "{err}");
        let rows: i64 = pool
            .run(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(rows, 0, "the panicking call's insert was rolled back");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_call_runs_on_the_one_thread_that_owns_the_connection() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let pool = Connections::spawn("test-one", vec![conn]).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let id = pool
                .run(|_| Ok(format!("{:?}", std::thread::current().id())))
                .await
                .unwrap();
            seen.insert(id);
        }
        assert_eq!(seen.len(), 1, "{seen:?}");
        drop(pool);
    }
}
