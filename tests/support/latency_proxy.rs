//! A TCP proxy on 127.0.0.1 that delays everything it forwards by a fixed
//! time in each direction: a round trip of a real network, without one.
//!
//! Each chunk read from one side is written to the other once its delay has
//! passed, while later chunks are already being read, so the proxy adds
//! latency but keeps the bandwidth (as a long link does, not a slow one).
//! Sockets have Nagle's algorithm off, so small SSH packets are not held back
//! on top of the delay.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

/// A listening proxy; stops accepting and drops its connections when dropped.
pub struct LatencyProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accept: tokio::task::JoinHandle<()>,
}

impl LatencyProxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to
    /// `upstream`, delaying each direction by `one_way`. Its tasks run on the
    /// current tokio runtime (a multi-thread one keeps them running between
    /// `block_on` calls).
    pub async fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<LatencyProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accept = tokio::spawn(async move {
            // Owned here, so aborting the accept task drops every connection.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        conns.spawn(relay(client, upstream, one_way));
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(LatencyProxy { port, accept })
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, one_way: Duration) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        one_direction(client_read, server_write, one_way),
        one_direction(server_read, client_write, one_way),
    );
}

/// Forwards `from` to `to`, each chunk `delay` after it was read; an end of
/// stream is forwarded (as a shutdown) with the same delay.
async fn one_direction(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    // Bounded: a reader far ahead of the delayed writer waits (as TCP would).
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(256);
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            };
            let due = Instant::now() + delay;
            // An empty chunk stands for the end of the stream.
            if tx.send((due, buf[..n].to_vec())).await.is_err() || n == 0 {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            sleep_until(due).await;
            if chunk.is_empty() || to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
