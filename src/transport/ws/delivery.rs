//! The threads that write live events to sockets.
//!
//! A change fanned out to a thousand subscribers is a thousand small tasks
//! (a forwarder and a writer per connection). On the request runtime they
//! queued ahead of everything woken after them: a mutation waiting for its
//! next database answer waited behind a whole fan-out, while holding the
//! journal lock every other mutation needed. Forwarders and writers run
//! here instead, on threads of their own (half the cores, one on two): the
//! operating system shares the cores between them and the request runtime,
//! so a burst of events delays requests by at most its share, and never
//! for a whole fan-out.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();

/// Runs `task` on the delivery threads (on the caller's runtime if they
/// could not be started). Their runtime lives as long as the process: it is
/// never dropped, so never dropped inside an async context.
pub fn spawn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = RUNTIME.get_or_init(|| {
        // Half the cores (one on two): deliveries never take every core
        // from the requests, and still grow with the machine.
        let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
        let built =
            Builder::new_multi_thread().worker_threads(threads).thread_name("live-delivery").enable_all().build();
        built.map_err(|err| tracing::warn!(%err, "no delivery thread; live events share the request runtime")).ok()
    });
    match runtime {
        Some(runtime) => runtime.spawn(task),
        None => tokio::spawn(task),
    }
}
