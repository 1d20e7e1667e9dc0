//! Remote candidates whose address is an mDNS `.local` name (browsers hide their host
//! addresses so by default, draft-ietf-mmusic-mdns-ice-candidates): each waits here while
//! the host resolves the name on the local link ([`super::Peer::poll_mdns_query`]), then
//! joins ICE with the address found ([`super::Peer::mdns_resolved`]). One that is not
//! resolved within [`MDNS_RESOLVE_TIMEOUT`] is dropped, as a name that did not resolve is.

use core::net::IpAddr;
use core::time::Duration;

use super::*;

/// How long a `.local` candidate waits for its name. The draft leaves it to the agent;
/// mDNS answers come within a second on a working link (RFC 6762 §6: 20–120 ms).
pub const MDNS_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// `.local` candidates waiting at once, per peer (a browser sends one per interface and
/// protocol). More are dropped and counted (`PeerStats::mdns_candidates_unresolved`).
pub const MAX_PENDING_MDNS_CANDIDATES: usize = 32;

/// Names of our own addresses, at most this many per peer (one per host address; more
/// addresses are signaled as they are).
pub const MAX_LOCAL_MDNS_NAMES: usize = 32;

/// Our host addresses and the random `.local` names that stand for them in signaling (one
/// name per address, kept for the peer's life: a restart's candidates reuse it).
#[derive(Debug, Default)]
pub(super) struct LocalNames {
    names: Vec<(IpAddr, String)>,
    /// Names made but not yet given to the host ([`Peer::poll_mdns_name`]).
    unannounced: usize,
}

impl LocalNames {
    /// The candidate's SDP attribute with its address hidden: a host candidate's address
    /// becomes its name (a loopback one stays: mDNS does not run there); a candidate with a
    /// related address gets `raddr 0.0.0.0 rport 0` (the draft's §3.1.2.2, as browsers do).
    pub fn hide(&mut self, c: &Candidate, rng: &mut crate::crypto::Rng) -> String {
        let mut c = c.clone();
        if c.related_address.is_some() {
            c.related_address = Some(core::net::SocketAddr::new(IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED), 0));
        }
        let line = c.to_sdp_string();
        let ip = c.address.ip();
        if c.kind != crate::ice::CandidateKind::Host || ip.is_loopback() {
            return line;
        }
        let name = match self.names.iter().find(|(a, _)| *a == ip) {
            Some((_, n)) => n.clone(),
            None if self.names.len() < MAX_LOCAL_MDNS_NAMES => {
                let n = format!("{}.local", uuid_v4(rng));
                self.names.push((ip, n.clone()));
                self.unannounced += 1;
                n
            }
            None => return line,
        };
        let mut tokens: Vec<&str> = line.split(' ').collect();
        tokens[4] = &name;
        tokens.join(" ")
    }

    fn next_unannounced(&mut self) -> Option<(String, IpAddr)> {
        if self.unannounced == 0 {
            return None;
        }
        let (ip, name) = self.names[self.names.len() - self.unannounced].clone();
        self.unannounced -= 1;
        Some((name, ip))
    }
}

