//! A local SMTP sink for the tests: a tiny tokio TCP server speaking just enough SMTP
//! (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to accept messages and record
//! them. The reply to the end of DATA is sent after the message is recorded, so a client
//! that has finished sending has it in [`SmtpSink::messages`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed), CRLF line ends.
    pub data: String,
}

/// The running sink, stopped when dropped.
pub struct SmtpSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Received>>>,
    /// How many messages have arrived, for [`SmtpSink::wait_for`].
    arrived: tokio::sync::watch::Receiver<usize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("the bound address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        let (count, arrived) = tokio::sync::watch::channel(0usize);
        let count = Arc::new(count);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store, count).await;
                });
            }
        });
        SmtpSink { addr, messages, arrived, server }
    }

    /// Waits until `n` messages have arrived (for mail sent after a reply, such as a password
    /// reset's): woken by each arrival, not by a clock. The 60 s bound only stops a broken
    /// test from hanging.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut arrived = self.arrived.clone();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(60), arrived.wait_for(|c| *c >= n)).await;
        assert!(matches!(waited, Ok(Ok(_))), "{n} message(s) expected, {} arrived", self.messages().len());
        self.messages()
    }

    /// The relay URL for `Mailer::smtp`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The messages received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().expect("the sink's lock").clone()
    }
}

async fn session(
    stream: TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    count: Arc<tokio::sync::watch::Sender<usize>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP test sink\r\n").await?;
    let mut current = Received::default();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?,
            "HELO" => write.write_all(b"250 sink.test\r\n").await?,
            "MAIL" => {
                current = Received { from: address(&command), ..Received::default() };
                write.write_all(b"250 OK\r\n").await?;
            }
            "RCPT" => {
                current.to.push(address(&command));
                write.write_all(b"250 OK\r\n").await?;
            }
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                current.data = data;
                store.lock().expect("the sink's lock").push(std::mem::take(&mut current));
                count.send_modify(|c| *c += 1);
                write.write_all(b"250 OK: queued\r\n").await?;
            }
            "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 Command not implemented\r\n").await?,
        }
    }
}

/// The address between `<` and `>` of `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(a, _)| a.to_string()).unwrap_or_default()
}
