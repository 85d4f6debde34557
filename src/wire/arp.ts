/**
 * ARP for Ethernet/IPv4 (RFC 826), including RARP opcodes 3/4 (RFC 903, used by QEMU to announce
 * a migrated VM), gratuitous ARP (RFC 5227 3: sender IP = target IP) and ARP probes (RFC 5227 2.1.1:
 * sender IP 0.0.0.0).
 *
 * The view accepts only hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4; anything
 * else is an `unsupported-*` error rather than a mis-read.
 */
import { allocBytes, readU16, writeU16 } from './bytes.js';
import { EtherType } from './ether-type.js';
import { type Ipv4, readIpv4, writeIpv4 } from './ipv4-address.js';
import { type Mac, readMac, writeMac } from './mac.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const ARP_LENGTH = 28;
const ARP_FIXED = 8;
export const HTYPE_ETHERNET = 1;

export const ArpOp = {
  request: 1,
  reply: 2,
  reverseRequest: 3,
  reverseReply: 4,
} as const;

export interface ArpRepr {
  readonly op: number;
  readonly senderMac: Mac;
  readonly senderIp: Ipv4;
  readonly targetMac: Mac;
  readonly targetIp: Ipv4;
}

export class ArpView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<ArpView> {
    const have = end - offset;
    if (have < ARP_FIXED) return truncated('arp', have, ARP_FIXED, offset);
    const htype = readU16(bytes, offset);
    const ptype = readU16(bytes, offset + 2);
    if (htype !== HTYPE_ETHERNET) {
      return fail(
        'arp',
        'unsupported-hardware-type',
        offset,
        `ARP hardware type ${htype} (only 1, Ethernet, is supported)`,
      );
    }
    if (ptype !== EtherType.ipv4) {
      return fail(
        'arp',
        'unsupported-protocol-type',
        offset + 2,
        `ARP protocol type 0x${ptype.toString(16)} (only 0x0800, IPv4, is supported)`,
      );
    }
    if (bytes[offset + 4] !== 6 || bytes[offset + 5] !== 4) {
      return fail(
        'arp',
        'bad-address-length',
        offset + 4,
        `ARP address lengths ${bytes[offset + 4]}/${bytes[offset + 5]} (Ethernet/IPv4 needs 6/4)`,
      );
    }
    if (have < ARP_LENGTH) return truncated('arp', have, ARP_LENGTH, offset);
    return ok(new ArpView(bytes, offset));
  }

  /** Whether `check` would accept the packet: the receive path's test, without allocating. */
  static isValid(bytes: Uint8Array, offset = 0, end = bytes.length): boolean {
    return (
      end - offset >= ARP_LENGTH &&
      readU16(bytes, offset) === HTYPE_ETHERNET &&
      readU16(bytes, offset + 2) === EtherType.ipv4 &&
      bytes[offset + 4] === 6 &&
      bytes[offset + 5] === 4
    );
  }

  get op(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  get senderMac(): Mac {
    return readMac(this.bytes, this.offset + 8);
  }
  get senderIp(): Ipv4 {
    return readIpv4(this.bytes, this.offset + 14);
  }
  get targetMac(): Mac {
    return readMac(this.bytes, this.offset + 18);
  }
  get targetIp(): Ipv4 {
    return readIpv4(this.bytes, this.offset + 24);
  }
  toRepr(): ArpRepr {
    return {
      op: this.op,
      senderMac: this.senderMac,
      senderIp: this.senderIp,
      targetMac: this.targetMac,
      targetIp: this.targetIp,
    };
  }
}

export function parseArp(bytes: Uint8Array): WireResult<ArpRepr> {
  const view = ArpView.check(bytes);
  return view.ok ? ok(view.value.toRepr()) : view;
}

export function emitArp(repr: ArpRepr): Uint8Array {
  const b = allocBytes(ARP_LENGTH);
  writeU16(b, 0, HTYPE_ETHERNET);
  writeU16(b, 2, EtherType.ipv4);
  b[4] = 6;
  b[5] = 4;
  writeU16(b, 6, repr.op);
  writeMac(b, 8, repr.senderMac);
  writeIpv4(b, 14, repr.senderIp);
  writeMac(b, 18, repr.targetMac);
  writeIpv4(b, 24, repr.targetIp);
  return b;
}

export type ArpKind =
  | 'request'
  | 'reply'
  | 'announcement'
  | 'gratuitous-request'
  | 'gratuitous-reply'
  | 'probe'
  | 'reverse-request'
  | 'reverse-reply'
  | 'other';

/**
 * Classifies an ARP packet the way RFC 5227 and Wireshark (packet-arp.c) name them: gratuitous
 * when the sender IP equals the target IP; of those, a request with an all-zero target MAC is an
 * ARP Announcement (RFC 5227 2.3); a request from 0.0.0.0 with a zero target MAC is a probe
 * (RFC 5227 2.1.1).
 */
export function arpKind(repr: ArpRepr): ArpKind {
  const gratuitous = repr.senderIp === repr.targetIp;
  switch (repr.op) {
    case ArpOp.request:
      if (gratuitous) return repr.targetMac === 0 ? 'announcement' : 'gratuitous-request';
      return repr.senderIp === 0 && repr.targetMac === 0 ? 'probe' : 'request';
    case ArpOp.reply:
      return repr.senderIp === repr.targetIp ? 'gratuitous-reply' : 'reply';
    case ArpOp.reverseRequest:
      return 'reverse-request';
    case ArpOp.reverseReply:
      return 'reverse-reply';
    default:
      return 'other';
  }
}

/** "Who has `targetIp`? Tell `senderIp`": broadcast by the caller, target MAC unknown (zero). */
export function arpRequest(senderMac: Mac, senderIp: Ipv4, targetIp: Ipv4): ArpRepr {
  return { op: ArpOp.request, senderMac, senderIp, targetMac: 0, targetIp };
}

/** "`senderIp` is at `senderMac`", unicast back to the requester. */
export function arpReply(senderMac: Mac, senderIp: Ipv4, targetMac: Mac, targetIp: Ipv4): ArpRepr {
  return { op: ArpOp.reply, senderMac, senderIp, targetMac, targetIp };
}

/** Gratuitous ARP in its announcement form (RFC 5227 2.3): a request with sender IP = target IP and a zero target MAC. */
export function gratuitousArp(mac: Mac, ip: Ipv4): ArpRepr {
  return { op: ArpOp.request, senderMac: mac, senderIp: ip, targetMac: 0, targetIp: ip };
}

/** ARP probe (RFC 5227 2.1.1): a request with sender IP 0.0.0.0, asking whether `ip` is taken. */
export function arpProbe(mac: Mac, ip: Ipv4): ArpRepr {
  return { op: ArpOp.request, senderMac: mac, senderIp: 0, targetMac: 0, targetIp: ip };
}

/** RARP request as QEMU sends after a migration (op 3, sender = target = the VM's MAC, no IPs). */
export function rarpAnnouncement(mac: Mac): ArpRepr {
  return { op: ArpOp.reverseRequest, senderMac: mac, senderIp: 0, targetMac: mac, targetIp: 0 };
}