/// A random (version 4) UUID in its text form, as browsers name their addresses.
fn uuid_v4(rng: &mut crate::crypto::Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[derive(Debug)]
struct Entry {
    name: String,
    /// The candidate with `0.0.0.0` for an address (`Candidate::parse_mdns`).
    candidate: Candidate,
    /// The remote ICE username fragment when the candidate came: a candidate of an older
    /// generation (the peer restarted ICE meanwhile) is dropped once resolved.
    ufrag: String,
    deadline: Time,
    /// The host was given the name ([`PendingMdns::next_query`]).
    asked: bool,
}

#[derive(Debug, Default)]
pub(super) struct PendingMdns {
    entries: Vec<Entry>,
}

impl PendingMdns {
    /// A candidate to resolve; false (nothing kept) when [`MAX_PENDING_MDNS_CANDIDATES`] wait.
    pub fn add(&mut self, now: Time, name: String, candidate: Candidate, ufrag: &str) -> bool {
        if self.entries.len() >= MAX_PENDING_MDNS_CANDIDATES {
            return false;
        }
        // A second candidate for a name already asked for (UDP and TCP, say) needs no query.
        let asked = self.entries.iter().any(|e| e.name == name && e.asked);
        self.entries.push(Entry { name, candidate, ufrag: ufrag.to_string(), deadline: now + MDNS_RESOLVE_TIMEOUT, asked });
        true
    }

    /// A name the host has not been asked to resolve yet (each once).
    pub fn next_query(&mut self) -> Option<String> {
        let name = self.entries.iter().find(|e| !e.asked)?.name.clone();
        for e in self.entries.iter_mut().filter(|e| e.name == name) {
            e.asked = true;
        }
        Some(name)
    }

    /// The candidates waiting for `name`, with their generation's ufrag, removed.
    pub fn take(&mut self, name: &str) -> Vec<(Candidate, String)> {
        let (taken, kept): (Vec<Entry>, Vec<Entry>) = core::mem::take(&mut self.entries).into_iter().partition(|e| e.name == name);
        self.entries = kept;
        taken.into_iter().map(|e| (e.candidate, e.ufrag)).collect()
    }

    /// Drops the candidates whose deadline passed; returns how many.
    pub fn handle_timeout(&mut self, now: Time) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| now < e.deadline);
        before - self.entries.len()
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.entries.iter().map(|e| e.deadline).min()
    }

    /// Drops everything (the peer closed); returns how many.
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        n
    }
}

impl Peer {
    /// A remote candidate whose address is a `.local` name: kept until the host resolves
    /// it (or [`MDNS_RESOLVE_TIMEOUT`]), counted as unresolved when there is no room.
    pub(super) fn add_mdns_candidate(&mut self, now: Time, line: &str) {
        let Ok((candidate, name)) = Candidate::parse_mdns(line) else {
            self.stats.mdns_candidates_unresolved += 1;
            return;
        };
        let ufrag = self.ice.remote_credentials().map(|c| c.ufrag.clone()).unwrap_or_default();
        if !self.mdns.add(now, name, candidate, &ufrag) {
            self.stats.mdns_candidates_unresolved += 1;
        }
    }

    /// A name of ours (`PeerConfig::mdns_host_candidates`) made since the last call, with
    /// the address it stands for: the host answers mDNS queries for it from now until the
    /// peer is gone. Drained by the host with the transmits, before the candidate that
    /// carries the name leaves as an event.
    pub fn poll_mdns_name(&mut self) -> Option<(String, IpAddr)> {
        self.local_names.as_mut()?.next_unannounced()
    }

    /// A `.local` name the host should resolve with multicast DNS on the local link (each
    /// name once), then answer with [`Peer::mdns_resolved`] or [`Peer::mdns_failed`]. The
    /// host drains this after every call that takes a remote description or candidate.
    pub fn poll_mdns_query(&mut self) -> Option<String> {
        if self.closed {
            return None;
        }
        self.mdns.next_query()
    }

    /// The host resolved `name`: its candidates join ICE with the first usable IPv4 and the
    /// first usable IPv6 address among `addresses` (unspecified, multicast and broadcast
    /// addresses are not). A candidate of an ICE generation the peer has since restarted
    /// away from is dropped. A name nothing waits for (timed out, answered already) is
    /// ignored.
    pub fn mdns_resolved(&mut self, now: Time, name: &str, addresses: &[IpAddr]) {
        let waiting = self.mdns.take(&crate::mdns::normalize(name));
        if waiting.is_empty() || self.closed {
            return;
        }
        let usable = |a: &&IpAddr| crate::net::is_unicast(a);
        let v4 = addresses.iter().filter(|a| a.is_ipv4()).find(usable).copied();
        let v6 = addresses.iter().filter(|a| a.is_ipv6()).find(usable).copied();
        let current = self.ice.remote_credentials().map(|c| c.ufrag.clone()).unwrap_or_default();
        for (candidate, ufrag) in waiting {
            let mut added = false;
            if ufrag == current {
                for ip in [v4, v6].into_iter().flatten() {
                    let mut c = candidate.clone();
                    c.address.set_ip(ip);
                    added |= self.ice.add_remote_candidate(now, c).is_ok();
                }
            }
            if added {
                self.stats.mdns_candidates_resolved += 1;
            } else {
                self.stats.mdns_candidates_unresolved += 1;
            }
        }
        self.pump(now);
    }

