// Type definitions for polyrtc's W3C WebRTC API (data channels). Hand-written, following
// W3C webrtc-pc (WebRTC 1.0). Media interfaces are not provided.

export type RTCIceTransportPolicy = 'relay' | 'all';
export type RTCBundlePolicy = 'balanced' | 'max-compat' | 'max-bundle';
export type RTCRtcpMuxPolicy = 'require';
export type RTCSdpType = 'offer' | 'pranswer' | 'answer' | 'rollback';
export type RTCSignalingState =
  | 'stable' | 'have-local-offer' | 'have-remote-offer' | 'have-local-pranswer' | 'have-remote-pranswer' | 'closed';
export type RTCIceGatheringState = 'new' | 'gathering' | 'complete';
export type RTCIceConnectionState =
  | 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';
export type RTCPeerConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type RTCIceTransportState = RTCIceConnectionState;
export type RTCIceGathererState = RTCIceGatheringState;
export type RTCIceRole = 'unknown' | 'controlling' | 'controlled';
export type RTCIceComponent = 'rtp' | 'rtcp';
export type RTCIceProtocol = 'udp' | 'tcp';
export type RTCIceCandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
export type RTCIceTcpCandidateType = 'active' | 'passive' | 'so';
export type RTCDtlsTransportState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';
export type RTCSctpTransportState = 'connecting' | 'connected' | 'closed';
export type RTCDataChannelState = 'connecting' | 'open' | 'closing' | 'closed';
export type BinaryType = 'blob' | 'arraybuffer';
export type RTCErrorDetailType =
  | 'data-channel-failure' | 'dtls-failure' | 'fingerprint-failure' | 'sctp-failure'
  | 'sdp-syntax-error' | 'hardware-encoder-not-available' | 'hardware-encoder-error';

