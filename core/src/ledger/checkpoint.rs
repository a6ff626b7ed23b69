//! WAL checkpoints off the scan path.
//!
//! With SQLite's automatic checkpoint, the commit that happens to cross the WAL's
//! size threshold copies a thousand pages into the database file and syncs it before
//! returning: that one scan waits many times longer than the others. The station
//! instead checkpoints from a named background thread with its own connection, in
//! PASSIVE mode (it never blocks a writer), and leaves SQLite's automatic checkpoint
//! only as a far-off backstop. Durability is unchanged: a commit is durable once its
//! WAL frames are synced, checkpoint or not.

use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the background thread checkpoints.
const EVERY: Duration = Duration::from_millis(200);

/// The backstop: SQLite checkpoints by itself only if the WAL passes this many pages
/// (about 64 MB), i.e. if the background thread has stopped.
pub(crate) const AUTOCHECKPOINT_BACKSTOP_PAGES: i64 = 16_384;

/// The running checkpoint thread; stops and joins when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the ledger at `path`. Failing to start is not fatal:
    /// SQLite's own (backstop) checkpoint still runs.
    pub(crate) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = match Connection::open(path) {
            Ok(c) => c,
            Err(e) => {
                log::warn!("no background checkpoints ({e}); SQLite's own will run");
                return None;
            }
        };
        let _ = conn.busy_timeout(Duration::from_millis(50));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || {
                let mut next = Instant::now() + EVERY;
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() >= next {
                        if let Err(e) =
                            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        {
                            log::debug!("checkpoint: {e}");
                        }
                        next = Instant::now() + EVERY;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
            .ok()?;
        Some(Checkpointer {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
