/**
 * The three overlay encapsulations an NVE can speak, per fabric: VXLAN (RFC 7348), GENEVE
 * (RFC 8926) and NVGRE (RFC 7637). Each turns an inner Ethernet frame and a 24-bit segment ID
 * (the VNI, `vni.ts`) into the payload of an outer IPv4 packet (the NVE adds the IPv4 header and
 * routes it), and back.
 *
 * - VXLAN: UDP to port 4789, 8-byte header with the I flag and the VNI. The UDP source port is a
 *   hash of the inner frame's flow, in 49152..65535 (RFC 7348 5), so the underlay's ECMP spreads
 *   flows; the UDP checksum is sent as zero (RFC 7348 5: SHOULD be zero over IPv4).
 * - GENEVE: UDP to port 6081, 8-byte base header, no options, protocol 0x6558 (an Ethernet frame);
 *   the source port is chosen the same way (RFC 8926 3.3).
 * - NVGRE: IP protocol 47, GRE with the key bit, protocol 0x6558, the VSID in the upper 24 bits of
 *   the key and an 8-bit FlowID from the same flow hash (RFC 7637 3.2).
 *
 * Decapsulation checks every header and returns a reason on failure; it never throws.
 */
import {
  allocBytes,
  EtherType,
  emitNvgre,
  flowSourcePort,
  GENEVE_HEADER_LENGTH,
  GENEVE_PORT,
  GeneveView,
  GreView,
  IpProtocol,
  UDP_HEADER_LENGTH,
  VXLAN_HEADER_LENGTH,
  VXLAN_PORT,
  VxlanView,
  writeU16,
  writeU24,
  writeU32,
  writeUdpHeader,
  writeVxlanHeader,
} from '../wire/index.js';
import { checkWireVni } from './vni.js';

export type EncapsulationKind = 'vxlan' | 'geneve' | 'nvgre';

export const ENCAPSULATIONS: readonly EncapsulationKind[] = ['vxlan', 'geneve', 'nvgre'];

/** Bytes between the outer IPv4 header's start and the inner frame: IPv4 20 + UDP 8 + 8, or IPv4 20 + GRE 8. */
export function outerIpOverhead(kind: EncapsulationKind): number {
  return kind === 'nvgre' ? 28 : 36;
}

/** What an encapsulation adds on the wire, outer Ethernet included (VXLAN's well-known 50 bytes). */
export function encapsulationOverhead(kind: EncapsulationKind): number {
  return 14 + outerIpOverhead(kind);
}

export interface EncapsulatedPayload {
  /** IP protocol of the outer packet. */
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** The UDP source port chosen (-1 for NVGRE). */
  readonly srcPort: number;
}

/** Wraps `inner` for segment `vni`; `flowHash` is the inner flow's hash (for the source port or FlowID). */
export function encapsulate(
  kind: EncapsulationKind,
  vni: number,
  inner: Uint8Array,
  flowHash: number,
): EncapsulatedPayload {
  checkWireVni(vni);
  if (kind === 'nvgre')
    return {
      protocol: IpProtocol.gre,
      payload: emitNvgre({ vsid: vni, flowId: flowHash & 0xff }, inner),
      srcPort: -1,
    };
  const srcPort = flowSourcePort(flowHash);
  const header = kind === 'vxlan' ? VXLAN_HEADER_LENGTH : GENEVE_HEADER_LENGTH;
  const out = allocBytes(UDP_HEADER_LENGTH + header + inner.length);
  writeUdpHeader(
    out,
    0,
    { srcPort, dstPort: kind === 'vxlan' ? VXLAN_PORT : GENEVE_PORT },
    header + inner.length,
  );
  if (kind === 'vxlan') {
    writeVxlanHeader(out, UDP_HEADER_LENGTH, { vni });
  } else {
    // Version 0, no options, O and C clear, protocol 0x6558 (RFC 8926 3.4).
    out[8] = 0;
    out[9] = 0;
    writeU16(out, 10, EtherType.transparentEthernetBridging);
    writeU24(out, 12, vni);
    out[15] = 0;
  }
  out.set(inner, UDP_HEADER_LENGTH + header);
  return { protocol: IpProtocol.udp, payload: out, srcPort };
}

