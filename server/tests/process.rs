//! The real binary: configuration errors, start-up on a fresh SQLite file, and
//! graceful shutdown on SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_supportal"));
    // The tests' environment must not leak into the server's settings.
    for var in ["DATABASE_URL", "SUPPORTAL_BIND", "SUPPORTAL_DEMO", "SUPPORTAL_ADMIN_EMAIL", "SUPPORTAL_ADMIN_PASSWORD"]
    {
        c.env_remove(var);
    }
    c
}

/// Arguments, environment, and the setting the error must name.
type BadSetting<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_settings_stop_start_up_with_one_line() {
    let cases: [BadSetting; 4] = [
        (&["--bind", "nowhere"], &[], "SUPPORTAL_BIND"),
        (&[], &[("DATABASE_URL", "mysql://db")], "DATABASE_URL"),
        (&[], &[("SUPPORTAL_DEMO", "perhaps")], "SUPPORTAL_DEMO"),
        (&[], &[("SUPPORTAL_ADMIN_EMAIL", "a@example.com")], "SUPPORTAL_ADMIN_PASSWORD"),
    ];
    for (args, env, setting) in cases {
        let out = binary().args(args).envs(env.iter().copied()).output().expect("run supportal");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(setting), "{stderr}");
    }
    let help = binary().arg("--help").output().expect("help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for setting in ["DATABASE_URL", "SUPPORTAL_BIND", "SUPPORTAL_ADMIN_EMAIL", "--demo"] {
        assert!(text.contains(setting), "--help lists {setting}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[cfg(unix)]
#[test]
fn starts_on_a_fresh_sqlite_file_and_stops_cleanly_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("supportal-process-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let mut child = binary()
        .args(["--bind", &format!("127.0.0.1:{port}"), "--demo"])
        .env("DATABASE_URL", format!("sqlite://{}/nested/supportal.db", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if let Some(r) = get(port, "/readyz") {
            break r;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(dir.join("nested/supportal.db").exists(), "the database file and its folder are created");

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    assert!(stdout.contains("manager@demo.supportal.test"), "demo sign-ins are printed: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
