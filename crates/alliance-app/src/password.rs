//! Passwords (used by the sign-in pages and `alliance users`): argon2id hashes (the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1, the
//! OWASP minimum), computed on a few threads of their own ([`PASSWORD_THREADS`]) so they never
//! stall the async workers; and the lockout rule.
//!
//! Why threads of their own rather than tokio's blocking pool: each argon2 computation takes
//! 19 MiB, and the C allocator keeps a freed block of that size in the arena of the thread that
//! used it. Spread over the blocking pool's many threads, a burst of sign-ins left a block in
//! every arena (the server's peak memory rose by about 500 MB under 31 parallel guesses, issue
//! 13); on four threads at most four blocks are ever held.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

/// The shortest password accepted (NCSC guidance favours length over composition rules).
pub const MIN_LENGTH: usize = 12;

/// Consecutive failures allowed before the account is locked.
pub const FAILURES_BEFORE_LOCK: i64 = 5;

/// Why a new password is refused, if it is.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!("Enter a password of at least {MIN_LENGTH} characters"));
    }
    if password.len() > 1024 {
        return Err("Enter a password of at most 1,024 characters".into());
    }
    Ok(())
}

/// The threads that compute password hashes (see the module's documentation).
pub const PASSWORD_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the password threads, started on first use.
fn password_queue() -> Option<&'static Mutex<mpsc::Sender<Job>>> {
    static QUEUE: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = mpsc::channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            let mut started = 0;
            for i in 0..PASSWORD_THREADS {
                let receiver = Arc::clone(&receiver);
                let spawned = std::thread::Builder::new().name(format!("password-{i}")).spawn(move || loop {
                    // The lock is held only while taking a job, never while running it.
                    let job = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
                started += usize::from(spawned.is_ok());
            }
            (started > 0).then(|| Mutex::new(sender))
        })
        .as_ref()
}

/// Runs `work` on a password thread (or, should none have started, on tokio's blocking pool).
async fn on_password_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    // The queue's lock is let go before anything is awaited.
    let unsent = match password_queue().and_then(|q| q.lock().ok()) {
        Some(queue) => queue.send(job).err().map(|mpsc::SendError(job)| job),
        None => Some(job),
    };
    if let Some(job) = unsent {
        tokio::task::spawn_blocking(job).await.ok()?;
    }
    result.await.ok()
}

/// Hashes a password (argon2id, random salt) as a PHC string.
pub async fn hash(password: &str) -> Result<String, String> {
    let password = password.to_string();
    on_password_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|| Err("the password threads stopped".to_string()))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub async fn verify(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_string(), stored.to_string());
    on_password_thread(move || {
        PasswordHash::new(&stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password nobody has, verified when the email is unknown so that a wrong
/// email takes as long as a wrong password (no account enumeration by timing).
pub async fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = match DUMMY.get() {
        Some(h) => h.clone(),
        None => {
            let h = hash(SaltString::generate(&mut OsRng).as_str()).await.unwrap_or_default();
            DUMMY.get_or_init(|| h).clone()
        }
    };
    let _ = verify(password, &stored).await;
}

/// How long an account is locked after `failures` consecutive failed sign-ins: nothing
/// before the 5th; then 15 minutes, doubling with each further failure (30, 60 …), at most
/// 24 hours. A successful sign-in or an administrator clears the count.
pub fn lock_minutes(failures: i64) -> Option<i64> {
    if failures < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failures - FAILURES_BEFORE_LOCK).min(10) as u32;
    Some((15i64 << doublings).min(24 * 60))
}

/// A random password for an account someone else set up (the demo administrator): four
/// groups of five lower-case letters and digits (about 103 bits), easy to copy from a terminal.
pub fn one_time() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> =
        (0..4).map(|_| (0..5).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()).collect();
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_pass_the_rules_and_differ() {
        let a = one_time();
        assert_eq!(a.len(), 23, "{a}");
        assert!(check_new_password(&a).is_ok());
        assert_ne!(a, one_time());
    }

    #[test]
    fn lockout_rule() {
        assert_eq!(lock_minutes(4), None);
        assert_eq!(lock_minutes(5), Some(15));
        assert_eq!(lock_minutes(6), Some(30));
        assert_eq!(lock_minutes(7), Some(60));
        assert_eq!(lock_minutes(12), Some(24 * 60));
        assert_eq!(lock_minutes(100), Some(24 * 60));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_work_runs_on_its_own_few_threads() {
        let tasks: Vec<_> = (0..24)
            .map(|_| tokio::spawn(on_password_thread(|| std::thread::current().name().unwrap_or_default().to_string())))
            .collect();
        let mut names = std::collections::HashSet::new();
        for task in tasks {
            names.insert(task.await.expect("the task").expect("a result"));
        }
        assert!(names.len() <= PASSWORD_THREADS, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("password-")), "{names:?}");
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h).await);
        assert!(!verify("correct horse batterY", &h).await);
        assert!(!verify("x", "not a hash").await);
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough passphrase").is_ok());
    }
}
