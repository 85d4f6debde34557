/**
 * Spanning-tree BPDUs (IEEE 802.1D-2004 clause 9), carried in 802.3 frames with an LLC header
 * (DSAP 0x42, SSAP 0x42, control 0x03) to 01:80:c2:00:00:00.
 *
 *   Configuration BPDU (35 bytes): protocol id 0 (2) | version 0 (1) | type 0x00 (1) | flags (1:
 *   TC 0x01, TCA 0x80) | root id (8: priority 2 + MAC 6) | root path cost (4) | bridge id (8) |
 *   port id (2) | message age, max age, hello time, forward delay (2 each, in 1/256 s).
 *   Topology Change Notification BPDU (4 bytes): protocol id | version | type 0x80.
 *
 * Bridge IDs are (priority, MAC) pairs, compared priority first, then MAC (lower is better).
 */
import { allocBytes, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { emitEthernetFrame } from './ethernet.js';
import { type Mac, readMac, writeMac } from './mac.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const STP_MULTICAST: Mac = 0x0180_c200_0000;
export const LLC_STP = [0x42, 0x42, 0x03] as const;
export const CONFIG_BPDU_LENGTH = 35;
export const TCN_BPDU_LENGTH = 4;
export const BPDU_TYPE_CONFIG = 0x00;
export const BPDU_TYPE_TCN = 0x80;
export const FLAG_TC = 0x01;
export const FLAG_TCA = 0x80;

export interface BridgeId {
  readonly priority: number;
  readonly mac: Mac;
}

/** Negative when `a` is better (lower) than `b`. */
export function compareBridgeIds(a: BridgeId, b: BridgeId): number {
  return a.priority - b.priority || a.mac - b.mac;
}

export interface ConfigBpdu {
  readonly type: 'config';
  readonly flags: number;
  readonly root: BridgeId;
  readonly rootPathCost: number;
  readonly bridge: BridgeId;
  readonly portId: number;
  /** Times in seconds (the wire holds 1/256 s units). */
  readonly messageAge: number;
  readonly maxAge: number;
  readonly helloTime: number;
  readonly forwardDelay: number;
}

export type Bpdu = ConfigBpdu | { readonly type: 'tcn' };

function readBridgeId(b: Uint8Array, o: number): BridgeId {
  return { priority: readU16(b, o), mac: readMac(b, o + 2) };
}

function writeBridgeId(b: Uint8Array, o: number, id: BridgeId): void {
  writeU16(b, o, id.priority);
  writeMac(b, o + 2, id.mac);
}

/** Parses a BPDU: the bytes after the LLC header. */
export function parseBpdu(bytes: Uint8Array): WireResult<Bpdu> {
  if (bytes.length < TCN_BPDU_LENGTH) return truncated('stp', bytes.length, TCN_BPDU_LENGTH);
  const protocol = readU16(bytes, 0);
  if (protocol !== 0)
    return fail('stp', 'bad-protocol-id', 0, `BPDU protocol identifier ${protocol} (must be 0)`);
  const type = bytes[3]!;
  if (type === BPDU_TYPE_TCN) return ok({ type: 'tcn' });
  if (type !== BPDU_TYPE_CONFIG)
    return fail(
      'stp',
      'unsupported-bpdu-type',
      3,
      `BPDU type 0x${type.toString(16).padStart(2, '0')} (RSTP/MSTP BPDUs are not decoded)`,
    );
  if (bytes.length < CONFIG_BPDU_LENGTH) return truncated('stp', bytes.length, CONFIG_BPDU_LENGTH);
  const time = (o: number) => readU16(bytes, o) / 256;
  return ok({
    type: 'config',
    flags: bytes[4]!,
    root: readBridgeId(bytes, 5),
    rootPathCost: readU32(bytes, 13),
    bridge: readBridgeId(bytes, 17),
    portId: readU16(bytes, 25),
    messageAge: time(27),
    maxAge: time(29),
    helloTime: time(31),
    forwardDelay: time(33),
  });
}

/** The BPDU bytes (without LLC). */
export function emitBpdu(bpdu: Bpdu): Uint8Array {
  if (bpdu.type === 'tcn') return Uint8Array.of(0, 0, 0, BPDU_TYPE_TCN);
  const b = allocBytes(CONFIG_BPDU_LENGTH);
  b[3] = BPDU_TYPE_CONFIG;
  b[4] = bpdu.flags;
  writeBridgeId(b, 5, bpdu.root);
  writeU32(b, 13, bpdu.rootPathCost);
  writeBridgeId(b, 17, bpdu.bridge);
  writeU16(b, 25, bpdu.portId);
  const time = (o: number, seconds: number) => writeU16(b, o, Math.round(seconds * 256));
  time(27, bpdu.messageAge);
  time(29, bpdu.maxAge);
  time(31, bpdu.helloTime);
  time(33, bpdu.forwardDelay);
  return b;
}

/** A whole BPDU frame: 802.3 to 01:80:c2:00:00:00, LLC 42 42 03, the BPDU. */
export function emitBpduFrame(src: Mac, bpdu: Bpdu): Uint8Array {
  const body = emitBpdu(bpdu);
  const payload = allocBytes(3 + body.length);
  payload.set(LLC_STP);
  payload.set(body, 3);
  return emitEthernetFrame({ dst: STP_MULTICAST, src, tags: [], etherType: payload.length }, payload);
}

/** True for an LLC payload that carries a BPDU. */
export function isStpLlc(payload: Uint8Array): boolean {
  return payload.length >= 3 && payload[0] === 0x42 && payload[1] === 0x42 && payload[2] === 0x03;
}
