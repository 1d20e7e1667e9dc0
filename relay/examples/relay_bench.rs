//! The relay's cost: memory per allocation and datagrams forwarded per second per core of
//! relay CPU, with N allocations (default 1,000) at once.
//!
//!   cargo run --release -p polyrtc-relay --example relay_bench -- [N] [SECONDS] [BIN|coturn]
//!
//! Spawns the `polyrtc-relay` binary (BIN, default target/release/polyrtc-relay; `coturn`:
//! Debian's turnserver, measured the same way) so its RSS
//! and CPU time are its own; makes N allocations over UDP with the core's TURN client, each
//! with a channel bound to one of a few sink sockets; then sends 100-byte ChannelData
//! frames round-robin over all N for SECONDS and counts what the sinks receive. Prints
//! one JSON line (`RESULT {...}`) and a readable summary.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polyrtc::crypto::Rng;
use polyrtc::turn::{wire, TurnClient, TurnConfig, TurnEvent, TurnTransport};
use polyrtc::Time;

const SINKS: usize = 4;
const PAYLOAD: usize = 100;

fn proc_field(pid: u32, file: &str, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0 // USER_HZ is 100 on Linux
}

struct Alloc {
    sock: UdpSocket,
    client: TurnClient,
    channel: Option<u16>,
    sink: SocketAddr,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let secs: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(5);
    let bin = args.get(3).cloned().unwrap_or_else(|| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/polyrtc-relay")
    });
    // BIN `coturn`: Debian's turnserver measured the same way (the peer in the same run).
    let coturn = bin == "coturn";
    let (mut child, server) = if coturn {
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("turnserver")
            .args(["-n", "--listening-ip=127.0.0.1", &format!("--listening-port={port}"), "--relay-ip=127.0.0.1"])
            .args(["--lt-cred-mech", "--user=bench:bench", "--realm=bench", "--no-tls", "--no-dtls", "--no-tcp"])
            .args(["--allow-loopback-peers", "--no-cli", "--no-stdout-log", "--log-file=/dev/null"])
            .args(["--min-port=20000", "--max-port=40000", "--total-quota=0", "--user-quota=0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start turnserver: {e} (apt-get install coturn)"));
        std::thread::sleep(Duration::from_millis(1000));
        (child, format!("127.0.0.1:{port}").parse::<SocketAddr>().unwrap())
    } else {
        let mut child = Command::new(&bin)
            .args(["--listen", "127.0.0.1:0", "--user", "bench:bench", "--allow-private", "--exit-on-stdin-close"])
            .args(["--max-allocations", &(n + 10).to_string(), "--max-allocations-per-user", &(n + 10).to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (cargo build --release -p polyrtc-relay)"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port: u16 = line
            .split("turn:127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('?').next())
            .and_then(|p| p.parse().ok())
            .expect("relay URLs");
        (child, format!("127.0.0.1:{port}").parse::<SocketAddr>().unwrap())
    };
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(200));
    let rss_before = proc_field(pid, "status", "VmRSS:");

    // Sinks count what the relay forwards.
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let mut sink_addrs = Vec::new();
    let mut sink_threads = Vec::new();
    for _ in 0..SINKS {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        sink_addrs.push(s.local_addr().unwrap());
        let (stop, received) = (stop.clone(), received.clone());
        sink_threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if s.recv(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    // N allocations, each with a channel to a sink.
    let start = Instant::now();
    let now = || Time::from_micros(start.elapsed().as_micros() as u64 + 1_000_000);
    let mut rng = Rng::seeded(1);
    let mut allocs: Vec<Alloc> = (0..n)
        .map(|i| {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_nonblocking(true).unwrap();
            sock.connect(server).unwrap();
            let client = TurnClient::new(TurnConfig::new(TurnTransport::Udp, "bench", "bench"), rng.fork(), now());
            Alloc { sock, client, channel: None, sink: sink_addrs[i % SINKS] }
        })
        .collect();
    let setup_deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 2048];
    loop {
        let mut pending = 0;
        for a in allocs.iter_mut() {
            while let Some(m) = a.client.poll_transmit() {
                let _ = a.sock.send(&m);
            }
            while let Ok(k) = a.sock.recv(&mut buf) {
                a.client.handle_input(now(), &buf[..k]);
            }
            if a.client.poll_timeout().is_some_and(|t| t <= now()) {
                a.client.handle_timeout(now());
            }
            while let Some(ev) = a.client.poll_event() {
                match ev {
                    TurnEvent::Allocated { .. } => {
                        a.client.bind_channel(a.sink, now()).expect("bind");
                    }
                    TurnEvent::ChannelBound { channel, .. } => a.channel = Some(channel),
                    TurnEvent::Failed { code, reason } => panic!("allocation failed: {code} {reason}"),
                    _ => {}
                }
            }
            if a.channel.is_none() {
                pending += 1;
            }
        }
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < setup_deadline, "{pending} of {n} allocations not ready after 60 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    let setup_s = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let rss_after = proc_field(pid, "status", "VmRSS:");

    // Blast ChannelData round-robin.
    let frames: Vec<Vec<u8>> = allocs.iter().map(|a| wire::channel_data(a.channel.unwrap_or(0), &[7u8; PAYLOAD], false)).collect();
    let cpu0 = cpu_seconds(pid);
    let recv0 = received.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let mut sent: u64 = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        for (a, f) in allocs.iter().zip(&frames) {
            if a.sock.send(f).is_ok() {
                sent += 1;
            }
        }
        // Drain anything the relay sent back (refresh answers come later; none expected here).
        for a in allocs.iter_mut().take(16) {
            while let Ok(k) = a.sock.recv(&mut buf) {
                a.client.handle_input(now(), &buf[..k]);
            }
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let forwarded = received.load(Ordering::Relaxed) - recv0;
    let cpu = cpu_seconds(pid) - cpu0;
    stop.store(true, Ordering::Relaxed);
    for t in sink_threads {
        let _ = t.join();
    }
    drop(child.stdin.take());
    if coturn {
        let _ = child.kill();
    }
    let _ = child.wait();

    let per_alloc_kib = (rss_after.saturating_sub(rss_before)) as f64 / n as f64;
    let pps = forwarded as f64 / elapsed;
    let pps_per_core = if cpu > 0.0 { forwarded as f64 / cpu } else { 0.0 };
    println!(
        "RESULT {{\"server\":\"{}\",\"allocations\":{n},\"setupSeconds\":{setup_s:.2},\"rssBeforeKiB\":{rss_before},\"rssAfterKiB\":{rss_after},\
         \"kibPerAllocation\":{per_alloc_kib:.2},\"sent\":{sent},\"forwarded\":{forwarded},\"seconds\":{elapsed:.2},\
         \"relayCpuSeconds\":{cpu:.2},\"forwardedPerSecond\":{pps:.0},\"forwardedPerCpuSecond\":{pps_per_core:.0}}}",
        if coturn { "coturn" } else { "polyrtc-relay" }
    );
    eprintln!(
        "relay: {n} allocations in {setup_s:.1} s; RSS {rss_before} -> {rss_after} KiB ({per_alloc_kib:.1} KiB per allocation); \
         forwarded {forwarded} of {sent} datagrams in {elapsed:.1} s ({pps:.0}/s) using {cpu:.2} s of relay CPU \
         ({pps_per_core:.0} datagrams per CPU-second)"
    );
}