/** Length of the header `writeTunnelHeader` writes: 8 bytes for each encapsulation. */
export const TUNNEL_HEADER_LENGTH = 8;

/**
 * Writes the 8-byte tunnel header of `kind` for segment `vni` at the start of `out`, every byte of
 * it, as `encapsulate` writes it after the UDP header (VXLAN, GENEVE) or as the GRE header (NVGRE,
 * its FlowID from `flowHash`).
 */
export function writeTunnelHeader(
  kind: EncapsulationKind,
  vni: number,
  flowHash: number,
  out: Uint8Array,
): void {
  if (kind === 'vxlan') return writeVxlanHeader(out, 0, { vni });
  checkWireVni(vni);
  out[0] = kind === 'nvgre' ? 0x20 : 0; // NVGRE: K; GENEVE: version 0, no options
  out[1] = 0;
  writeU16(out, 2, EtherType.transparentEthernetBridging);
  if (kind === 'nvgre') writeU32(out, 4, ((vni << 8) | (flowHash & 0xff)) >>> 0);
  else {
    writeU24(out, 4, vni);
    out[7] = 0;
  }
}

/** The UDP destination port of a UDP-based encapsulation (undefined for NVGRE). */
export function encapsulationPort(kind: EncapsulationKind): number | undefined {
  return kind === 'vxlan' ? VXLAN_PORT : kind === 'geneve' ? GENEVE_PORT : undefined;
}

export type Decapsulated =
  | { readonly ok: true; readonly vni: number; readonly innerOffset: number; readonly end: number }
  | { readonly ok: false; readonly reason: string; readonly why: string };

/** Reads the VXLAN or GENEVE header of a UDP payload at [offset, end). */
export function decapsulateUdp(
  kind: 'vxlan' | 'geneve',
  bytes: Uint8Array,
  offset: number,
  end: number,
): Decapsulated {
  if (kind === 'vxlan') {
    const v = VxlanView.check(bytes, offset, end);
    if (!v.ok) return { ok: false, reason: `vxlan-${v.error.code}`, why: v.error.message };
    return { ok: true, vni: v.value.vni, innerOffset: v.value.payloadOffset, end };
  }
  const g = GeneveView.check(bytes, offset, end);
  if (!g.ok) return { ok: false, reason: `geneve-${g.error.code}`, why: g.error.message };
  if (g.value.protocol !== EtherType.transparentEthernetBridging)
    return {
      ok: false,
      reason: 'geneve-not-ethernet',
      why: `GENEVE protocol 0x${g.value.protocol.toString(16)} is not an Ethernet frame`,
    };
  if (g.value.oam)
    return {
      ok: false,
      reason: 'geneve-oam',
      why: 'a control (OAM) packet: its payload is not forwarded (RFC 8926 3.4)',
    };
  if (g.value.critical)
    return {
      ok: false,
      reason: 'geneve-critical-option',
      why: 'critical option not understood (RFC 8926 3.5.1)',
    };
  return { ok: true, vni: g.value.vni, innerOffset: g.value.payloadOffset, end };
}

/** Reads the NVGRE header of a GRE payload at [offset, end). */
export function decapsulateGre(bytes: Uint8Array, offset: number, end: number): Decapsulated {
  const g = GreView.check(bytes, offset, end);
  if (!g.ok) return { ok: false, reason: `gre-${g.error.code}`, why: g.error.message };
  if (!g.value.isNvgre) return { ok: false, reason: 'gre-not-nvgre', why: 'GRE packet is not NVGRE' };
  return { ok: true, vni: g.value.vsid, innerOffset: g.value.payloadOffset, end };
}
