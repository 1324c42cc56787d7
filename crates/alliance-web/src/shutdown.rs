//! Graceful shutdown: on SIGTERM (what an orchestrator or `docker stop` sends) or Ctrl-C the
//! server stops accepting connections, lets the requests in flight finish, and returns; if
//! some are still running after [`GRACE`], it returns anyway so the process exits in bounded
//! time (an orchestrator would kill it soon after).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// How long requests in flight are given to finish after the signal.
pub const GRACE: Duration = Duration::from_secs(30);

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Runs `serve` (built with [`axum::serve::Serve::with_graceful_shutdown`] on the future
/// `make` is given) until it has drained, or until [`GRACE`] after the signal.
pub async fn run_until_signal<F, S>(make: F) -> std::io::Result<()>
where
    F: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> S,
    S: Future<Output = std::io::Result<()>>,
{
    let signalled = Arc::new(Notify::new());
    let notify = signalled.clone();
    let stop = Box::pin(async move {
        signal().await;
        tracing::info!(
            "stopping: no new connections; finishing the requests in flight (at most {} s)",
            GRACE.as_secs()
        );
        notify.notify_one();
    });
    let serve = make(stop);
    tokio::select! {
        result = serve => {
            tracing::info!("stopped");
            result
        }
        () = async { signalled.notified().await; tokio::time::sleep(GRACE).await } => {
            tracing::warn!("requests still in flight {} s after the signal: stopping anyway", GRACE.as_secs());
            Ok(())
        }
    }
}
