//! Prints how long creating a repository, adding hosts and opening it take, for
//! fleets of several sizes: `cargo run -p nixdeck-engine --example repo_bench`.

use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec};
use nixdeck_engine::repo::{self, Confirm};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    for hosts in [1usize, 20, 100] {
        let dir = tempfile::tempdir()?;
        let start = Instant::now();
        repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::Nothing).await?;
        let init = start.elapsed();
        let start = Instant::now();
        for i in 0..hosts {
            let spec = HostSpec::new(
                HostName::new(&format!("host-{i}"))?,
                format!("10.0.{}.{}", i / 250, i % 250 + 1),
            );
            repo::add_host(dir.path(), &spec, &Confirm::Nothing).await?;
        }
        let add = start.elapsed();
        let start = Instant::now();
        let view = repo::open_repo(dir.path()).await?;
        let open = start.elapsed();
        assert_eq!(view.hosts.len(), hosts);
        println!(
            "{hosts:>4} hosts: init {:>6.1} ms, add {:>6.1} ms/host, open (scan + 2 evaluations) {:>6.1} ms",
            init.as_secs_f64() * 1e3,
            add.as_secs_f64() * 1e3 / hosts as f64,
            open.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
