//! Loop devices over sparse files, for tests that need real block devices behind
//! the test sshd (needs root). Detached on drop.

use crate::sshd::run;
use std::io::Write;
use std::process::{Command, Stdio};

/// A loop device such as `/dev/loop3` over a temporary sparse file.
pub struct LoopDisk {
    pub dev: String,
    file: tempfile::NamedTempFile,
}

fn image(mib: u64) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("image file");
    file.as_file().set_len(mib << 20).expect("sparse size");
    file
}

fn losetup(args: &[&str], file: &std::path::Path) -> String {
    run(Command::new("losetup").args(args).arg(file))
        .trim()
        .to_string()
}

impl LoopDisk {
    /// An empty disk of `mib` MiB.
    pub fn new(mib: u64) -> LoopDisk {
        let file = image(mib);
        let dev = losetup(&["-f", "--show"], file.path());
        LoopDisk { dev, file }
    }

    /// A disk of `mib` MiB partitioned by the sfdisk script `table` before it is
    /// attached with `-P`, so the kernel reads the table at once (containers have no
    /// udev to re-read it).
    pub fn partitioned(mib: u64, table: &str) -> LoopDisk {
        let file = image(mib);
        let mut sfdisk = Command::new("sfdisk")
            .arg("--quiet")
            .arg(file.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sfdisk (apt-get install fdisk)");
        sfdisk
            .stdin
            .as_mut()
            .expect("sfdisk stdin")
            .write_all(table.as_bytes())
            .expect("write the table");
        assert!(sfdisk.wait().expect("sfdisk").success(), "sfdisk failed");
        let dev = losetup(&["-f", "--show", "-P"], file.path());
        LoopDisk { dev, file }
    }

    /// Detaches the device and attaches an empty image of `mib` MiB under the same
    /// name: another disk where the old one was.
    pub fn replace(&mut self, mib: u64) {
        let file = image(mib);
        run(Command::new("losetup").arg("-d").arg(&self.dev));
        losetup(&[&self.dev], file.path());
        self.file = file;
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}
