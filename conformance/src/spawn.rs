//! `--spawn 'CMD {port}'`: start the target on a free loopback port, wait
//! until it accepts, and stop it afterwards by its process id (and its
//! process group, so a shell wrapper's children go too).

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A target started by h1spec; stopped when dropped.
pub struct Spawned {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The command, `{port}` not yet replaced.
    cmd: String,
    port: u16,
    wait: Duration,
}

/// A port nothing listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `cmd` (run by `sh -c`, `{port}` replaced, in a process group of
/// its own) and waits up to `wait` for it to accept connections.
pub fn spawn(cmd: &str, wait: Duration) -> Result<Spawned, String> {
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    start(cmd, port, wait)
}

fn start(cmd: &str, port: u16, wait: Duration) -> Result<Spawned, String> {
    let line = cmd.replace("{port}", &port.to_string());
    let child = Command::new("sh")
        .arg("-c")
        .arg(&line)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    let mut s = Spawned {
        child,
        addr: format!("127.0.0.1:{port}"),
        cmd: cmd.to_string(),
        port,
        wait,
    };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = s.child.try_wait() {
            return Err(format!(
                "`{line}` exited ({status}) before accepting connections"
            ));
        }
        if TcpStream::connect(&s.addr).is_ok() {
            return Ok(s);
        }
        if started.elapsed() > wait {
            s.stop();
            return Err(format!(
                "`{line}` did not accept connections on {} within {wait:?}",
                s.addr
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `signal` to the process group `pgid` (our child leads its own group).
fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours;
    // the negative pid names the process group the child was started in.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

impl Spawned {
    /// How the process ended, once it has (`None` while it runs).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Stops the process and starts the command again on the same port (a
    /// fresh server, at the address the run already uses).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        let started = Instant::now();
        loop {
            match start(&self.cmd, self.port, self.wait) {
                Ok(fresh) => {
                    *self = fresh;
                    return Ok(());
                }
                // The port may linger a moment after the old process.
                Err(e) if started.elapsed() > self.wait => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// SIGTERM to the process group, then SIGKILL after 3 s if still there.
    pub fn stop(&mut self) {
        // Once reaped, the id may be reused: never signal it after that.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        signal_group(self.child.id(), libc::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_group(self.child.id(), libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}
