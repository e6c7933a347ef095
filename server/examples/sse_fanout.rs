//! SSE fan-out benchmark against a running Supportal: opens N event streams as
//! an agent, then opens tickets as a customer one at a time and measures how
//! long each event takes to reach every stream (p50/p99 over all deliveries).
//!
//! cargo run --release -p supportal --example sse_fanout -- \
//!     <host:port> <agent token> <customer token> [clients=1000] [rounds=20]
//! (scripts/bench.sh runs it with everything set up.)

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Barrier};

async fn open_stream(addr: &str, token: &str) -> std::io::Result<BufReader<TcpStream>> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other("closed during headers"));
        }
        if line == "\r\n" {
            return Ok(reader);
        }
    }
}

/// Opens a ticket; returns its id.
async fn create_ticket(addr: &str, token: &str, n: usize) -> std::io::Result<i64> {
    let body = format!(r#"{{"subject":"Fan-out {n}","body":"benchmark","priority":"P3"}}"#);
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response).await?;
    if !response.starts_with("HTTP/1.1 201") {
        return Err(std::io::Error::other(format!("create failed: {}", response.lines().next().unwrap_or_default())));
    }
    ticket_id(&response).ok_or_else(|| std::io::Error::other("no id in the response"))
}

/// The first `"id":N` or `"ticket_id":N` in a JSON text.
fn ticket_id(text: &str) -> Option<i64> {
    let key = if text.contains("\"ticket_id\":") { "\"ticket_id\":" } else { "\"id\":" };
    let start = text.find(key)? + key.len();
    text[start..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().ok()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: sse_fanout <host:port> <agent token> <customer token> [clients] [rounds] [server pid]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let (agent, customer) = (args[2].clone(), args[3].clone());
    let clients: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(5).and_then(|v| v.parse().ok()).unwrap_or(20);
    let server_pid = args.get(6).cloned();

    let before = server_pid.as_deref().and_then(rss_kib);
    // Each stream reports (ticket id, arrival) for every ticket.created it sees;
    // tickets other than ours (a load test still finishing) are ignored.
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, Instant)>();
    let ready = Arc::new(Barrier::new(clients + 1));
    for _ in 0..clients {
        let (addr, agent, tx, ready) = (addr.clone(), agent.clone(), tx.clone(), ready.clone());
        tokio::spawn(async move {
            let reader = open_stream(&addr, &agent).await;
            ready.wait().await;
            let Ok(mut reader) = reader else { return };
            let mut line = String::new();
            let mut created = false;
            while let Ok(n) = reader.read_line(&mut line).await {
                if n == 0 {
                    break;
                }
                if line.starts_with("event:") {
                    created = line.starts_with("event: ticket.created");
                } else if created && line.starts_with("data:") {
                    if let Some(id) = ticket_id(&line) {
                        let _ = tx.send((id, Instant::now()));
                    }
                }
                line.clear();
            }
        });
    }
    ready.wait().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = server_pid.as_deref().and_then(rss_kib);

    let mut latencies = Vec::with_capacity(clients * rounds);
    let mut early: Vec<(i64, Instant)> = Vec::new();
    for round in 0..rounds {
        let sent = Instant::now();
        let id = create_ticket(&addr, &customer, round).await?;
        // Arrivals that came in before the response told us the id.
        let mut got = 0;
        for (_, at) in early.drain(..).filter(|(i, _)| *i == id) {
            latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
            got += 1;
        }
        while got < clients {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((i, at))) if i == id => {
                    latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(other)) if other.0 > id => early.push(other),
                Ok(Some(_)) => {}
                _ => {
                    eprintln!("round {round}: only {got} of {clients} streams received the event");
                    break;
                }
            }
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    println!("SSE fan-out: {clients} streams, {rounds} events, {} deliveries", latencies.len());
    println!(
        "  change → last client: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    if let (Some(before), Some(during)) = (before, during) {
        println!(
            "  server memory: {before} KiB idle → {during} KiB with {clients} streams ≈ {:.1} KiB per connection",
            (during.saturating_sub(before)) as f64 / clients as f64
        );
    }
    Ok(())
}
