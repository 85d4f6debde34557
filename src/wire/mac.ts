/**
 * MAC-48 addresses (IEEE 802), held as a plain number: the 48 bits fit exactly in a double,
 * compare with `===`, and key a `Map` without allocation. Printed lowercase with colons
 * (`00:0a:95:b1:2c:eb`).
 *
 * Bit rules (IEEE 802-2014 8.2): the least significant bit of the first octet is I/G
 * (1 = group: multicast or broadcast); the next bit is U/L (1 = locally administered).
 */
import { readU16, readU32 } from './bytes.js';

export type Mac = number;

export const MAC_BROADCAST: Mac = 0xffff_ffff_ffff;
export const MAC_ZERO: Mac = 0;
const TWO_32 = 0x1_0000_0000;

export function readMac(b: Uint8Array, o: number): Mac {
  return readU16(b, o) * TWO_32 + readU32(b, o + 2);
}

export function writeMac(b: Uint8Array, o: number, mac: Mac): void {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac % TWO_32;
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  b[o + 2] = lo >>> 24;
  b[o + 3] = lo >>> 16;
  b[o + 4] = lo >>> 8;
  b[o + 5] = lo;
}

function firstOctet(mac: Mac): number {
  return Math.floor(mac / 0x100_0000_0000) & 0xff;
}

/** I/G bit set: multicast or broadcast. */
export function isGroupMac(mac: Mac): boolean {
  return (firstOctet(mac) & 1) === 1;
}
export function isBroadcastMac(mac: Mac): boolean {
  return mac === MAC_BROADCAST;
}
export function isMulticastMac(mac: Mac): boolean {
  return isGroupMac(mac) && mac !== MAC_BROADCAST;
}
export function isUnicastMac(mac: Mac): boolean {
  return !isGroupMac(mac);
}
/** U/L bit set: the address was assigned locally rather than from an OUI. */
export function isLocallyAdministeredMac(mac: Mac): boolean {
  return (firstOctet(mac) & 2) === 2;
}

export function macKind(mac: Mac): 'unicast' | 'multicast' | 'broadcast' {
  if (mac === MAC_BROADCAST) return 'broadcast';
  return isGroupMac(mac) ? 'multicast' : 'unicast';
}

const HEX_OCTETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(mac: Mac): string {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac % TWO_32;
  return `${HEX_OCTETS[hi >>> 8]}:${HEX_OCTETS[hi & 255]}:${HEX_OCTETS[lo >>> 24]}:${HEX_OCTETS[(lo >>> 16) & 255]}:${HEX_OCTETS[(lo >>> 8) & 255]}:${HEX_OCTETS[lo & 255]}`;
}

/** Formats the MAC stored at `b[o..o+6)` straight from the bytes (the dissector's path: no number conversion). */
export function formatMacAt(b: Uint8Array, o: number): string {
  return `${HEX_OCTETS[b[o]!]}:${HEX_OCTETS[b[o + 1]!]}:${HEX_OCTETS[b[o + 2]!]}:${HEX_OCTETS[b[o + 3]!]}:${HEX_OCTETS[b[o + 4]!]}:${HEX_OCTETS[b[o + 5]!]}`;
}

const MAC_PATTERN =
  /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
const MAC_DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;

/** Accepts `00:0a:95:b1:2c:eb`, `00-0A-95-B1-2C-EB` and Cisco/Huawei `000a.95b1.2ceb`; undefined otherwise. */
export function parseMac(text: string): Mac | undefined {
  const m = MAC_PATTERN.exec(text);
  const digits = m ? m.slice(1).join('') : MAC_DOTTED.exec(text)?.slice(1).join('');
  return digits === undefined ? undefined : Number.parseInt(digits, 16);
}

/** For literals in code and tests: throws on a malformed string. */
export function mac(text: string): Mac {
  const v = parseMac(text);
  if (v === undefined) throw new Error(`invalid MAC address "${text}"`);
  return v;
}
