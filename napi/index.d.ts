// Types of the polyrtc Node addon (see engine-contract.md). Hand-written.

export interface NativeFingerprint { algorithm: string; value: string }

export declare class NativeCertificate {
  private constructor();
  readonly fingerprints: NativeFingerprint[];
  /** Milliseconds since the Unix epoch. */
  readonly expires: number;
}

export declare function generateCertificate(expiresMs?: number): NativeCertificate;
/** An RSA certificate (e = 65537, sha256WithRSAEncryption), generated on a worker thread. */
export declare function generateRsaCertificate(modulusLength: number, expiresMs?: number): Promise<NativeCertificate>;

export interface NativePeerConfig {
  /** "host:port" of each STUN server. */
  stunServers: string[];
  certificates?: NativeCertificate[];
  includeLoopback?: boolean;
  maxMessageSize?: number;
  /** W3C iceTransportPolicy (default 'all'). */
  iceTransportPolicy?: 'all' | 'relay';
}

/** What setConfiguration() may change; applies from the next gathering phase. */
export interface NativePeerIceConfig {
  stunServers: string[];
  iceTransportPolicy?: 'all' | 'relay';
}

export interface NativeDescription { type: 'offer' | 'pranswer' | 'answer' | 'rollback'; sdp: string }

export interface NativeCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface NativePeerState {
  signalingState: string;
  iceGatheringState: string;
  iceConnectionState: string;
  connectionState: string;
  canTrickleIceCandidates: boolean | null;
  currentLocalDescription: NativeDescription | null;
  pendingLocalDescription: NativeDescription | null;
  currentRemoteDescription: NativeDescription | null;
  pendingRemoteDescription: NativeDescription | null;
  sctpMaxMessageSize: number | null;
  negotiationNeeded: boolean;
  /** Once the DTLS transport failed. */
  dtlsError: 'fingerprint-failure' | 'dtls-failure' | null;
  /** The selected ICE pair as candidate attributes ("candidate:..."). */
  selectedCandidatePair: { local: string; remote: string } | null;
  /** Non-STUN datagrams dropped for not coming over a validated ICE path. */
  datagramsDroppedOffPath: number;
}

export interface NativeStatsCandidate {
  address: string; port: number; protocol: string; candidateType: string; priority: number; foundation: string;
  relatedAddress?: string; relatedPort?: number; usernameFragment?: string; url?: string;
  relayProtocol?: 'udp' | 'tcp' | 'tls'; tcpType?: string;
}

export interface NativeStatsCertificate { fingerprintAlgorithm: string; fingerprint: string; der: Buffer }

export interface NativePeerStats {
  transport: {
    packetsSent: number; packetsReceived: number; bytesSent: number; bytesReceived: number;
    iceRole: 'controlling' | 'controlled'; iceLocalUsernameFragment: string;
    dtlsRole: 'client' | 'server' | 'unknown'; tlsVersion?: string; dtlsCipher?: string;
    datagramsDroppedOffPath: number;
  };
  candidatePairs: Array<{
    local: NativeStatsCandidate; remote: NativeStatsCandidate;
    state: 'waiting' | 'in-progress' | 'succeeded' | 'failed'; nominated: boolean; selected: boolean;
    packetsSent: number; packetsReceived: number; bytesSent: number; bytesReceived: number;
    requestsSent: number; requestsReceived: number; responsesSent: number; responsesReceived: number;
    consentRequestsSent: number; totalRoundTripTime: number; currentRoundTripTime: number | null;
    lastPacketSentAgeMs: number | null; lastPacketReceivedAgeMs: number | null; availableOutgoingBitrate?: number;
  }>;
  localCandidates: NativeStatsCandidate[];
  remoteCandidates: NativeStatsCandidate[];
  localCertificate: NativeStatsCertificate | null;
  remoteCertificate: NativeStatsCertificate | null;
}

export interface NativeDataChannelInit {
  label: string;
  protocol: string;
  ordered: boolean;
  maxPacketLifeTime?: number | null;
  maxRetransmits?: number | null;
  negotiated: boolean;
  id?: number | null;
}

export type NativeEvent =
  | { type: 'icecandidate'; candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null; usernameFragment: string | null } | null }
  | { type: 'icegatheringstatechange'; state: string }
  | { type: 'iceconnectionstatechange'; state: string }
  | { type: 'dtlsstatechange'; state: string }
  | { type: 'connectionstatechange'; state: string }
  | { type: 'sctpconnected'; maxMessageSize: number; maxChannels: number }
  | { type: 'channelid'; channel: number; id: number }
  | { type: 'channelopen'; channel: number }
  | { type: 'datachannel'; channel: number; id: number; label: string; protocol: string; ordered: boolean; maxPacketLifeTime: number | null; maxRetransmits: number | null }
  | { type: 'message'; channel: number; binary: boolean; data: Buffer }
  | { type: 'bufferedamountdecrease'; channel: number; bytes: number }
  | { type: 'channelclosing'; channel: number }
  | { type: 'channelclose'; channel: number }
  | { type: 'channelerror'; channel: number; name: string; message: string }
  | { type: 'error'; message: string };

/** Errors thrown by every method: `code` is the DOMException name, `message` is "<code>: <text>". */
export interface NativeError extends Error { code: string }

export declare class NativePeer {
  constructor(config: NativePeerConfig, onEvents: (events: NativeEvent[]) => void);
  createOffer(iceRestart?: boolean): string;
  restartIce(): void;
  createAnswer(): string;
  setLocalDescription(type: string | null, sdp: string | null): NativeDescription;
  setRemoteDescription(type: string, sdp: string): void;
  setConfiguration(config: NativePeerIceConfig): void;
  /** The peer's DER certificate once DTLS is connected, else []. */
  remoteCertificates(): Uint8Array[];
  addIceCandidate(init: NativeCandidateInit | null): void;
  getState(): NativePeerState;
  /** The core's getStats() figures (see engine-contract.md). */
  getStats(): NativePeerStats;
  createDataChannel(init: NativeDataChannelInit): { channel: number; id: number | null };
  send(channel: number, binary: boolean, data: Uint8Array): void;
  closeChannel(channel: number): void;
  close(): void;
  certificate(): NativeCertificate;
}
