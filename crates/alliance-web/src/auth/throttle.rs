//! Throttles against guessing and flooding, shared by every server on one database.
//!
//! - **Per client**: each limited action ([`Limit`]: signing in, the public forms) counts a
//!   client's hits in fixed windows kept in the database (`alliance_db::access::limits`), so
//!   two servers on one PostgreSQL share one allowance. A client is its address *group*
//!   ([`address_group`]: an IPv4 address, or the /64 network of an IPv6 one, which one home
//!   or phone is given whole), known to the database only by a keyed hash: HMAC-SHA256 under
//!   a secret made each UTC day and deleted the next, so no address is stored and keys
//!   cannot be linked across days. Behind a proxy the address is the forwarded one, and only
//!   from the proxies `alliance serve --trusted-proxy` names ([`client_address`]).
//!   Signing in counts only failures ([`SIGN_IN`]): an attempt takes one of the allowance
//!   before its password is checked ([`Throttle::take`]) and a successful one gives it back
//!   ([`Throttle::give_back`]), so many people behind one address (a council office's NAT)
//!   are not locked out by signing in, while guesses, even sent at once, never get past it.
//! - **Per account**: the lockout of `alliance_app::password::lock_minutes`, counted in the
//!   database before the password is verified (`Db::count_sign_in_attempt`).
//! - **Password work**: at most [`PASSWORD_CHECKS`] argon2 computations at once (each takes
//!   19 MiB); the rest wait their turn. Unknown and locked accounts are checked against a
//!   dummy hash, so every refusal costs the same work and time.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use alliance_db::{Db, DbError};
use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// A limit on one action per client: at most `hits` in each window of `window_seconds`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The action's name, as the database counts it.
    pub scope: &'static str,
    pub hits: i64,
    pub window_seconds: i64,
}

/// Failed sign-in attempts (and wrong current passwords) from one client: 30 a quarter hour.
/// Each attempt takes one of the allowance before the password is checked, so attempts sent
/// at once cannot outrun it; a successful one gives it back ([`Throttle::give_back`]), so
/// right passwords never use it up (once it is used up, every attempt is refused, right or
/// wrong, until the window ends).
pub const SIGN_IN: Limit = Limit { scope: "sign-in", hits: 30, window_seconds: 900 };

/// Submissions a client may have stored per public form (the unsafe-place report, the
/// charter application), each window of [`PUBLIC_FORM_WINDOW`] seconds.
pub const PUBLIC_FORM_ACCEPTED: i64 = 10;
/// Submissions a client may send per public form, valid or not, each window.
pub const PUBLIC_FORM_ANY: i64 = 60;
/// The window of the public forms' limits: an hour.
pub const PUBLIC_FORM_WINDOW: i64 = 3600;

/// Password checks (argon2id, 19 MiB each) run at once; the others wait.
pub const PASSWORD_CHECKS: usize = 4;

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The group a client's address is limited as: an IPv4 address itself (an IPv4-mapped IPv6
/// address too), the /64 network of an IPv6 address (`2001:db8:1:2::/64`).
pub fn address_group(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: the socket's peer, or, when the peer is one of `trusted` proxies,
/// the address that proxy put in `X-Forwarded-For` (the rightmost entry not itself a
/// trusted proxy). From anyone else `X-Forwarded-For` is ignored: a client cannot choose
/// its own address.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    Some(forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer))
}

/// One hit counted on a limit ([`Throttle::take`]): where it was counted, so that
/// [`Throttle::give_back`] uncounts it in the same window under the same key, whatever the
/// time or the day's secret by then.
#[derive(Debug, Clone)]
#[must_use = "give the hit back when the action succeeds; dropped, it stays counted"]
pub struct Hit {
    scope: &'static str,
    client: String,
    window_start: i64,
}

fn utc_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The throttles of one server (see the module's documentation).
pub struct Throttle {
    /// The day's secret, as read from the database: (day, secret).
    secret: Mutex<Option<(i64, Vec<u8>)>>,
    password_checks: Semaphore,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle { secret: Mutex::new(None), password_checks: Semaphore::new(PASSWORD_CHECKS) }
    }
}

