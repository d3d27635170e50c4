//! The read side of the embedded store: a pool of read connections, so one
//! long query (a `q` scan over every log) holds one connection and the other
//! reads proceed on the others (SQLite in WAL mode reads concurrently with
//! the writer and with other readers).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::StoreError;

/// Read connections of one store.
pub const READERS: usize = 4;

/// At most [`READERS`] reads at once, each on a connection of its own.
pub(super) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    slots: Arc<Semaphore>,
}

impl ReaderPool {
    pub(super) fn open(path: &Path, size: usize) -> Result<ReaderPool, StoreError> {
        let idle = (0..size)
            .map(|_| super::open_connection(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReaderPool {
            path: path.to_owned(),
            idle: Mutex::new(idle),
            slots: Arc::new(Semaphore::new(size)),
        })
    }

    /// Runs `f` on an idle connection, on the blocking pool; waits for one
    /// when all are busy.
    pub(super) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("reader pool closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let taken = pool
                .idle
                .lock()
                .map_err(|_| StoreError::Backend("reader pool lock poisoned".into()))?
                .pop();
            // A connection lost to a panic in an earlier read is replaced.
            let mut conn = match taken {
                Some(conn) => conn,
                None => super::open_connection(&pool.path)?,
            };
            let result = f(&mut conn);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("storage task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::READERS;
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
}