/** The DOM's EventInit (declared here so the types need no "dom" lib). */
export interface EventInitDict {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export interface RTCIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface RTCConfiguration {
  iceServers?: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  bundlePolicy?: RTCBundlePolicy;
  rtcpMuxPolicy?: RTCRtcpMuxPolicy;
  certificates?: RTCCertificate[];
  iceCandidatePoolSize?: number;
  /**
   * Nonstandard (polyrtc; browsers ignore it): the TURN relays the WASM engine reaches over a
   * WebSocket (`ws:` / `wss:` URLs, subprotocol `turn`), one relayed candidate each. The
   * Node addon ignores it. `getConfiguration()` returns it as a list, `urls` as arrays.
   */
  relay?: RTCRelayServer | RTCRelayServer[];
  /**
   * Nonstandard (polyrtc's Node addon; browsers ignore it): PEM certificates trusted for
   * `turns:` servers instead of the system's roots (the distribution's CA bundle,
   * `SSL_CERT_FILE`, plus `NODE_EXTRA_CA_CERTS`). Used from construction only.
   */
  turnsCa?: string | string[];
  /**
   * Nonstandard (polyrtc's Node addon; browsers ignore it): signal host candidates under
   * random `<uuid>.local` names instead of their addresses, as browsers do by default, and
   * answer multicast DNS queries for them on the local link. Off by default (a server's
   * addresses are meant to be reached). Set at construction only.
   */
  mdnsHostCandidates?: boolean;
  /**
   * Nonstandard (polyrtc's Node addon; browsers ignore it): put every host candidate on this
   * UDP port. All connections given the same port share one socket per local address;
   * datagrams are routed to them by ICE username fragment (checks), transaction id (responses),
   * then by the remote address whose check they answered: the way to run thousands of connections behind one firewall rule.
   * TURN over UDP needs a socket of the connection's own, so with this option use `turn:`
   * over TCP or `turns:`. Set at construction only.
   */
  sharedUdpPort?: number;
  /**
   * Nonstandard (polyrtc's Node addon; browsers ignore it): run as an ICE-lite agent
   * (RFC 8445 §2.5, `a=ice-lite` in our descriptions): host candidates only (STUN servers
   * are ignored, TURN servers refused with InvalidAccessError), no connectivity checks of
   * our own, always the controlled side; the peer's checks select the path and keep it
   * alive. For servers on public addresses whose clients run full ICE (browsers do).
   * Set at construction only.
   */
  iceLite?: boolean;
}

/** A relay of `RTCConfiguration.relay`: shaped like an RTCIceServer, with ws:/wss: URLs. */
export interface RTCRelayServer {
  urls: string | string[];
  username: string;
  credential: string;
}

export interface RTCSessionDescriptionInit {
  type: RTCSdpType;
  sdp?: string;
}

export interface RTCLocalSessionDescriptionInit {
  type?: RTCSdpType;
  sdp?: string;
}

export interface RTCIceCandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface RTCDataChannelInit {
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
  negotiated?: boolean;
  /** Used only when `negotiated` is true; an in-band channel gets its id from the DTLS role. */
  id?: number;
}

export interface RTCOfferOptions {
  iceRestart?: boolean;
}

export interface RTCAnswerOptions {}

export interface RTCDtlsFingerprint {
  algorithm?: string;
  value?: string;
}

export interface AlgorithmIdentifierObject {
  name: string;
  namedCurve?: string;
  expires?: number;
  [key: string]: unknown;
}
/** `generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' })`. */
export interface EcKeyGenParams extends AlgorithmIdentifierObject {
  name: 'ECDSA' | string;
  namedCurve: 'P-256' | string;
}
/**
 * `generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048,
 * publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' })`; modulusLength 1024, 2048
 * or 4096. The key is generated off the JS thread.
 */
export interface RsaHashedKeyGenParams extends AlgorithmIdentifierObject {
  name: 'RSASSA-PKCS1-v1_5' | string;
  modulusLength: number;
  publicExponent: Uint8Array;
  hash: string | { name: string };
}
export type AlgorithmIdentifier = string | AlgorithmIdentifierObject | EcKeyGenParams | RsaHashedKeyGenParams;

export class RTCSessionDescription {
  constructor(descriptionInitDict: RTCSessionDescriptionInit);
  readonly type: RTCSdpType;
  readonly sdp: string;
  toJSON(): RTCSessionDescriptionInit;
}

export class RTCIceCandidate {
  constructor(candidateInitDict?: RTCIceCandidateInit);
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly foundation: string | null;
  readonly component: RTCIceComponent | null;
  readonly priority: number | null;
  readonly address: string | null;
  readonly protocol: RTCIceProtocol | null;
  readonly port: number | null;
  readonly type: RTCIceCandidateType | null;
  readonly tcpType: RTCIceTcpCandidateType | null;
  readonly relatedAddress: string | null;
  readonly relatedPort: number | null;
  readonly usernameFragment: string | null;
  readonly relayProtocol: string | null;
  readonly url: string | null;
  toJSON(): RTCIceCandidateInit;
}

export class RTCCertificate {
  private constructor();
  readonly expires: number;
  getFingerprints(): RTCDtlsFingerprint[];
}

type Handler<T, E extends Event = Event> = ((this: T, ev: E) => any) | null;

export interface RTCIceCandidatePair {
  local: RTCIceCandidate;
  remote: RTCIceCandidate;
}

export interface RTCIceParameters {
  usernameFragment: string;
  password: string;
}

export class RTCIceTransport extends EventTarget {
  private constructor();
  readonly role: RTCIceRole;
  readonly component: RTCIceComponent;
  readonly state: RTCIceTransportState;
  readonly gatheringState: RTCIceGathererState;
  getLocalCandidates(): RTCIceCandidate[];
  getRemoteCandidates(): RTCIceCandidate[];
  getSelectedCandidatePair(): RTCIceCandidatePair | null;
  getLocalParameters(): RTCIceParameters | null;
  getRemoteParameters(): RTCIceParameters | null;
  onstatechange: Handler<RTCIceTransport>;
  ongatheringstatechange: Handler<RTCIceTransport>;
  onselectedcandidatepairchange: Handler<RTCIceTransport>;
}

export class RTCDtlsTransport extends EventTarget {
  private constructor();
  readonly iceTransport: RTCIceTransport;
  readonly state: RTCDtlsTransportState;
  getRemoteCertificates(): ArrayBuffer[];
  onstatechange: Handler<RTCDtlsTransport>;
  onerror: Handler<RTCDtlsTransport, RTCErrorEvent>;
}

export class RTCSctpTransport extends EventTarget {
  private constructor();
  readonly transport: RTCDtlsTransport;
  readonly state: RTCSctpTransportState;
  readonly maxMessageSize: number;
  readonly maxChannels: number | null;
  onstatechange: Handler<RTCSctpTransport>;
}

/** webrtc-stats dictionaries reported by getStats() (the members polyrtc fills in). */
export interface RTCStats {
  id: string;
  type: 'peer-connection' | 'data-channel' | 'transport';
  timestamp: number;
}
export interface RTCPeerConnectionStats extends RTCStats {
  type: 'peer-connection';
  dataChannelsOpened: number;
  dataChannelsClosed: number;
}
export interface RTCDataChannelStats extends RTCStats {
  type: 'data-channel';
  label: string;
  protocol: string;
  dataChannelIdentifier?: number;
  state: RTCDataChannelState;
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
}
export interface RTCTransportStats extends RTCStats {
  type: 'transport';
  dtlsState: RTCDtlsTransportState;
  iceState: RTCIceTransportState;
  iceRole: RTCIceRole;
  /** Times ICE went to connected from checking or disconnected (the core selects one pair). */
  selectedCandidatePairChanges: number;
  packetsSent?: number;
  packetsReceived?: number;
  bytesSent?: number;
  bytesReceived?: number;
  iceLocalUsernameFragment?: string;
  dtlsRole?: 'client' | 'server' | 'unknown';
  /** "FEFD" (DTLS 1.2) once the handshake chose a suite. */
  tlsVersion?: string;
  /** IANA name of the negotiated suite, e.g. "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256". */
  dtlsCipher?: string;
  selectedCandidatePairId?: string;
  localCertificateId?: string;
  remoteCertificateId?: string;
  /**
   * polyrtc-specific, not in webrtc-stats: DTLS datagrams dropped because they did not come
   * from the remote address of a validated ICE pair (strangers, or the peer once consent is
   * lost). Absent when the engine does not count them.
   */
  datagramsDroppedOffPath?: number;
}
export interface RTCIceCandidatePairStats extends RTCStats {
  type: 'candidate-pair';
  transportId: string;
  localCandidateId: string;
  remoteCandidateId: string;
  state: 'frozen' | 'waiting' | 'in-progress' | 'failed' | 'succeeded';
  nominated: boolean;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  requestsSent: number;
  requestsReceived: number;
  responsesSent: number;
  responsesReceived: number;
  consentRequestsSent: number;
  /** Seconds. */
  totalRoundTripTime: number;
  /** Seconds. */
  currentRoundTripTime?: number;
  lastPacketSentTimestamp?: number;
  lastPacketReceivedTimestamp?: number;
  availableOutgoingBitrate?: number;
}
export interface RTCIceCandidateStats extends RTCStats {
  type: 'local-candidate' | 'remote-candidate';
  transportId: string;
  address: string;
  port: number;
  protocol: string;
  candidateType: RTCIceCandidateType;
  priority: number;
  foundation: string;
  relatedAddress?: string;
  relatedPort?: number;
  usernameFragment?: string;
  url?: string;
  relayProtocol?: 'udp' | 'tcp' | 'tls';
  tcpType?: string;
}
export interface RTCCertificateStats extends RTCStats {
  type: 'certificate';
  fingerprint: string;
  fingerprintAlgorithm: string;
  base64Certificate: string;
}
export type RTCStatsAny = RTCPeerConnectionStats | RTCDataChannelStats | RTCTransportStats
  | RTCIceCandidatePairStats | RTCIceCandidateStats | RTCCertificateStats;

/** A read-only maplike<DOMString, object> (webrtc-pc §8.3). */
export class RTCStatsReport {
  private constructor();
  readonly size: number;
  get(id: string): RTCStatsAny | undefined;
  has(id: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<RTCStatsAny>;
  entries(): IterableIterator<[string, RTCStatsAny]>;
  forEach(callback: (value: RTCStatsAny, key: string, report: RTCStatsReport) => void, thisArg?: unknown): void;
  [Symbol.iterator](): IterableIterator<[string, RTCStatsAny]>;
}

export class RTCDataChannel extends EventTarget {
  private constructor();
  readonly label: string;
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly maxRetransmits: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  readonly id: number | null;
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: BinaryType;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(): void;
  onopen: Handler<RTCDataChannel>;
  onbufferedamountlow: Handler<RTCDataChannel>;
  onerror: Handler<RTCDataChannel, RTCErrorEvent>;
  onclosing: Handler<RTCDataChannel>;
  onclose: Handler<RTCDataChannel>;
  onmessage: Handler<RTCDataChannel, MessageEvent>;
}

export interface RTCPeerConnectionIceEventInit extends EventInitDict {
  candidate?: RTCIceCandidate | null;
  url?: string | null;
}

export class RTCPeerConnectionIceEvent extends Event {
  constructor(type: string, eventInitDict?: RTCPeerConnectionIceEventInit);
  readonly candidate: RTCIceCandidate | null;
  readonly url: string | null;
}

export interface RTCPeerConnectionIceErrorEventInit extends EventInitDict {
  address?: string | null;
  port?: number | null;
  url?: string;
  errorCode: number;
  errorText?: string;
}

export class RTCPeerConnectionIceErrorEvent extends Event {
  constructor(type: string, eventInitDict: RTCPeerConnectionIceErrorEventInit);
  readonly address: string | null;
  readonly port: number | null;
  readonly url: string;
  readonly errorCode: number;
  readonly errorText: string;
}

export interface RTCDataChannelEventInit extends EventInitDict {
  channel: RTCDataChannel;
}

export class RTCDataChannelEvent extends Event {
  constructor(type: string, eventInitDict: RTCDataChannelEventInit);
  readonly channel: RTCDataChannel;
}

export interface RTCErrorInit {
  errorDetail: RTCErrorDetailType;
  sdpLineNumber?: number;
  sctpCauseCode?: number;
  receivedAlert?: number;
  sentAlert?: number;
  httpRequestStatusCode?: number;
}

export class RTCError extends DOMException {
  constructor(init: RTCErrorInit, message?: string);
  readonly errorDetail: RTCErrorDetailType;
  readonly sdpLineNumber: number | null;
  readonly sctpCauseCode: number | null;
  readonly receivedAlert: number | null;
  readonly sentAlert: number | null;
  readonly httpRequestStatusCode: number | null;
}

export interface RTCErrorEventInit extends EventInitDict {
  error: RTCError;
}

export class RTCErrorEvent extends Event {
  constructor(type: string, eventInitDict: RTCErrorEventInit);
  readonly error: RTCError;
}

// ---- RTP media (webrtc-pc §5) and mediacapture-main ----------------------------------------

export type MediaStreamTrackState = 'live' | 'ended';
export type RTCRtpTransceiverDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | 'stopped';
export type RTCPriorityType = 'very-low' | 'low' | 'medium' | 'high';

export interface MediaTrackSettings {
  deviceId?: string; groupId?: string; width?: number; height?: number; frameRate?: number;
  sampleRate?: number; channelCount?: number;
}
export interface ULongRange { min?: number; max?: number }
export interface ConstrainNumberRange { min?: number; max?: number; exact?: number; ideal?: number }
export type ConstrainNumber = number | ConstrainNumberRange;
export interface MediaTrackConstraints {
  deviceId?: string | { exact?: string | string[]; ideal?: string | string[] };
  width?: ConstrainNumber; height?: ConstrainNumber; frameRate?: ConstrainNumber;
  sampleRate?: ConstrainNumber; channelCount?: ConstrainNumber;
}
export interface MediaTrackCapabilities {
  deviceId?: string; groupId?: string; width?: ULongRange; height?: ULongRange; frameRate?: ULongRange;
  sampleRate?: ULongRange; channelCount?: ULongRange;
}
export interface MediaStreamConstraints {
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
}

export class MediaStreamTrack extends EventTarget {
  private constructor();
  readonly kind: 'audio' | 'video';
  readonly id: string;
  readonly label: string;
  enabled: boolean;
  readonly muted: boolean;
  readonly readyState: MediaStreamTrackState;
  contentHint: string;
  stop(): void;
  clone(): MediaStreamTrack;
  getCapabilities(): MediaTrackCapabilities;
  getConstraints(): MediaTrackConstraints;
  getSettings(): MediaTrackSettings;
  applyConstraints(constraints?: MediaTrackConstraints): Promise<void>;
  onmute: Handler<MediaStreamTrack>;
  onunmute: Handler<MediaStreamTrack>;
  onended: Handler<MediaStreamTrack>;
}

export interface MediaStreamTrackEventInit extends EventInitDict { track: MediaStreamTrack }
export class MediaStreamTrackEvent extends Event {
  constructor(type: string, eventInitDict: MediaStreamTrackEventInit);
  readonly track: MediaStreamTrack;
}

export class MediaStream extends EventTarget {
  constructor(streamOrTracks?: MediaStream | Iterable<MediaStreamTrack>);
  readonly id: string;
  readonly active: boolean;
  getTracks(): MediaStreamTrack[];
  getAudioTracks(): MediaStreamTrack[];
  getVideoTracks(): MediaStreamTrack[];
  getTrackById(trackId: string): MediaStreamTrack | null;
  addTrack(track: MediaStreamTrack): void;
  removeTrack(track: MediaStreamTrack): void;
  clone(): MediaStream;
  onaddtrack: Handler<MediaStream, MediaStreamTrackEvent>;
  onremovetrack: Handler<MediaStream, MediaStreamTrackEvent>;
}

export class OverconstrainedError extends DOMException {
  constructor(constraint: string, message?: string);
  readonly constraint: string;
}

export interface MediaDeviceInfo { deviceId: string; kind: 'audioinput' | 'videoinput'; label: string; groupId: string }
export interface MediaDevices extends EventTarget {
  /** Synthetic devices: frames come from the engine's synthFrame hook. */
  getUserMedia(constraints?: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  getSupportedConstraints(): Record<string, boolean>;
  ondevicechange: Handler<MediaDevices>;
}

export interface RTCRtpCodec { mimeType: string; clockRate: number; channels?: number; sdpFmtpLine?: string }
export interface RTCRtpCodecParameters extends RTCRtpCodec { payloadType: number }
export interface RTCRtpHeaderExtensionCapability { uri: string }
export interface RTCRtpHeaderExtensionParameters { uri: string; id: number; encrypted?: boolean }
export interface RTCRtpCapabilities { codecs: RTCRtpCodec[]; headerExtensions: RTCRtpHeaderExtensionCapability[] }
export interface RTCRtcpParameters { cname?: string; reducedSize?: boolean }
export interface RTCRtpEncodingParameters {
  rid?: string; active?: boolean; maxBitrate?: number; maxFramerate?: number; scaleResolutionDownBy?: number;
  priority?: RTCPriorityType; networkPriority?: RTCPriorityType; codec?: RTCRtpCodec;
}
export interface RTCRtpParameters {
  headerExtensions: RTCRtpHeaderExtensionParameters[]; rtcp: RTCRtcpParameters; codecs: RTCRtpCodecParameters[];
}
export interface RTCRtpSendParameters extends RTCRtpParameters { transactionId: string; encodings: RTCRtpEncodingParameters[] }
export type RTCRtpReceiveParameters = RTCRtpParameters;
export interface RTCRtpContributingSource { timestamp: number; source: number; audioLevel?: number; rtpTimestamp: number }
export type RTCRtpSynchronizationSource = RTCRtpContributingSource;
export interface RTCRtpTransceiverInit {
  direction?: RTCRtpTransceiverDirection; streams?: MediaStream[]; sendEncodings?: RTCRtpEncodingParameters[];
}

export interface RTCDTMFToneChangeEventInit extends EventInitDict { tone?: string }
export class RTCDTMFToneChangeEvent extends Event {
  constructor(type: string, eventInitDict?: RTCDTMFToneChangeEventInit);
  readonly tone: string;
}
/** The engine sends no DTMF packets yet: tones are validated and played out on timers. */
export class RTCDTMFSender extends EventTarget {
  private constructor();
  insertDTMF(tones: string, duration?: number, interToneGap?: number): void;
  readonly toneBuffer: string;
  readonly canInsertDTMF: boolean;
  ontonechange: Handler<RTCDTMFSender, RTCDTMFToneChangeEvent>;
}

export class RTCRtpSender {
  private constructor();
  static getCapabilities(kind: string): RTCRtpCapabilities | null;
  readonly track: MediaStreamTrack | null;
  readonly transport: RTCDtlsTransport | null;
  readonly dtmf: RTCDTMFSender | null;
  replaceTrack(withTrack: MediaStreamTrack | null): Promise<void>;
  setStreams(...streams: MediaStream[]): void;
  getParameters(): RTCRtpSendParameters;
  setParameters(parameters: RTCRtpSendParameters, setParameterOptions?: object): Promise<void>;
  getStats(): Promise<RTCStatsReport>;
}

export class RTCRtpReceiver {
  private constructor();
  static getCapabilities(kind: string): RTCRtpCapabilities | null;
  readonly track: MediaStreamTrack;
  readonly transport: RTCDtlsTransport | null;
  /** Validated (null or 0..4000 ms) and kept; the engine has no jitter buffer to steer yet. */
  jitterBufferTarget: number | null;
  getParameters(): RTCRtpReceiveParameters;
  getContributingSources(): RTCRtpContributingSource[];
  getSynchronizationSources(): RTCRtpSynchronizationSource[];
  getStats(): Promise<RTCStatsReport>;
}

export class RTCRtpTransceiver {
  private constructor();
  readonly mid: string | null;
  readonly sender: RTCRtpSender;
  readonly receiver: RTCRtpReceiver;
  direction: RTCRtpTransceiverDirection;
  readonly currentDirection: RTCRtpTransceiverDirection | null;
  stop(): void;
  setCodecPreferences(codecs: RTCRtpCodec[]): void;
}

export interface RTCTrackEventInit extends EventInitDict {
  receiver: RTCRtpReceiver; track: MediaStreamTrack; streams?: MediaStream[]; transceiver: RTCRtpTransceiver;
}
export class RTCTrackEvent extends Event {
  constructor(type: string, eventInitDict: RTCTrackEventInit);
  readonly receiver: RTCRtpReceiver;
  readonly track: MediaStreamTrack;
  readonly streams: ReadonlyArray<MediaStream>;
  readonly transceiver: RTCRtpTransceiver;
}

// ---- polyrtc's encoded media (nonstandard; js/README.md "Encoded media") ------------------

/** One encoded frame, shaped like WebCodecs' EncodedVideoChunk / EncodedAudioChunk. */
export interface EncodedFrameInit {
  type: 'key' | 'delta';
  /** Microseconds. */
  timestamp: number;
  duration?: number | null;
  data?: ArrayBuffer | ArrayBufferView;
}
/** What writeFrame() also takes: a WebCodecs chunk (or anything with its shape). */
export interface EncodedChunkLike {
  type: 'key' | 'delta'; timestamp: number; duration?: number | null; byteLength: number;
  copyTo(destination: Uint8Array): void;
}
export interface EncodedFrame {
  type: 'key' | 'delta'; timestamp: number; rtpTimestamp: number | null; data: Uint8Array;
  mimeType: string | null; duration?: number;
}

export class EncodedMediaSource extends EventTarget {
  constructor(init: { kind: 'audio' | 'video'; mimeType?: string });
  readonly kind: 'audio' | 'video';
  readonly mimeType: string | null;
  /** The track to give addTrack() / addTransceiver() / replaceTrack(). */
  readonly track: MediaStreamTrack;
  readonly framesWritten: number;
  writeFrame(frame: EncodedFrameInit | EncodedChunkLike): void;
  /** One RTP packet; the sender's SSRC replaces the packet's. */
  writeRtp(packet: ArrayBuffer | ArrayBufferView): void;
  close(): void;
  /** A sender's remote (or a new sender) wants a keyframe. */
  onkeyframerequest: Handler<EncodedMediaSource>;
}

export class EncodedMediaEvent extends Event {
  readonly frame: EncodedFrame | null;
  readonly frameType: 'key' | 'delta' | null;
  readonly timestamp: number | null;
  readonly rtpTimestamp: number | null;
  readonly mimeType: string | null;
  /** The simulcast layer a received frame came on, or null. */
  readonly rid: string | null;
  /** The frame's bytes (`frame`) or the packet (`rtp`). */
  readonly data: Uint8Array | null;
}

/** Frames of a track (a remote one: what its receiver gets). Async iterator: MAX_QUEUED_FRAMES (64) held, oldest delta dropped. */
export interface EncodedMediaSinkOptions {
  /** Only the frames of this simulcast layer (RTP stream id) of a remote track. */
  rid?: string;
  /** Also `rtp` events: every RTP packet the remote track receives, decrypted. */
  rtp?: boolean;
}

export class EncodedMediaSink extends EventTarget implements AsyncIterable<EncodedFrame> {
  constructor(track: MediaStreamTrack, options?: EncodedMediaSinkOptions);
  readonly track: MediaStreamTrack;
  /** The layer given in the options, or null. */
  readonly rid: string | null;
  readonly framesDropped: number;
  readonly closed: boolean;
  requestKeyframe(): void;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<EncodedFrame>;
  onframe: Handler<EncodedMediaSink, EncodedMediaEvent>;
  onrtp: Handler<EncodedMediaSink, EncodedMediaEvent>;
}

export declare const mediaDevices: MediaDevices;

export class RTCPeerConnection extends EventTarget {
  constructor(configuration?: RTCConfiguration);
  static generateCertificate(keygenAlgorithm: AlgorithmIdentifier): Promise<RTCCertificate>;

  createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit>;
  createAnswer(options?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void>;
  restartIce(): void;
  getConfiguration(): RTCConfiguration;
  setConfiguration(configuration?: RTCConfiguration): void;
  close(): void;
  createDataChannel(label: string, dataChannelDict?: RTCDataChannelInit): RTCDataChannel;
  getSenders(): RTCRtpSender[];
  getReceivers(): RTCRtpReceiver[];
  getTransceivers(): RTCRtpTransceiver[];
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): RTCRtpSender;
  removeTrack(sender: RTCRtpSender): void;
  addTransceiver(trackOrKind: MediaStreamTrack | 'audio' | 'video', init?: RTCRtpTransceiverInit): RTCRtpTransceiver;
  /** Stats computed by the JS layer and the engine; a track selects its one sender or receiver. */
  getStats(selector?: MediaStreamTrack | null): Promise<RTCStatsReport>;

  readonly localDescription: RTCSessionDescription | null;
  readonly currentLocalDescription: RTCSessionDescription | null;
  readonly pendingLocalDescription: RTCSessionDescription | null;
  readonly remoteDescription: RTCSessionDescription | null;
  readonly currentRemoteDescription: RTCSessionDescription | null;
  readonly pendingRemoteDescription: RTCSessionDescription | null;
  readonly signalingState: RTCSignalingState;
  readonly iceGatheringState: RTCIceGatheringState;
  readonly iceConnectionState: RTCIceConnectionState;
  readonly connectionState: RTCPeerConnectionState;
  readonly canTrickleIceCandidates: boolean | null;
  readonly sctp: RTCSctpTransport | null;

