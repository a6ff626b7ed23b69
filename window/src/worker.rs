//! The ledger on its own thread, for the desktop application.
//!
//! A window must never wait on a disk: every ledger call is sent as a job to one
//! named thread that owns the ledger, and its answer comes back as an iced task.
//! Jobs run in the order sent, so scans that arrive while another commits are queued,
//! never dropped, and two scans can never race each other.

use iced::Task;
use iced::futures::channel::oneshot;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};

use ballot_intake_core::ledger::{Ledger, LedgerError};

type Job = Box<dyn FnOnce(&mut Ledger) + Send>;

/// A handle to the ledger thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct LedgerWorker {
    jobs: Sender<Job>,
    /// The ledger file, for work that opens a connection of its own (an import, so
    /// that scans keep their turn on this thread).
    path: PathBuf,
}

impl LedgerWorker {
    /// Opens the ledger at `path` on a new thread; returns once it is open (or could
    /// not be), so that a window never opens on a ledger it cannot write.
    pub fn open(path: &Path) -> Result<LedgerWorker, LedgerError> {
        let (jobs, queue) = channel::<Job>();
        let (ready_tx, ready) = channel();
        let path = path.to_path_buf();
        let opened = path.clone();
        std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || {
                let mut ledger = match Ledger::open(&opened) {
                    Ok(l) => {
                        let _ = ready_tx.send(Ok(()));
                        l
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                for job in queue {
                    job(&mut ledger);
                }
            })
            .map_err(|e| LedgerError::Sqlite(format!("cannot start the ledger thread: {e}")))?;
        ready.recv().map_err(|_| LedgerError::Stopped)??;
        Ok(LedgerWorker { jobs, path })
    }

    /// The ledger file this thread holds open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the ledger thread and hands its result to `reply` there (for
    /// work whose answer is a stream, like an import's progress).
    /// Returns false if the ledger thread is gone.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Ledger) -> T + Send + 'static,
        reply: impl FnOnce(T) + Send + 'static,
    ) -> bool {
        self.jobs
            .send(Box::new(move |ledger| reply(f(ledger))))
            .is_ok()
    }

    /// `f` on the ledger thread as a task whose output is its result: how a screen
    /// asks the ledger anything. If the ledger thread is gone the output is
    /// [`LedgerError::Stopped`], so the screen says NOT RECORDED rather than waiting.
    pub fn task<T, E>(
        &self,
        f: impl FnOnce(&mut Ledger) -> Result<T, E> + Send + 'static,
    ) -> Task<Result<T, E>>
    where
        T: Send + 'static,
        E: From<LedgerError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.run(f, move |r| {
            let _ = tx.send(r);
        });
        Task::perform(rx, |r| {
            r.unwrap_or_else(|_| Err(E::from(LedgerError::Stopped)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballot_intake_core::barcode::CheckDigit;
    use ballot_intake_core::ledger::{NewElection, StationSetup};

    #[test]
    fn jobs_run_in_order_on_the_ledger_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite3");
        Ledger::create(
            &path,
            &StationSetup {
                station_id: "S1".into(),
                county: "C".into(),
                timezone: "America/Denver".into(),
                election: NewElection {
                    election_id: "E".into(),
                    name: "E".into(),
                    date: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
                    check_digit: CheckDigit::None,
                },
                demo: false,
            },
        )
        .unwrap();
        let worker = LedgerWorker::open(&path).unwrap();
        let (tx, rx) = channel();
        for i in 0..50 {
            let tx = tx.clone();
            assert!(worker.run(
                move |l| (i, l.station().station_id.clone()),
                move |r| tx.send(r).unwrap()
            ));
        }
        let got: Vec<(i32, String)> = (0..50).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        assert!(LedgerWorker::open(&dir.path().join("missing.sqlite3")).is_err());
    }
}
