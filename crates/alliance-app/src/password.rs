//! Passwords (used by the sign-in pages and `alliance users`): argon2id hashes (the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1, the
//! OWASP minimum), computed on a few threads of their own ([`PASSWORD_THREADS`]) so they never
//! stall the async workers; and the lockout rule.
//!
//! Why threads of their own rather than tokio's blocking pool: each argon2 computation takes
//! 19 MiB, and the C allocator keeps a freed block of that size in the arena of the thread that
//! used it. Spread over the blocking pool's many threads, a burst of sign-ins left a block in
//! every arena (the server's peak memory rose by about 500 MB under 31 parallel guesses, issue
//! 13); on four threads at most four blocks are ever held.
//!
//! Nor is that memory taken from the allocator each time: after the first 19 MiB block is
//! freed, glibc raises its mmap threshold above that size, so later blocks come from the
//! threads' heaps and were kept there, fragmented (a burst of 31 sign-ins still raised the
//! peak by about 430 MB with four threads). Each password thread keeps one buffer of argon2
//! blocks for its whole life instead ([`with_memory`]): four buffers, about 76 MiB, whatever the
//! burst.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
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

/// The most argon2 memory a stored hash may ask for (64 MiB, in 1 KiB blocks): a hash with
/// larger parameters never matches rather than being computed.
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// This thread's argon2 memory, kept between computations (see the module's documentation).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Computes `argon`'s hash of `password` and `salt` into `out` in this thread's kept memory,
/// cleared afterwards.
fn with_memory(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    let blocks = argon.params().block_count();
    if blocks > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        let result = argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]);
        memory[..blocks].fill(Block::default());
        result
    })
}

/// The PHC string of `password` hashed with argon2id's default parameters and a new salt.
fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let length = argon.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(length, |out| Ok(with_memory(&argon, password.as_bytes(), salt_bytes, out)?))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `stored` (a PHC string) under the parameters it names.
fn verify_now(password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let computed =
        Output::init_with(expected.len(), |out| Ok(with_memory(&argon, password.as_bytes(), salt_bytes, out)?));
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| computed == expected)
}

/// Hashes a password (argon2id, random salt) as a PHC string.
pub async fn hash(password: &str) -> Result<String, String> {
    let password = password.to_string();
    on_password_thread(move || hash_now(&password).map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|| Err("the password threads stopped".to_string()))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub async fn verify(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_string(), stored.to_string());
    on_password_thread(move || verify_now(&password, &stored)).await.unwrap_or(false)
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

    /// Hashes made with the kept memory are the argon2 crate's own, both ways: hashes stored
    /// before still verify, and new ones verify with the crate's verifier.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"an older stored password", &salt).unwrap().to_string();
        assert!(verify("an older stored password", &theirs).await);
        assert!(!verify("an older stored passworD", &theirs).await);
        let ours = hash("a newly chosen password").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"a newly chosen password", &parsed).is_ok());
        // A stored hash asking for more memory than allowed never matches (nothing allocated).
        let greedy = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1 << 20, 1, 1, None).unwrap());
        let salt = SaltString::generate(&mut OsRng);
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(greedy.params()).unwrap(),
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&[0u8; 32]).unwrap()),
        };
        assert!(!verify("anything at all", &phc.to_string()).await);
    }
}
