// Brand checks for the RTP classes, which are built once per engine (their static
// getCapabilities() asks that engine): an object made by any of them passes.
const SENDERS = new WeakSet();
const RECEIVERS = new WeakSet();
const TRANSCEIVERS = new WeakSet();

function isSender(x) { return typeof x === 'object' && x !== null && SENDERS.has(x); }
function isReceiver(x) { return typeof x === 'object' && x !== null && RECEIVERS.has(x); }
function isTransceiver(x) { return typeof x === 'object' && x !== null && TRANSCEIVERS.has(x); }

export { SENDERS, RECEIVERS, TRANSCEIVERS, isSender, isReceiver, isTransceiver };