impl Throttle {
    async fn secret(&self, db: &Db, day: i64) -> Result<Vec<u8>, DbError> {
        {
            let cached = self.secret.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, s)) = cached.as_ref().filter(|(d, _)| *d == day) {
                return Ok(s.clone());
            }
        }
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let stored = db.rate_limit_secret(day, &hex::encode(fresh)).await?;
        let secret = hex::decode(&stored).unwrap_or_else(|_| stored.into_bytes());
        *self.secret.lock().unwrap_or_else(|p| p.into_inner()) = Some((day, secret.clone()));
        Ok(secret)
    }

    /// Counts one hit of the client at `address` (its group, keyed) on `limit`: `false`
    /// when the client is over the limit in this window (the hit is still counted, so
    /// hammering does not earn a new allowance).
    pub async fn allow(&self, db: &Db, limit: &Limit, address: &str) -> Result<bool, DbError> {
        Ok(self.take(db, limit, address).await?.is_some())
    }

    /// [`Throttle::allow`] for an action that counts only when it fails: the hit, to give
    /// back if the action succeeds, or `None` when the client is over the limit (that hit
    /// stays counted). The hit is counted in the database before the action, in one
    /// statement, so concurrent attempts from any server are each counted and at most
    /// `limit.hits` can be under way or failed in a window.
    pub async fn take(&self, db: &Db, limit: &Limit, address: &str) -> Result<Option<Hit>, DbError> {
        let now = utc_now();
        let day = now.div_euclid(86_400);
        let secret = self.secret(db, day).await?;
        let group = address.parse::<IpAddr>().map(address_group).unwrap_or_else(|_| address.to_string());
        let client = hex::encode(hmac_sha256(&secret, format!("{}\n{group}", limit.scope).as_bytes()));
        let window_start = now - now.rem_euclid(limit.window_seconds);
        let hits = db.rate_limit_hit(limit.scope, &client, window_start, now - 86_400).await?;
        if hits == limit.hits + 1 {
            tracing::warn!(
                scope = limit.scope,
                "a client reached its limit of {} in {} s",
                limit.hits,
                limit.window_seconds
            );
        }
        Ok((hits <= limit.hits).then_some(Hit { scope: limit.scope, client, window_start }))
    }

    /// Uncounts `hit`, taken for an action that succeeded, in the window it was counted in
    /// (one statement in the database: concurrent failures stay counted).
    pub async fn give_back(&self, db: &Db, hit: Hit) -> Result<(), DbError> {
        db.rate_limit_unhit(hit.scope, &hit.client, hit.window_start).await
    }

    /// Whether `password` matches `stored`, waiting for a free password check first.
    pub async fn verify(&self, password: &str, stored: &str) -> bool {
        let _permit = self.password_checks.acquire().await.ok();
        alliance_app::password::verify(password, stored).await
    }

    /// The same work as [`Throttle::verify`] against a hash nobody's password matches.
    pub async fn verify_dummy(&self, password: &str) {
        let _permit = self.password_checks.acquire().await.ok();
        alliance_app::password::verify_dummy(password).await;
    }

    /// Hashes a new password, waiting for a free password check first.
    pub async fn hash(&self, password: &str) -> Result<String, String> {
        let _permit = self.password_checks.acquire().await.ok();
        alliance_app::password::hash(password).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_group(a), "2001:db8:1:2::/64");
        assert_eq!(address_group(a), address_group(b));
        assert_ne!(address_group(a), address_group(c));
        assert_eq!(address_group("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(address_group("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "198.51.100.9".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.1, 198.51.100.9".parse().unwrap());
        // From the proxy: the entry it appended (the leftmost one is the client's own claim).
        assert_eq!(client_address(Some(proxy), &headers, &[proxy]), Some(client));
        // From anyone else, or with no proxy configured: the socket's address.
        assert_eq!(client_address(Some(client), &headers, &[proxy]), Some(client));
        assert_eq!(client_address(Some(proxy), &headers, &[]), Some(proxy));
        // A malformed header from the proxy: its own address, never a guess.
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_address(Some(proxy), &headers, &[proxy]), Some(proxy));
        assert_eq!(client_address(None, &headers, &[proxy]), None);
    }
}
