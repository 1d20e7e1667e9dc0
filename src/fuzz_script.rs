//! The step-script format shared by the stateful fuzz entry points (`dtls::fuzz`,
//! `sctp::fuzz`, `peer::fuzz`): one endpoint is fed a sequence of steps.
//!
//! A step starting with an even tag byte is a datagram (`tag, u16 length, bytes`); an odd
//! tag is a clock tick (`tag, u16 milliseconds`: the clock advances, then
//! `handle_timeout`). The other tag bits are the caller's to interpret. The `*_seed`
//! functions record real sessions in this form so mutations start from a valid exchange.

use crate::Time;

/// Steps beyond this are ignored (keeps one fuzz run short).
pub(crate) const MAX_STEPS: usize = 256;
/// The clock of the endpoint under test at the first step.
pub(crate) const START: Time = Time::from_millis(1_000);

pub(crate) enum Step<'a> {
    Datagram { tag: u8, data: &'a [u8] },
    Tick(u16),
}

/// The steps of `script`, at most [`MAX_STEPS`]; a truncated last step is cut short.
pub(crate) fn steps(mut script: &[u8]) -> impl Iterator<Item = Step<'_>> {
    core::iter::from_fn(move || {
        let (&tag, rest) = script.split_first()?;
        let (n, rest) = rest.split_first_chunk::<2>()?;
        let n = u16::from_be_bytes(*n);
        if tag & 1 == 1 {
            script = rest;
            return Some(Step::Tick(n));
        }
        let (data, rest) = rest.split_at(usize::from(n).min(rest.len()));
        script = rest;
        Some(Step::Datagram { tag, data })
    })
    .take(MAX_STEPS)
}

/// Appends a datagram step with tag 0.
pub(crate) fn push_datagram(script: &mut Vec<u8>, data: &[u8]) {
    script.push(0);
    script.extend_from_slice(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes());
    script.extend_from_slice(data);
}

/// Appends a tick from `now` to `next` (at least 1 ms, at most 60 s) and returns its length.
pub(crate) fn push_tick(script: &mut Vec<u8>, now: Time, next: Time) -> u16 {
    let ms = next.saturating_since(now).as_millis().clamp(1, 60_000);
    let ms = u16::try_from(ms).unwrap_or(u16::MAX);
    script.push(1);
    script.extend_from_slice(&ms.to_be_bytes());
    ms
}
