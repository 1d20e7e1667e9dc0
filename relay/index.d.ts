// Types of `polyrtc/relay` (Node): relay/index.js (CommonJS) and relay/index.mjs (ESM, whose
// default export is the CommonJS module.exports, as TypeScript models it from this file).
import type { ChildProcess } from 'node:child_process';

export interface StartRelayOptions {
  /** Address to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port to listen on (default 0: a free port). A RangeError rejects a bad one. */
  port?: number;
  /** `ip:port` to listen on, in place of host and port. */
  listen?: string;
  /** Static long-term credentials: user name -> password. */
  users?: Record<string, string>;
  /** Shared secret for time-limited REST credentials (coturn's `use-auth-secret`). */
  secret?: string;
  /** The TURN realm. */
  realm?: string;
  /** Admit peers at loopback, private and link-local addresses (tests on one machine). */
  allowPrivate?: boolean;
  /** Most allocations in total. */
  maxAllocations?: number;
  /** Most allocations per user. */
  maxAllocationsPerUser?: number;
  /** Bandwidth per allocation. */
  bandwidth?: number;
  /** An upstream TURN server (`turn:host:port?transport=tcp`): each WebSocket client's
   * messages go over its own TCP connection to it. */
  upstream?: string;
  /** Path of the polyrtc-relay binary (else $POLYRTC_RELAY_BIN, else the cargo target dir). */
  bin?: string;
}

export interface Relay {
  /** `ws://host:port`, for the WASM engine's `relay` configuration member. */
  readonly wsUrl: string;
  /** `turn:` URLs (`?transport=udp` / `?transport=tcp`) for any TURN client's `iceServers`. */
  readonly turnUrls: string[];
  /** The relay's process. */
  readonly process: ChildProcess;
  /** The relay's counters (allocations, packets and bytes each way, drops by reason). */
  stats(): Promise<Record<string, unknown>>;
  /** Stops the relay; resolves with its exit code once it has exited. */
  close(): Promise<number | null>;
}

/** Starts a polyrtc-relay and resolves once it listens. */
export function startRelay(options?: StartRelayOptions): Promise<Relay>;
