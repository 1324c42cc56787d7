//! The secret that keys the audit chain, kept outside the database.
//!
//! Where it comes from, first match wins ([`AuditKeySource::Default`]):
//! 1. the file named by `ALLIANCE_AUDIT_KEY_FILE` (the command line's `--audit-key-file`);
//! 2. the value of `ALLIANCE_AUDIT_KEY`;
//! 3. otherwise a key file made on first use, with a logged warning: next to a SQLite
//!    database (`alliance.db` → `alliance.db.audit-key`), or `alliance-audit.key` in the
//!    working folder for PostgreSQL. It is written with owner-only permissions (0600) and
//!    never overwritten. Fine for a demonstration; a deployment names its key explicitly and
//!    keeps a copy where the database administrator cannot reach it.
//!
//! A key is at least [`MIN_KEY_BYTES`] bytes of text (surrounding whitespace ignored); a
//! generated one is 32 random bytes in hex.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::DbError;

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The environment variable naming a key file.
pub const KEY_FILE_ENV: &str = "ALLIANCE_AUDIT_KEY_FILE";
/// The environment variable holding the key itself.
pub const KEY_ENV: &str = "ALLIANCE_AUDIT_KEY";
/// The key file made for a PostgreSQL database when none is configured (working folder).
pub const POSTGRES_DEFAULT_KEY_FILE: &str = "alliance-audit.key";

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The audit chain's key. Its `Debug` shows where it came from, never the key.
#[derive(Clone)]
pub struct AuditKey {
    bytes: Arc<[u8]>,
    source: String,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({})", self.source)
    }
}

/// Where [`crate::Db::connect_with`] takes the key from.
#[derive(Debug, Clone)]
pub enum AuditKeySource {
    /// The environment, else a key file made next to the database (see the module).
    Default,
    /// A key file that must exist.
    File(PathBuf),
    /// A key already loaded.
    Key(AuditKey),
}

fn bad(reason: impl Into<String>) -> DbError {
    DbError::invalid("audit key", reason)
}

impl AuditKey {
    /// A key from its text, `source` saying where it came from (for messages).
    pub fn from_secret(secret: &str, source: impl Into<String>) -> Result<AuditKey, DbError> {
        let source = source.into();
        let secret = secret.trim();
        if secret.len() < MIN_KEY_BYTES {
            return Err(bad(format!(
                "the key from {source} is {} bytes long: it must be at least {MIN_KEY_BYTES}",
                secret.len()
            )));
        }
        Ok(AuditKey { bytes: Arc::from(secret.as_bytes()), source })
    }

    /// Reads a key file; a missing, unreadable or short file is an error naming it.
    pub fn load(path: &Path) -> Result<AuditKey, DbError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read the audit key file {}: {e}", path.display())))?;
        warn_if_readable_by_others(path);
        AuditKey::from_secret(&text, format!("the file {}", path.display()))
    }

    /// Reads the key file at `path`, first making it (32 random bytes in hex, owner-only
    /// permissions) when it does not exist. Two processes racing to make it agree on one key:
    /// the file appears whole or not at all (written aside, then linked into place).
    pub fn load_or_create(path: &Path) -> Result<AuditKey, DbError> {
        if !path.exists() {
            create_key_file(path)?;
        }
        AuditKey::load(path)
    }

    /// The key `source` names; `sqlite_path` is the database file, when SQLite.
    pub fn resolve(source: &AuditKeySource, sqlite_path: Option<&Path>) -> Result<AuditKey, DbError> {
        match source {
            AuditKeySource::Key(key) => Ok(key.clone()),
            AuditKeySource::File(path) => AuditKey::load(path),
            AuditKeySource::Default => {
                if let Some(path) = std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty()) {
                    return AuditKey::load(Path::new(&path));
                }
                if let Ok(secret) = std::env::var(KEY_ENV) {
                    if !secret.is_empty() {
                        return AuditKey::from_secret(&secret, format!("the environment variable {KEY_ENV}"));
                    }
                }
                let path = match sqlite_path {
                    Some(db) => default_key_file(db),
                    None => PathBuf::from(POSTGRES_DEFAULT_KEY_FILE),
                };
                AuditKey::load_or_create(&path)
            }
        }
    }

    /// Where the key came from, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub(crate) fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        <HmacSha256 as Mac>::new_from_slice(&self.bytes).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// HMAC-SHA-256 of the parts, in order, as lower-case hex.
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        let mut mac = self.mac();
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The key file made for a SQLite database when none is configured: `<file>.audit-key`.
pub fn default_key_file(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".audit-key");
    db.with_file_name(name)
}

fn create_key_file(path: &Path) -> Result<(), DbError> {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let text = format!("{}\n", hex::encode(secret));
    let aside = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    let fail = |e: std::io::Error| bad(format!("cannot create the audit key file {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&aside).map_err(fail)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(fail)?;
    drop(file);
    // Linking fails when the file exists: whoever linked first made the key everyone reads.
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => {
            tracing::warn!(
                "no audit key configured: made {} (keep a copy away from the database, or set {KEY_FILE_ENV} / {KEY_ENV})",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail(e)),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!("the audit key file {} is readable by others: chmod 600 it", path.display());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused_and_the_key_is_never_printed() {
        assert!(AuditKey::from_secret("short", "test").is_err());
        let key = AuditKey::from_secret(&"k".repeat(40), "test").unwrap();
        assert!(!format!("{key:?}").contains("kkkk"));
    }

    #[test]
    fn a_key_file_is_made_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_key_file(&dir.path().join("alliance.db"));
        assert!(path.ends_with("alliance.db.audit-key"));
        let a = AuditKey::load_or_create(&path).unwrap();
        let b = AuditKey::load_or_create(&path).unwrap();
        assert_eq!(a.sign(&[b"x"]), b.sign(&[b"x"]), "the second call read the same key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let other = AuditKey::from_secret(&"z".repeat(64), "test").unwrap();
        assert_ne!(a.sign(&[b"x"]), other.sign(&[b"x"]));
    }
}
