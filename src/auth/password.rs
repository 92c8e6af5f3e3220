//! argon2id with the OWASP minimum parameters (m = 19 MiB, t = 2, p = 1),
//! hashed off the async runtime, at most one hash per core at a time: a
//! flood of logins queues here instead of taking 19 MiB per attempt at once.
//!
//! Hashes run on threads of their own at a lower scheduling priority
//! (`nice` 10): when the machine is idle they run at full speed, and under
//! a flood of logins the cores go to answering everyone else first (on two
//! cores, two hashes at normal priority tripled the board's p99).

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{Semaphore, oneshot};

/// Hashing failed (the worker panicked, or argon2 refused its input).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(cores()));

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue; the threads start with the first hash.
static WORKERS: LazyLock<SyncSender<Job>> = LazyLock::new(|| {
    let (sender, receiver) = sync_channel::<Job>(cores());
    let receiver = std::sync::Arc::new(Mutex::new(receiver));
    for n in 0..cores() {
        let receiver = receiver.clone();
        let started = std::thread::Builder::new().name(format!("password-hash-{n}")).spawn(move || work(&receiver));
        if let Err(err) = started {
            tracing::error!(%err, "could not start a password hashing thread");
        }
    }
    sender
});

fn work(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let next = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match next {
            // A panicking job drops its reply (its caller gets an error);
            // the thread goes on.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// This thread only (Linux schedules threads one by one); a failure leaves
/// it at normal priority, which is how hashing ran before.
fn lower_priority() {
    #[cfg(unix)]
    // SAFETY: `nice` only changes the calling thread's scheduling priority.
    unsafe {
        libc::nice(HASHING_NICENESS);
    }
}

/// How much lower than requests hashing runs (the `nice` scale: 0 normal, 19 lowest).
const HASHING_NICENESS: i32 = 10;

/// Runs `f` on a hashing thread, once a permit says it may.
async fn on_hashing_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    let _permit = HASHING.acquire().await.map_err(|e| HashError(e.to_string()))?;
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(f());
    });
    // The permit bounds the jobs in flight to the channel's capacity, so
    // this never waits on a full queue.
    WORKERS.try_send(job).map_err(|e| HashError(e.to_string()))?;
    result.await.map_err(|e| HashError(e.to_string()))
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

pub async fn hash(password: String) -> Result<String, HashError> {
    on_hashing_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(|e| HashError(e.to_string()))
}

pub async fn verify(password: String, stored: String) -> bool {
    on_hashing_thread(move || {
        PasswordHash::new(&stored).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password: verifying against it costs as much as a
/// real check, so an unknown email takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret: [u8; 16] = rand::random();
        hasher().hash_password(&secret, &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".to_owned()).await.expect("hashed");
        assert!(verify("correct horse battery".to_owned(), stored.clone()).await);
        assert!(!verify("wrong horse battery".to_owned(), stored).await);
        assert!(!verify("anything".to_owned(), "not a hash".to_owned()).await);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn hashing_runs_below_the_requests_priority() {
        // SAFETY: reads the calling thread's scheduling priority.
        let own = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let worker = on_hashing_thread(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }).await.expect("ran");
        assert_eq!(worker, (own + HASHING_NICENESS).min(19));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_threads_go_on() {
        let failed = on_hashing_thread(|| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        for _ in 0..cores() * 2 {
            assert_eq!(on_hashing_thread(|| 7).await.expect("still running"), 7);
        }
    }
}
