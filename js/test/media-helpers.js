'use strict';
// Helpers of the w3c-media-* suites (fake engine). Not a test file.

/** One offer/answer round, no ICE candidates (the fake engine carries media without them). */
async function exchange(offerer, answerer) {
  await offerer.setLocalDescription();
  await answerer.setRemoteDescription(offerer.localDescription);
  await answerer.setLocalDescription();
  await offerer.setRemoteDescription(answerer.localDescription);
}

function isDom(name) {
  return (err) => err instanceof DOMException && err.name === name;
}

/** Counts negotiationneeded events. */
function countNegotiationNeeded(pc) {
  const counter = { n: 0 };
  pc.addEventListener('negotiationneeded', () => { counter.n += 1; });
  return counter;
}

module.exports = { exchange, isDom, countNegotiationNeeded };
