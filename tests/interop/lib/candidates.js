'use strict';
// Candidate filtering for the harnesses: by default only loopback candidates
// (127.0.0.0/8, ::1) cross the signaling channel, so every test stays on this machine's
// loopback interface. POLYRTC_INTEROP_ALL_CANDIDATES=1 turns the filter off.

const ALL = process.env.POLYRTC_INTEROP_ALL_CANDIDATES === '1';

function candidateAddress(candidate) {
  // "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ..."
  const s = String(candidate || '').replace(/^a=/, '').trim();
  const parts = s.split(/\s+/);
  return parts.length >= 8 ? parts[4] : null;
}

function isLoopbackAddress(addr) {
  if (!addr) return false;
  return addr === '::1' || /^127\./.test(addr);
}

function isMdnsAddress(addr) {
  return !!addr && /\.local$/i.test(addr);
}

function keepCandidate(candidate) {
  if (ALL) return true;
  return isLoopbackAddress(candidateAddress(candidate));
}

function filterSdp(sdp) {
  if (ALL || typeof sdp !== 'string') return sdp;
  return sdp
    .split(/\r\n/)
    .filter((line) => !line.startsWith('a=candidate:') || keepCandidate(line))
    .join('\r\n');
}

function filterDescription(desc) {
  if (!desc) return desc;
  return { type: desc.type, sdp: filterSdp(desc.sdp) };
}

module.exports = { candidateAddress, isLoopbackAddress, isMdnsAddress, keepCandidate, filterSdp, filterDescription };
