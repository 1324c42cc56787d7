//! Accounts by e-mail: an administrator invites someone (they choose their own password
//! through a single-use link), and a user who forgot their password gets a single-use link
//! to set a new one. Used by the web pages and `alliance users invite`.
//!
//! - A link carries a random 256-bit token; only its SHA-256 is stored
//!   (`alliance_db::accounts`). An invitation works for [`INVITATION_DAYS`], a reset link for
//!   [`RESET_MINUTES`]; each works once, and a newer link of the same kind for the same
//!   address ends the older ones.
//! - Links go out through the configured SMTP relay ([`Mailer`]). Without one, an invitation's
//!   link is returned for the administrator to hand over (the page shows it once); a reset
//!   link is never shown to whoever asked, since they have not proved who they are.
//! - Asking for a reset gives the same answer, does the same writes and takes the same time
//!   whether or not the address has an account: the e-mail is handed to the relay after
//!   the answer ([`request_reset`] spawns it), and the request is recorded either way.

use alliance_core::access::Role;
use alliance_db::accounts::{NewInvitation, PendingInvitation};
use alliance_db::audit::Actor;
use alliance_db::clock::{now, stamp};
use alliance_db::Db;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::mail::{Delivery, Letter, Mailer};
use crate::AppError;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// The page an invitation link opens (the token follows as `?token=`, so request logs, which
/// leave out the query, never hold it).
pub const INVITATION_PATH: &str = "/account/invitation";
/// The page a reset link opens.
pub const RESET_PATH: &str = "/account/reset-password";

/// A new link token (64 hex characters) and the SHA-256 that is stored.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a link's token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Whether `token` has the shape of one Alliance makes (so anything else is refused
/// without a database query).
pub fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whom to invite.
pub struct Invite<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub org_id: i64,
    pub role: Role,
}

/// What became of an invitation.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The invitee's address as stored (lower case).
    pub email: String,
    /// The full link (shown to the administrator only when it was not e-mailed).
    pub link: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// How the e-mail went: sent, no relay configured, or the relay's error (the invitation
    /// is stored either way; the link can be handed over).
    pub delivery: Result<Delivery, String>,
}

impl Invited {
    /// Whether the link reached the relay; when it did not, the administrator is shown it.
    pub fn mailed(&self) -> bool {
        matches!(self.delivery, Ok(Delivery::Sent(_)))
    }
}

/// Invites someone: stores the invitation (refused as `Invalid`/`Conflict` on `email`,
/// `name` or `org_id`) and e-mails its link.
pub async fn invite(
    db: &Db,
    mailer: &Mailer,
    partnership: &str,
    invite: &Invite<'_>,
    actor: &Actor,
) -> Result<Invited, AppError> {
    let (token, hash) = new_token();
    let expires_at = stamp(chrono::Utc::now() + chrono::Duration::days(INVITATION_DAYS));
    let new = NewInvitation {
        email: invite.email,
        name: invite.name,
        org_id: invite.org_id,
        role: invite.role,
        token_hash: &hash,
        expires_at: &expires_at,
    };
    db.create_invitation(&new, actor).await?;
    let email = invite.email.trim().to_lowercase();
    let link = mailer.link(&format!("{INVITATION_PATH}?token={token}"));
    let letter = Letter {
        subject: format!("You are invited to {partnership} on Alliance"),
        body: format!(
            "You have been invited to use Alliance, the data and delivery platform of {partnership}, as {role}.\r\n\r\n\
             Choose your password with this link (it works once, for {INVITATION_DAYS} days):\r\n{link}\r\n\r\n\
             If you did not expect this invitation, ignore this message: nothing happens unless the link is used.\r\n",
            role = invite.role.label(),
        ),
    };
    let delivery = mailer.send_letter(&email, &letter).await.map_err(|e| {
        tracing::warn!(error = %e, "the invitation was stored but its e-mail was not sent");
        e.to_string()
    });
    Ok(Invited { email, link, expires_at, delivery })
}

/// The invitation a link opens, if it can still be used.
pub async fn invitation(db: &Db, token: &str) -> Result<Option<PendingInvitation>, AppError> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(db.invitation(&token_hash(token), &now()).await?)
}

/// Accepts an invitation with the invitee's password, already checked and hashed: the
/// account is made and the link spent. `NotFound` when the link is unknown, used or expired.
pub async fn accept_invitation(db: &Db, token: &str, password_hash: &str, actor: &Actor) -> Result<i64, AppError> {
    if !well_formed(token) {
        return Err(AppError::not_found("invitation"));
    }
    Ok(db.accept_invitation(&token_hash(token), password_hash, &now(), actor).await?)
}

/// Asks for a password reset of `email`. For an active user, stores a link and e-mails it
/// (handed to the relay by a task of its own, after this returns, so the answer takes the
/// same time either way); for any other address nothing is sent. Recorded either way.
pub async fn request_reset(
    db: &Db,
    mailer: &Mailer,
    partnership: &str,
    email: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    let email: String = email.trim().to_lowercase().chars().take(254).collect();
    let user = db.user_by_email(&email).await?.filter(|u| u.active);
    let Some(user) = user else {
        db.request_password_reset(&email, None, actor).await?;
        return Ok(());
    };
    let (token, hash) = new_token();
    let expires_at = stamp(chrono::Utc::now() + chrono::Duration::minutes(RESET_MINUTES));
    db.request_password_reset(&user.email, Some((user.id, &hash, &expires_at)), actor).await?;
    let link = mailer.link(&format!("{RESET_PATH}?token={token}"));
    let letter = Letter {
        subject: format!("Reset your password for {partnership} on Alliance"),
        body: format!(
            "Someone asked to reset the password of this address's account on Alliance ({partnership}).\r\n\r\n\
             Choose a new password with this link (it works once, for {RESET_MINUTES} minutes):\r\n{link}\r\n\r\n\
             Setting a new password signs the account out everywhere. If you did not ask for this, ignore this \
             message: your password stays as it is.\r\n"
        ),
    };
    let mailer = mailer.clone();
    tokio::spawn(async move {
        match mailer.send_letter(&user.email, &letter).await {
            Ok(Delivery::NotConfigured) => {
                tracing::warn!("a password reset was asked for, but no SMTP relay is configured to send its link")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a password reset link could not be sent"),
        }
    });
    Ok(())
}

/// The email of the account a reset link is for, if it can still be used.
pub async fn reset_email(db: &Db, token: &str) -> Result<Option<String>, AppError> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(db.password_reset_email(&token_hash(token), &now()).await?)
}

/// Sets the password (already checked and hashed) through a reset link, ending every session
/// of the user. `NotFound` when the link is unknown, used or expired. Returns the email.
pub async fn reset_password(db: &Db, token: &str, password_hash: &str, actor: &Actor) -> Result<String, AppError> {
    if !well_formed(token) {
        return Err(AppError::not_found("password reset link"));
    }
    Ok(db.reset_password(&token_hash(token), password_hash, &now(), actor).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_only_their_hash_is_kept() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert_eq!(hash, token_hash(&a));
        assert_ne!(hash, a);
        assert!(!well_formed("not-a-token"));
        assert!(!well_formed(&"g".repeat(64)));
    }
}
