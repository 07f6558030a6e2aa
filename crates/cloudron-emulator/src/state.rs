//! The emulator's shared state: the estate behind a mutex, the fault rules, the request log,
//! and the signals that tie background work to it (a generation counter bumped by
//! `POST /__lab/reset`, a "dirty" notification for the state writer, the shutdown signal).
//!
//! No HTTP here; handlers and task runners go through these methods.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Notify, watch};

use super::faults::Faults;
use super::model::Estate;
use super::seed;

/// Most requests kept in the log (oldest dropped first).
const REQUEST_LOG_CAP: usize = 100_000;

/// One request as `GET /__lab/requests` shows it. `status` is `null` for a dropped connection.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub seq: u64,
    pub time: String,
    pub method: String,
    /// The path without query string (so never a token).
    pub path: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
}

/// Everything the server, handlers and task runners share.
pub struct Shared {
    estate: Mutex<Estate>,
    faults: Mutex<Faults>,
    requests: Mutex<Vec<RequestRecord>>,
    next_seq: AtomicU64,
    generation: AtomicU64,
    /// Notified after each change, for the state writer.
    pub dirty: Notify,
    /// How long a task takes from start to end.
    pub task_duration: Duration,
    pub started: Instant,
    /// Print a line per request on stderr (the `serve-cloudron` command's log).
    pub log_requests: bool,
    shutdown: watch::Sender<bool>,
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it (the emulator's data
/// stays usable: every mutation is a complete assignment).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn new(estate: Estate, task_duration: Duration, log_requests: bool) -> Self {
        let (shutdown, _) = watch::channel(false);
        Shared {
            estate: Mutex::new(estate),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Vec::new()),
            next_seq: AtomicU64::new(1),
            generation: AtomicU64::new(0),
            dirty: Notify::new(),
            task_duration,
            started: Instant::now(),
            log_requests,
            shutdown,
        }
    }

    /// Read the estate.
    pub fn read(&self) -> MutexGuard<'_, Estate> {
        lock(&self.estate)
    }

    /// Change the estate and schedule a save.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut Estate) -> R) -> R {
        let r = f(&mut lock(&self.estate));
        self.dirty.notify_one();
        r
    }

    /// Change the estate only if it is still the one of generation `gen` (not reset since).
    pub fn mutate_if_current<R>(&self, gen_: u64, f: impl FnOnce(&mut Estate) -> R) -> Option<R> {
        let mut e = lock(&self.estate);
        if self.generation.load(Ordering::SeqCst) != gen_ {
            return None;
        }
        let r = f(&mut e);
        drop(e);
        self.dirty.notify_one();
        Some(r)
    }

    /// Like [`Shared::mutate_if_current`] for changes not worth saving (task progress).
    pub fn touch_if_current<R>(&self, gen_: u64, f: impl FnOnce(&mut Estate) -> R) -> Option<R> {
        let mut e = lock(&self.estate);
        if self.generation.load(Ordering::SeqCst) != gen_ {
            return None;
        }
        Some(f(&mut e))
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Put the estate back to its seed (same token), drop faults and the request log.
    /// Running tasks belong to the old generation and stop touching anything.
    pub fn reset(&self) {
        let mut e = lock(&self.estate);
        let fresh = seed::build(&e.seed, e.extra_apps, e.token.clone());
        *e = fresh;
        self.generation.fetch_add(1, Ordering::SeqCst);
        drop(e);
        self.faults().clear();
        lock(&self.requests).clear();
        self.dirty.notify_one();
    }

    /// Append a request to the log.
    pub fn record(
        &self,
        method: &str,
        path: &str,
        status: Option<u16>,
        duration: Duration,
    ) -> RequestRecord {
        let rec = RequestRecord {
            seq: self.next_seq.fetch_add(1, Ordering::SeqCst),
            time: super::http::now_iso(),
            method: method.to_string(),
            path: path.to_string(),
            status,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        };
        let mut log = lock(&self.requests);
        if log.len() >= REQUEST_LOG_CAP {
            log.remove(0);
        }
        log.push(rec.clone());
        rec
    }

    /// The request log, oldest first, from sequence number `since` (exclusive).
    pub fn requests(&self, since: u64) -> Vec<RequestRecord> {
        lock(&self.requests)
            .iter()
            .filter(|r| r.seq > since)
            .cloned()
            .collect()
    }

    /// A receiver that turns true when the emulator shuts down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Tell the server, the writer and task runners to stop.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// True once [`Shared::shut_down`] was called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