    /// The host could not resolve `name` (no answer, no multicast on this host): its
    /// candidates are dropped and counted.
    pub fn mdns_failed(&mut self, _now: Time, name: &str) {
        let n = self.mdns.take(&crate::mdns::normalize(name)).len();
        self.stats.mdns_candidates_unresolved += n as u64;
    }

    pub(super) fn handle_mdns_timeout(&mut self, now: Time) {
        self.stats.mdns_candidates_unresolved += self.mdns.handle_timeout(now) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(port: u16) -> Candidate {
        let line = format!("candidate:1 1 udp 2122260223 abc.local {port} typ host");
        Candidate::parse_mdns(&line).unwrap().0
    }

    #[test]
    fn a_name_is_asked_once_and_its_candidates_taken_together() {
        let t0 = Time::ZERO;
        let mut p = PendingMdns::default();
        assert!(p.add(t0, "abc.local".into(), cand(1), "u1"));
        assert!(p.add(t0, "def.local".into(), cand(2), "u1"));
        assert_eq!(p.next_query().as_deref(), Some("abc.local"));
        // Another candidate of a name already asked for: no second query.
        assert!(p.add(t0, "abc.local".into(), cand(3), "u1"));
        assert_eq!(p.next_query().as_deref(), Some("def.local"));
        assert_eq!(p.next_query(), None);
        let taken = p.take("abc.local");
        assert_eq!(taken.iter().map(|(c, _)| c.address.port()).collect::<Vec<_>>(), [1, 3]);
        assert!(taken.iter().all(|(_, u)| u == "u1"));
        assert!(p.take("abc.local").is_empty());
        assert_eq!(p.poll_timeout(), Some(t0 + MDNS_RESOLVE_TIMEOUT));
        assert_eq!(p.handle_timeout(t0 + MDNS_RESOLVE_TIMEOUT - Duration::from_millis(1)), 0);
        assert_eq!(p.handle_timeout(t0 + MDNS_RESOLVE_TIMEOUT), 1);
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn pending_candidates_are_bounded() {
        let mut p = PendingMdns::default();
        for i in 0..MAX_PENDING_MDNS_CANDIDATES {
            assert!(p.add(Time::ZERO, format!("n{i}.local"), cand(1), "u"));
        }
        assert!(!p.add(Time::ZERO, "more.local".into(), cand(1), "u"));
        assert_eq!(p.clear(), MAX_PENDING_MDNS_CANDIDATES);
    }
}

#[cfg(test)]
mod local_name_tests {
    use super::*;

    #[test]
    fn related_addresses_are_hidden_and_loopback_is_not_named() {
        let mut rng = crate::crypto::Rng::seeded(1);
        let mut names = LocalNames::default();
        let srflx = Candidate::parse("candidate:2 1 udp 1686052607 203.0.113.9 40000 typ srflx raddr 10.0.0.2 rport 5000").unwrap();
        let line = names.hide(&srflx, &mut rng);
        assert!(line.ends_with("203.0.113.9 40000 typ srflx raddr 0.0.0.0 rport 0"), "{line}");
        let lo = Candidate::parse("candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host").unwrap();
        assert_eq!(names.hide(&lo, &mut rng), lo.to_sdp_string());
        assert!(names.next_unannounced().is_none());
        let v6 = Candidate::parse("candidate:1 1 udp 2122260223 2001:db8::5 5000 typ host").unwrap();
        let v4 = Candidate::parse("candidate:1 1 udp 2122260223 10.0.0.2 5001 typ host").unwrap();
        let (l6, l4) = (names.hide(&v6, &mut rng), names.hide(&v4, &mut rng));
        assert!(!l6.contains("2001:db8") && !l4.contains("10.0.0.2"));
        let (n6, ip6) = names.next_unannounced().unwrap();
        let (n4, ip4) = names.next_unannounced().unwrap();
        assert_ne!(n6, n4, "one name per address");
        assert_eq!((ip6, ip4), (v6.address.ip(), v4.address.ip()));
        assert!(l6.contains(&n6) && l4.contains(&n4));
        let (c, parsed) = Candidate::parse_mdns(&l4).unwrap();
        assert_eq!((parsed.as_str(), c.address.port()), (n4.as_str(), 5001), "the hidden line parses back");
    }
}
