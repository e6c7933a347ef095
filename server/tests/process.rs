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

/// Sends one HTTP/1.1 request; returns the status code and the body.
fn request(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn json_field(body: &str, field: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    match &value[field] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the receiver saw: each delivery id, and whether it was answered (200) or held.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>>;

/// A webhook receiver on a plain thread: it hangs on every request until `answer` is set, then answers 200.
/// Returns the delivery ids it saw and what it answered (`true`: 200).
fn start_receiver(answer: std::sync::Arc<std::sync::atomic::AtomicBool>) -> (u16, Seen) {
    use std::io::BufRead;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let (mut delivery, mut length, mut line) = (String::new(), 0usize, String::new());
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim_end() != "" {
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("x-supportal-delivery:") {
                    delivery = v.trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let ok = answer.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(mut seen) = kept.lock() {
                seen.push((delivery, ok));
            }
            if ok {
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            } else {
                held.push(stream);
            }
        }
    });
    (port, seen)
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_server(port: u16, db_url: &str) -> std::process::Child {
    let child = binary()
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db_url)
        .env("SUPPORTAL_ADMIN_EMAIL", "admin@example.com")
        .env("SUPPORTAL_ADMIN_PASSWORD", "a long admin passphrase")
        .env("SUPPORTAL_DELIVERY_TIMEOUT_SECS", "2")
        .env("SUPPORTAL_RETRY_BASE_SECS", "1")
        // The test's webhook receiver listens on loopback, which outbound requests may not reach otherwise.
        .env("SUPPORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for("the server to come up", 30, || get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    child
}

/// The outbox survives a crash: the server is killed (SIGKILL) while a webhook delivery is under way,
/// and after a restart the delivery is made, with the same delivery id.
#[cfg(unix)]
#[test]
fn a_delivery_cut_off_by_a_crash_is_made_after_restart() {
    let dir = std::env::temp_dir().join(format!("supportal-outbox-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db_url = format!("sqlite://{}/supportal.db", dir.display());
    let answer = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (receiver_port, seen) = start_receiver(answer.clone());
    let port = free_port();
    let mut server = start_server(port, &db_url);

    // A portal started without the demo still opens with the starter articles.
    let (status, body) = request(port, "GET", "/api/v1/articles", None, "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("how-sla-clocks-work"), "{body}");
    let sign_in = r#"{"email":"admin@example.com","password":"a long admin passphrase","label":"test"}"#;
    let (status, body) = request(port, "POST", "/api/v1/auth/tokens", None, sign_in);
    assert_eq!(status, 201, "{body}");
    let admin = json_field(&body, "token");
    let hook = format!(r#"{{"url":"http://127.0.0.1:{receiver_port}/hook","events":["ticket.created"]}}"#);
    let (status, body) = request(port, "POST", "/api/v1/webhooks", Some(&admin), &hook);
    assert_eq!(status, 201, "{body}");
    let register = r#"{"email":"pat@example.com","password":"a long passphrase","name":"Pat"}"#;
    let (status, body) = request(port, "POST", "/api/v1/auth/register", None, register);
    assert_eq!(status, 201, "{body}");
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/auth/tokens",
        None,
        r#"{"email":"pat@example.com","password":"a long passphrase","label":"t"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let pat = json_field(&body, "token");
    let ticket = r#"{"subject":"Exports fail","body":"The export stops half way.","priority":"P3"}"#;
    let (status, body) = request(port, "POST", "/api/v1/tickets", Some(&pat), ticket);
    assert_eq!(status, 201, "{body}");
    let ticket_id = json_field(&body, "id");

    // The receiver holds the request; the server dies mid-send.
    wait_for("the first try", 15, || seen.lock().map(|s| s.len()).unwrap_or(0) == 1);
    let killed = Command::new("kill").args(["-KILL", &server.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let _ = server.wait();

    answer.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut server = start_server(port, &db_url);
    wait_for("the delivery after restart", 40, || seen.lock().map(|s| s.iter().any(|(_, ok)| *ok)).unwrap_or(false));
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let expected = format!("ticket.created:ticket:{ticket_id}");
    assert!(seen.iter().all(|(id, _)| *id == expected), "{seen:?}");
    assert_eq!(seen.iter().filter(|(_, ok)| *ok).count(), 1, "delivered once: {seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
