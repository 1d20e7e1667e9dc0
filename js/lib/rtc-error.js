import { toDictionary, toEnum, toDOMString, toNumber } from './util.js';

const ERROR_DETAILS = [
  'data-channel-failure', 'dtls-failure', 'fingerprint-failure', 'sctp-failure',
  'sdp-syntax-error', 'hardware-encoder-not-available', 'hardware-encoder-error',
];

const LONG = [-2147483648, 2147483647];
const ULONG = [0, 4294967295];

/** W3C webrtc-pc §11.1 RTCError: a DOMException whose name is always OperationError. */
class RTCError extends DOMException {
  #errorDetail;
  #sdpLineNumber;
  #sctpCauseCode;
  #receivedAlert;
  #sentAlert;
  #httpRequestStatusCode;

  constructor(init, message = '') {
    if (arguments.length < 1) throw new TypeError('RTCError: 1 argument required');
    const dict = toDictionary(init, 'RTCErrorInit');
    // Members in lexicographic order, as WebIDL converts them.
    const errorDetail = dict.errorDetail;
    if (errorDetail === undefined) throw new TypeError('RTCErrorInit.errorDetail is required');
    const detail = toEnum(errorDetail, ERROR_DETAILS, 'RTCErrorDetailType');
    const opt = (v, range, what) => (v === undefined ? null : enforceRangeLoose(v, range, what));
    const httpRequestStatusCode = opt(dict.httpRequestStatusCode, LONG, 'httpRequestStatusCode');
    const receivedAlert = opt(dict.receivedAlert, ULONG, 'receivedAlert');
    const sctpCauseCode = opt(dict.sctpCauseCode, LONG, 'sctpCauseCode');
    const sdpLineNumber = opt(dict.sdpLineNumber, LONG, 'sdpLineNumber');
    const sentAlert = opt(dict.sentAlert, ULONG, 'sentAlert');
    super(message === undefined ? '' : toDOMString(message), 'OperationError');
    this.#errorDetail = detail;
    this.#sdpLineNumber = sdpLineNumber;
    this.#sctpCauseCode = sctpCauseCode;
    this.#receivedAlert = receivedAlert;
    this.#sentAlert = sentAlert;
    this.#httpRequestStatusCode = httpRequestStatusCode;
  }

  get errorDetail() { return this.#errorDetail; }
  get sdpLineNumber() { return this.#sdpLineNumber; }
  get sctpCauseCode() { return this.#sctpCauseCode; }
  get receivedAlert() { return this.#receivedAlert; }
  get sentAlert() { return this.#sentAlert; }
  get httpRequestStatusCode() { return this.#httpRequestStatusCode; }
}

/** WebIDL `long` / `unsigned long` (no [EnforceRange]): ToInt32 / ToUint32. */
function enforceRangeLoose(v, [min], what) {
  const n = toNumber(v);
  void what;
  return min < 0 ? n | 0 : n >>> 0;
}

Object.defineProperty(RTCError.prototype, Symbol.toStringTag, { value: 'RTCError', configurable: true });

export { RTCError, ERROR_DETAILS };