  onnegotiationneeded: Handler<RTCPeerConnection>;
  onicecandidate: Handler<RTCPeerConnection, RTCPeerConnectionIceEvent>;
  onicecandidateerror: Handler<RTCPeerConnection, RTCPeerConnectionIceErrorEvent>;
  onsignalingstatechange: Handler<RTCPeerConnection>;
  oniceconnectionstatechange: Handler<RTCPeerConnection>;
  onicegatheringstatechange: Handler<RTCPeerConnection>;
  onconnectionstatechange: Handler<RTCPeerConnection>;
  ondatachannel: Handler<RTCPeerConnection, RTCDataChannelEvent>;
  ontrack: Handler<RTCPeerConnection, RTCTrackEvent>;
}

/** The default export of the ES-module entries (`import polyrtc from 'polyrtc'`): every class above. */
declare const polyrtc: {
  RTCPeerConnection: typeof RTCPeerConnection;
  RTCSessionDescription: typeof RTCSessionDescription;
  RTCIceCandidate: typeof RTCIceCandidate;
  RTCDataChannel: typeof RTCDataChannel;
  RTCPeerConnectionIceEvent: typeof RTCPeerConnectionIceEvent;
  RTCPeerConnectionIceErrorEvent: typeof RTCPeerConnectionIceErrorEvent;
  RTCDataChannelEvent: typeof RTCDataChannelEvent;
  RTCCertificate: typeof RTCCertificate;
  RTCSctpTransport: typeof RTCSctpTransport;
  RTCDtlsTransport: typeof RTCDtlsTransport;
  RTCIceTransport: typeof RTCIceTransport;
  RTCError: typeof RTCError;
  RTCErrorEvent: typeof RTCErrorEvent;
  RTCStatsReport: typeof RTCStatsReport;
  RTCRtpSender: typeof RTCRtpSender;
  RTCRtpReceiver: typeof RTCRtpReceiver;
  RTCRtpTransceiver: typeof RTCRtpTransceiver;
  RTCTrackEvent: typeof RTCTrackEvent;
  RTCDTMFSender: typeof RTCDTMFSender;
  RTCDTMFToneChangeEvent: typeof RTCDTMFToneChangeEvent;
  MediaStream: typeof MediaStream;
  MediaStreamTrack: typeof MediaStreamTrack;
  MediaStreamTrackEvent: typeof MediaStreamTrackEvent;
  OverconstrainedError: typeof OverconstrainedError;
  EncodedMediaSource: typeof EncodedMediaSource;
  EncodedMediaSink: typeof EncodedMediaSink;
  EncodedMediaEvent: typeof EncodedMediaEvent;
  mediaDevices: MediaDevices;
};
export default polyrtc;
