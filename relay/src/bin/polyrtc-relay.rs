//! polyrtc-relay: TURN over UDP, TCP and WebSocket on one port number.

use std::net::SocketAddr;

use polyrtc_relay::host::{HostOptions, Relay};
use polyrtc_relay::Config;

const HELP: &str = "polyrtc-relay: a TURN server (RFC 8656)

USAGE: polyrtc-relay [OPTIONS]

  --listen IP:PORT               address to serve on (default 127.0.0.1:0). One port number P:
                                 UDP P is TURN over UDP; TCP P is TURN over TCP and, when the
                                 connection starts with an HTTP GET upgrade, WebSocket
                                 (subprotocol `turn`, one binary message = one TURN message).
                                 Relayed UDP ports are bound on IP, port chosen by the system.
  --user NAME:PASSWORD           long-term credential (repeatable)
  --secret S                     TURN REST credentials (username `expiry:user`,
                                 password base64(HMAC-SHA1(S, username)))
  --realm R                      REALM (default polyrtc)
  --allow-private                allow loopback/private/link-local peers
  --max-allocations N            allocations at once in total (default 10000)
  --max-allocations-per-user N   allocations at once per user (default 100)
  --bandwidth BYTES_PER_SEC      per-allocation rate limit (default unlimited)
  --upstream turn:HOST:PORT?transport=tcp
                                 upstream mode: each WebSocket client is bridged over its own
                                 TCP connection to this TURN server (e.g. coturn), which then
                                 authenticates it and owns its allocation; TURN over UDP/TCP
                                 on --listen stay served by this relay
  --help                         this text

On listening prints one JSON line on stdout:
  {\"wsUrl\":\"ws://IP:P\",\"turnUrls\":[\"turn:IP:P?transport=udp\",\"turn:IP:P?transport=tcp\"]}
then runs until SIGINT/SIGTERM (the default disposition ends the process and the kernel
frees every socket) or until stdin is closed when --exit-on-stdin-close is given.
  --exit-on-stdin-close          stop cleanly when stdin reaches EOF (for supervisors); a line
                                 `stats` on stdin prints the counters as one JSON line
";

fn fail(msg: &str) -> ! {
    eprintln!("polyrtc-relay: {msg}\n(see --help)");
    std::process::exit(2)
}

/// `turn:HOST:PORT?transport=tcp` (or `HOST:PORT`), resolved once at start.
fn parse_upstream(url: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let rest = url.strip_prefix("turn:").unwrap_or(url);
    let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
    for kv in query.split('&').filter(|q| !q.is_empty()) {
        match kv.split_once('=') {
            Some(("transport", "tcp")) => {}
            Some(("transport", t)) => return Err(format!("--upstream supports transport=tcp only, not {t}")),
            _ => return Err(format!("--upstream: unknown parameter {kv}")),
        }
    }
    let hostport = if hostport.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        hostport.to_string()
    } else {
        format!("{hostport}:3478")
    };
    hostport
        .to_socket_addrs()
        .map_err(|e| format!("--upstream {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("--upstream {url}: no address"))
}

fn main() {
    let mut config = Config::default();
    let mut listen: SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|_| fail("internal"));
    let mut stdin_exit = false;
    let mut options = HostOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().unwrap_or_else(|| fail(&format!("{name} needs a value")));
        match a.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                return;
            }
            "--listen" => listen = val("--listen").parse().unwrap_or_else(|_| fail("--listen wants IP:PORT")),
            "--user" => {
                let v = val("--user");
                let (u, p) = v.split_once(':').unwrap_or_else(|| fail("--user wants NAME:PASSWORD"));
                config.users.insert(u.to_string(), p.to_string());
            }
            "--secret" => config.secret = Some(val("--secret")),
            "--realm" => config.realm = val("--realm"),
            "--allow-private" => config.allow_private = true,
            "--max-allocations" => {
                config.max_allocations = val("--max-allocations").parse().unwrap_or_else(|_| fail("--max-allocations wants a number"))
            }
            "--max-allocations-per-user" => {
                config.max_allocations_per_user =
                    val("--max-allocations-per-user").parse().unwrap_or_else(|_| fail("--max-allocations-per-user wants a number"))
            }
            "--bandwidth" => config.bandwidth = Some(val("--bandwidth").parse().unwrap_or_else(|_| fail("--bandwidth wants a number"))),
            "--exit-on-stdin-close" => stdin_exit = true,
            "--upstream" => options.upstream = Some(parse_upstream(&val("--upstream")).unwrap_or_else(|e| fail(&e))),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    config.software = Some("polyrtc-relay".into());
    let relay = Relay::start_with(listen, config, options).unwrap_or_else(|e| fail(&format!("cannot listen on {listen}: {e}")));
    println!("{}", relay.urls_json());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if stdin_exit {
        // Supervised: one command per line on stdin (`stats` prints the counters as one
        // JSON line); EOF stops the relay.
        let mut line = String::new();
        let stdin = std::io::stdin();
        loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.trim() == "stats" {
                        println!("{}", relay.stats_json());
                        let _ = std::io::stdout().flush();
                    }
                }
            }
        }
        relay.stop();
    } else {
        loop {
            std::thread::park();
        }
    }
}
