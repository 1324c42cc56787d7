//! E-mail through a configured SMTP relay, for any feature that tells people something
//! (referral notifications now; invitations and password resets can use the same
//! [`Mailer`]).
//!
//! Alliance hands mail to the partnership's own relay (`alliance serve --smtp-url
//! smtp://relay.example:25`, or `ALLIANCE_SMTP_URL`), which does delivery, signing and TLS to
//! the outside world. The connection to the relay is plain SMTP: run the relay on the same
//! host or a trusted network. A URL with a user name or password is refused, since
//! credentials must not cross an unencrypted connection. With no relay configured, nothing is
//! sent and each message is logged as "not sent: no SMTP relay configured" (without its
//! recipients or body).
//!
//! A [`Notice`] carries no personal data by construction: callers give a subject and a link
//! to something to look at, and the body is fixed text around them.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Why a mailer could not be configured or a message could not be handed to the relay.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP relay URL \"{url}\": {reason}")]
    BadUrl { url: String, reason: String },
    #[error("e-mail address \"{address}\" is not valid: {reason}")]
    BadAddress { address: String, reason: String },
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the SMTP relay refused or failed: {0}")]
    Relay(String),
}

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the relay for this many recipients.
    Sent(usize),
    /// No relay is configured: logged, not sent.
    NotConfigured,
    /// Nobody to send it to.
    NoRecipients,
}

/// A notification that there is something to look at: a subject and a link, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub subject: String,
    /// What the recipient should do, without personal data ("A referral is waiting for a
    /// decision.").
    pub summary: String,
    /// The full address of the page to look at.
    pub link: String,
}

impl Notice {
    /// The plain text body.
    pub fn body(&self) -> String {
        format!(
            "{}\r\n\r\nSign in to Alliance to see it:\r\n{}\r\n\r\nThis message holds no personal data. \
             Do not reply to it.\r\n",
            self.summary, self.link
        )
    }
}

/// A message in its own words, to one recipient, for what a notice cannot say (an
/// invitation, a password reset link): the caller writes the body, which holds no personal
/// data beyond the recipient's own link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    /// Plain text, CRLF line ends.
    pub body: String,
}

/// Sends mail through the relay, or logs that it would have.
#[derive(Clone)]
pub struct Mailer {
    relay: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// The address pages are served on, for links (`https://alliance.example.org`).
    pub base_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("relay", &self.relay.is_some()).field("from", &self.from.to_string()).finish()
    }
}

impl Default for Mailer {
    fn default() -> Mailer {
        Mailer::none()
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::BadAddress { address: address.to_string(), reason: e.to_string() })
}

const DEFAULT_FROM: &str = "Alliance <alliance@localhost>";

impl Mailer {
    /// No relay: every message is logged as not sent.
    pub fn none() -> Mailer {
        Mailer {
            relay: None,
            from: DEFAULT_FROM.parse().expect("the default sender is a valid address"),
            base_url: "http://localhost:8080".to_string(),
        }
    }

    /// A relay at `url` (`smtp://HOST[:PORT]`, port 25 by default), sending from `from`.
    pub fn smtp(url: &str, from: &str, base_url: &str) -> Result<Mailer, MailError> {
        let bad = |reason: &str| MailError::BadUrl { url: url.to_string(), reason: reason.to_string() };
        let rest = url.trim().strip_prefix("smtp://").ok_or_else(|| {
            bad("expected smtp://HOST[:PORT] (plain SMTP to a relay on this host or a trusted network)")
        })?;
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(bad("a user name or password would cross an unencrypted connection: use a relay that accepts this host without them"));
        }
        if rest.contains('/') || rest.contains('?') {
            return Err(bad("expected only a host and a port"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("the port is not a number from 1 to 65535"))?),
            None => (rest, 25),
        };
        if host.is_empty() || port == 0 {
            return Err(bad("no host or port"));
        }
        // A relay that does not answer holds up the request that notifies: give up after 10 s.
        let relay = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Mailer { relay: Some(relay), from: mailbox(from)?, base_url: base_url.trim_end_matches('/').to_string() })
    }

    /// Whether a relay is configured.
    pub fn configured(&self) -> bool {
        self.relay.is_some()
    }

    /// A full link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends `notice` to each of `to` (one message each, so recipients do not see each
    /// other). Without a relay, logs "not sent: no SMTP relay configured".
    pub async fn send(&self, to: &[String], notice: &Notice) -> Result<Delivery, MailError> {
        let Some(relay) = &self.relay else {
            tracing::info!(subject = %notice.subject, "not sent: no SMTP relay configured");
            return Ok(Delivery::NotConfigured);
        };
        if to.is_empty() {
            return Ok(Delivery::NoRecipients);
        }
        let mut sent = 0;
        for address in to {
            let message = lettre::Message::builder()
                .from(self.from.clone())
                .to(mailbox(address)?)
                .subject(notice.subject.as_str())
                .header(ContentType::TEXT_PLAIN)
                .body(notice.body())
                .map_err(|e| MailError::Build(e.to_string()))?;
            relay.send(message).await.map_err(|e| MailError::Relay(e.to_string()))?;
            sent += 1;
        }
        Ok(Delivery::Sent(sent))
    }

    /// Sends `letter` to `to`. Without a relay, logs "not sent: no SMTP relay configured".
    pub async fn send_letter(&self, to: &str, letter: &Letter) -> Result<Delivery, MailError> {
        let Some(relay) = &self.relay else {
            tracing::info!(subject = %letter.subject, "not sent: no SMTP relay configured");
            return Ok(Delivery::NotConfigured);
        };
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(mailbox(to)?)
            .subject(letter.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(letter.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        relay.send(message).await.map_err(|e| MailError::Relay(e.to_string()))?;
        Ok(Delivery::Sent(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_are_checked_before_anything_is_sent() {
        assert!(Mailer::smtp("smtp://127.0.0.1:2525", "alliance@example.org", "http://x").is_ok());
        assert!(Mailer::smtp("smtp://relay.example", "alliance@example.org", "http://x").expect("ok").configured());
        for bad in ["http://relay", "smtp://user:pw@relay:25", "smtp://relay:notaport", "smtp://:25", "smtp://relay:0"]
        {
            let e = Mailer::smtp(bad, "alliance@example.org", "http://x").expect_err(bad);
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert!(matches!(
            Mailer::smtp("smtp://relay", "not an address", "http://x"),
            Err(MailError::BadAddress { .. })
        ));
        assert!(!Mailer::none().configured());
    }

    #[tokio::test]
    async fn without_a_relay_nothing_is_sent() {
        let notice = Notice { subject: "s".into(), summary: "x".into(), link: "http://x/y".into() };
        assert_eq!(Mailer::none().send(&["a@example.org".into()], &notice).await.expect("ok"), Delivery::NotConfigured);
        assert!(notice.body().contains("http://x/y"));
    }
}
