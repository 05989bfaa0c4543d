//! The latency proxy the probe bench puts between the probe and its targets.

use nixdeck_tests::latency_proxy::LatencyProxy;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn a_round_trip_takes_twice_the_delay_and_bytes_arrive_whole() {
    let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = echo.accept().await.unwrap();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).await.unwrap();
        }
    });
    let proxy = LatencyProxy::start(addr, Duration::from_millis(25))
        .await
        .unwrap();
    let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    c.set_nodelay(true).unwrap();
    let started = std::time::Instant::now();
    c.write_all(b"ping").await.unwrap();
    let mut got = [0u8; 4];
    c.read_exact(&mut got).await.unwrap();
    let rtt = started.elapsed();
    assert_eq!(&got, b"ping");
    assert!(rtt >= Duration::from_millis(50), "round trip {rtt:?}");
    assert!(rtt < Duration::from_millis(500), "round trip {rtt:?}");
    // Bulk data arrives intact and in order.
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let (mut r, mut w) = c.into_split();
    let send = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&send).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    r.read_to_end(&mut back).await.unwrap();
    writer.await.unwrap();
    assert_eq!(back, data);
}

#[tokio::test]
async fn a_probe_through_the_proxy_pays_its_round_trips() {
    use nixdeck_engine::probe::{probe, ProbeOptions};
    use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
    use nixdeck_tests::sshd::{Sshd, SshdOptions};
    let sshd = Sshd::start(SshdOptions::default());
    let proxy = LatencyProxy::start(
        ([127, 0, 0, 1], sshd.port).into(),
        Duration::from_millis(25),
    )
    .await
    .unwrap();
    // The host key is the sshd's, under the proxy's port.
    let known_hosts = sshd.dir.path().join("known_hosts_proxy");
    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{} {}\n", proxy.port, sshd.host_key_pub),
    )
    .unwrap();
    let target = SshTarget::parse(&format!("root@127.0.0.1:{}", proxy.port)).unwrap();
    let opts = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(known_hosts),
        ssh_config: Some(sshd.dir.path().join("none")),
        ..ConnectOptions::default()
    };
    let started = std::time::Instant::now();
    let facts = probe(&target, &opts, &ProbeOptions::default())
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(facts.user, "root");
    assert!(!facts.kernel_release.is_empty(), "{facts:?}");
    // TCP, key exchange, auth, channel, command: several round trips at least.
    assert!(
        took >= Duration::from_millis(200),
        "the probe took {took:?}"
    );
}
