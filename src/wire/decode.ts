/**
 * The dissector: one frame's bytes -> a flat list of decoded layers, outermost first, with a
 * tunnel's inner frame continuing the same list. This is what `vnet decode` prints and what
 * traces quote. Layers are plain JSON-ready objects (MACs and IPs as strings, numbers as numbers,
 * checksums with `checksumOk`: true, false, or null where none is present or it cannot be checked).
 *
 * Guarantees: never throws on any input; when a layer cannot be decoded, `error` names it (with
 * the offset from the start of the frame) and every layer before it is still listed. Oddities that
 * do not stop decoding (reserved VLAN IDs, reserved bits, bad checksums) are `warnings`.
 */
import { ArpOp, ArpView, arpKind } from './arp.js';
import { readU16, toHex } from './bytes.js';
import { EtherType, IpProtocol, isVlanTpid, MAX_8023_LENGTH, MIN_ETHER_TYPE } from './ether-type.js';
import { ETHERNET_HEADER_LENGTH, EthernetView } from './ethernet.js';
import { GENEVE_PORT, GeneveView, isCriticalGeneveOption } from './geneve.js';
import { GreView } from './gre.js';
import { IcmpType, IcmpView, parseQuotedDatagram } from './icmpv4.js';
import { Ipv4View, ipv4OptionName } from './ipv4.js';
import { formatIpv4 } from './ipv4-address.js';
import { formatMac } from './mac.js';
import type { LayerName, WireError } from './result.js';
import { type TcpOption, TcpView, tcpFlagNames } from './tcp.js';
import { UdpView } from './udp.js';
import { isReservedVid, VLAN_TAG_LENGTH, VlanTagView } from './vlan.js';
import { VXLAN_PORT, VxlanView } from './vxlan.js';

/** One decoded layer: `{ layer: NAME, ...fields }`. */
export type Layer = { readonly layer: LayerName } & Record<string, unknown>;

export interface DecodeWarning {
  readonly layer: LayerName;
  readonly code: string;
  readonly message: string;
}

export interface DecodeError extends WireError {}

export interface DecodedFrame {
  readonly layers: Layer[];
  readonly warnings: DecodeWarning[];
  /** The first layer that could not be decoded, with `offset` from the start of the frame. */
  readonly error: DecodeError | null;
}

export interface DecodeOptions {
  /** UDP destination ports decoded as VXLAN (default [4789]). */
  readonly vxlanPorts?: readonly number[];
  /** UDP destination ports decoded as GENEVE (default [6081]). */
  readonly genevePorts?: readonly number[];
}

/** Tunnels nest at most this deep (each level needs >= 50 bytes, so this only guards pathological input). */
const MAX_TUNNEL_DEPTH = 8;

const ARP_OP_NAMES: Record<number, string> = {
  [ArpOp.request]: 'request',
  [ArpOp.reply]: 'reply',
  [ArpOp.reverseRequest]: 'reverse-request',
  [ArpOp.reverseReply]: 'reverse-reply',
};

/** Shared, frozen: most headers carry no options. */
const NO_OPTIONS: readonly unknown[] = Object.freeze([]);
const DEFAULT_VXLAN_PORTS: ReadonlySet<number> = new Set([VXLAN_PORT]);
const DEFAULT_GENEVE_PORTS: ReadonlySet<number> = new Set([GENEVE_PORT]);
/** Port sets of the last options seen, so decoding a file with one options object builds them once. */
const portSetCache = new WeakMap<readonly number[], ReadonlySet<number>>();
function portSet(ports: readonly number[]): ReadonlySet<number> {
  let set = portSetCache.get(ports);
  if (!set) {
    set = new Set(ports);
    portSetCache.set(ports, set);
  }
  return set;
}

class Dissector {
  readonly layers: Layer[] = [];
  readonly warnings: DecodeWarning[] = [];
  error: DecodeError | null = null;
  private readonly vxlanPorts: ReadonlySet<number>;
  private readonly genevePorts: ReadonlySet<number>;

  constructor(options: DecodeOptions) {
    this.vxlanPorts = options.vxlanPorts ? portSet(options.vxlanPorts) : DEFAULT_VXLAN_PORTS;
    this.genevePorts = options.genevePorts ? portSet(options.genevePorts) : DEFAULT_GENEVE_PORTS;
  }

  private fail(error: WireError, base: number): void {
    this.error = {
      layer: error.layer,
      code: error.code,
      offset: base + error.offset,
      message: error.message,
    };
  }

  private warn(layer: LayerName, code: string, message: string): void {
    this.warnings.push({ layer, code, message });
  }

  ethernet(b: Uint8Array, base: number, depth: number): void {
    const checked = EthernetView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const eth = checked.value;
    let type = eth.typeOrLength;
    if (type >= MIN_ETHER_TYPE && !isVlanTpid(type)) {
      // Common case, untagged Ethernet II: build the layer in one shape (no fields added later but padding).
      const plain: Record<string, unknown> & { layer: 'ethernet' } = {
        layer: 'ethernet',
        dst: formatMac(eth.dst),
        src: formatMac(eth.src),
        etherType: type,
      };
      this.layers.push(plain);
      return this.network(
        type,
        b.subarray(ETHERNET_HEADER_LENGTH),
        base + ETHERNET_HEADER_LENGTH,
        depth,
        plain,
      );
    }
    const ethLayer: Record<string, unknown> & { layer: 'ethernet' } = {
      layer: 'ethernet',
      dst: formatMac(eth.dst),
      src: formatMac(eth.src),
    };
    this.layers.push(ethLayer);
    let offset = ETHERNET_HEADER_LENGTH;
    let typeOwner: Record<string, unknown> = ethLayer;
    while (isVlanTpid(type)) {
      typeOwner.etherType = type;
      const tag = VlanTagView.check(b.subarray(offset));
      if (!tag.ok) return this.fail(tag.error, base + offset);
      const t = tag.value;
      const vlanLayer = { layer: 'vlan' as const, tpid: type, pcp: t.pcp, dei: t.dei, vid: t.vid };
      this.layers.push(vlanLayer);
      if (isReservedVid(t.vid)) {
        this.warn(
          'vlan',
          'reserved-vid',
          t.vid === 0
            ? 'VID 0 is reserved: a priority tag carrying no VLAN'
            : 'VID 4095 is reserved and must not be used',
        );
      }
      typeOwner = vlanLayer;
      type = t.etherType;
      offset += VLAN_TAG_LENGTH;
    }
    if (type <= MAX_8023_LENGTH) {
      typeOwner.lengthField = type;
      const available = b.length - offset;
      if (type > available) {
        return this.fail(
          {
            layer: 'ethernet',
            code: 'bad-length',
            offset: offset - 2,
            message: `802.3 length field ${type} exceeds the ${available} bytes present`,
          },
          base,
        );
      }
      if (available > type) ethLayer.padding = available - type;
      const llc = b.subarray(offset, offset + type);
      // IEEE 802.2 LLC header: DSAP, SSAP, control (0x42/0x42/0x03 carries spanning tree BPDUs).
      this.payload(type, 'llc', llc.length >= 3 ? { dsap: llc[0], ssap: llc[1], control: llc[2] } : {});
      return;
    }
    typeOwner.etherType = type;
    if (type < MIN_ETHER_TYPE)
      this.warn(
        'ethernet',
        'undefined-type-length',
        `type/length value ${type} is undefined (neither a length <= 1500 nor an EtherType >= 1536)`,
      );
    this.network(type, b.subarray(offset), base + offset, depth, ethLayer);
  }

  private network(
    type: number,
    rest: Uint8Array,
    base: number,
    depth: number,
    ethLayer: Record<string, unknown>,
  ): void {
    switch (type) {
      case EtherType.arp:
      case EtherType.rarp:
        return this.arp(rest, base, ethLayer);
      case EtherType.ipv4:
        return this.ipv4(rest, base, depth, ethLayer);
      default:
        this.payload(rest.length);
    }
  }

  private payload(length: number, protocol?: string, extra?: Record<string, unknown>): void {
    this.layers.push(
      protocol ? { layer: 'payload', length, protocol, ...extra } : { layer: 'payload', length, ...extra },
    );
  }

  private arp(b: Uint8Array, base: number, ethLayer: Record<string, unknown>): void {
    const checked = ArpView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    const repr = v.toRepr();
    this.layers.push({
      layer: 'arp',
      op: repr.op,
      opName: ARP_OP_NAMES[repr.op] ?? `op-${repr.op}`,
      kind: arpKind(repr),
      senderMac: formatMac(repr.senderMac),
      senderIp: formatIpv4(repr.senderIp),
      targetMac: formatMac(repr.targetMac),
      targetIp: formatIpv4(repr.targetIp),
    });
    if (b.length > 28) ethLayer.padding = b.length - 28;
  }

  private ipv4(b: Uint8Array, base: number, depth: number, ethLayer: Record<string, unknown>): void {
    const checked = Ipv4View.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const ip = checked.value;
    const checksumOk = ip.checksumOk;
    this.layers.push({
      layer: 'ipv4',
      version: 4,
      ihl: ip.ihl,
      dscp: ip.dscp,
      ecn: ip.ecn,
      totalLength: ip.totalLength,
      id: ip.id,
      df: ip.df,
      mf: ip.mf,
      fragmentOffset: ip.fragmentOffset,
      ttl: ip.ttl,
      protocol: ip.protocol,
      checksum: ip.checksum,
      checksumOk,
      src: formatIpv4(ip.src),
      dst: formatIpv4(ip.dst),
      options:
        ip.ihl > 5
          ? ip.options.map((o) => ({
              type: o.type,
              name: ipv4OptionName(o.type),
              length: o.length,
              data: toHex(o.data),
            }))
          : NO_OPTIONS,
    });
    if (!checksumOk)
      this.warn('ipv4', 'bad-checksum', `IPv4 header checksum 0x${hex4(ip.checksum)} is wrong`);
    if (ip.reservedFlag) this.warn('ipv4', 'reserved-flag', 'the reserved flag bit is set');
    if (ip.paddingLength > 0) ethLayer.padding = ip.paddingLength;
    const payload = ip.payload;
    const payloadBase = base + ip.headerLength;
    if (ip.fragmentOffset !== 0) return this.payload(payload.length, 'fragment');
    const fragmented = ip.mf; // first fragment: transport header present, its checksum uncheckable
    switch (ip.protocol) {
      case IpProtocol.icmp:
        return this.icmp(payload, payloadBase, fragmented);
      case IpProtocol.udp:
        return this.udp(payload, payloadBase, ip.src, ip.dst, fragmented, depth);
      case IpProtocol.tcp:
        return this.tcp(payload, payloadBase, ip.src, ip.dst, fragmented);
      case IpProtocol.gre:
        return this.gre(payload, payloadBase, depth);
      default:
        this.payload(payload.length);
    }
  }

  private icmp(b: Uint8Array, base: number, fragmented: boolean): void {
    const checked = IcmpView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    const checksumOk = fragmented ? null : v.checksumOk;
    const layer: Record<string, unknown> & { layer: 'icmp' } = {
      layer: 'icmp',
      type: v.type,
      code: v.code,
      checksum: v.checksum,
      checksumOk,
    };
    if (checksumOk === false)
      this.warn('icmp', 'bad-checksum', `ICMP checksum 0x${hex4(v.checksum)} is wrong`);
    this.layers.push(layer);
    if (v.type === IcmpType.echoRequest || v.type === IcmpType.echoReply) {
      layer.id = v.id;
      layer.seq = v.seq;
      layer.dataLength = b.length - 8;
      return;
    }
    if (!v.isError) {
      layer.restOfHeader = v.restOfHeader;
      layer.dataLength = b.length - 8;
      return;
    }
    if (v.type === IcmpType.destinationUnreachable && v.code === 4) layer.mtu = v.nextHopMtu;
    const quoted = parseQuotedDatagram(v.body);
    if (!quoted.ok) return this.fail(quoted.error, base);
    const q = quoted.value;
    const quotedLayers: Record<string, unknown>[] = [
      {
        layer: 'ipv4',
        ihl: q.ihl,
        totalLength: q.totalLength,
        id: q.id,
        df: q.df,
        mf: q.mf,
        fragmentOffset: q.fragmentOffset,
        ttl: q.ttl,
        protocol: q.protocol,
        checksum: q.checksum,
        checksumOk: q.checksumOk,
        src: formatIpv4(q.src),
        dst: formatIpv4(q.dst),
      },
    ];
    if (q.udpLength !== undefined) {
      quotedLayers.push({
        layer: 'udp',
        srcPort: q.srcPort,
        dstPort: q.dstPort,
        length: q.udpLength,
        checksum: q.udpChecksum,
      });
    } else if (q.tcpSeq !== undefined) {
      quotedLayers.push({ layer: 'tcp', srcPort: q.srcPort, dstPort: q.dstPort, seq: q.tcpSeq });
    } else if (q.icmpType !== undefined) {
      quotedLayers.push({ layer: 'icmp', type: q.icmpType, code: q.icmpCode, checksum: q.icmpChecksum });
    }
    layer.quoted = quotedLayers;
  }

  private udp(
    b: Uint8Array,
    base: number,
    src: number,
    dst: number,
    fragmented: boolean,
    depth: number,
  ): void {
    if (fragmented) {
      // A first fragment carries the UDP header but not the whole datagram its length describes.
      if (b.length < 8)
        return this.fail(
          {
            layer: 'udp',
            code: 'truncated',
            offset: b.length,
            message: `udp: need 8 bytes, have ${b.length}`,
          },
          base,
        );
      this.layers.push({
        layer: 'udp',
        srcPort: readU16(b, 0),
        dstPort: readU16(b, 2),
        length: readU16(b, 4),
        checksum: readU16(b, 6),
        checksumOk: null,
      });
      return this.payload(b.length - 8, 'fragment');
    }
    const checked = UdpView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    const checksumOk = v.checksumOk(src, dst);
    this.layers.push({
      layer: 'udp',
      srcPort: v.srcPort,
      dstPort: v.dstPort,
      length: v.length,
      checksum: v.checksum,
      checksumOk,
    });
    if (checksumOk === false) this.warn('udp', 'bad-checksum', `UDP checksum 0x${hex4(v.checksum)} is wrong`);
    if (v.length < b.length)
      this.warn(
        'udp',
        'length-mismatch',
        `UDP length ${v.length} is shorter than the ${b.length}-byte IP payload`,
      );
    const payload = v.payload;
    const payloadBase = base + 8;
    if (depth < MAX_TUNNEL_DEPTH && this.vxlanPorts.has(v.dstPort))
      return this.vxlan(payload, payloadBase, depth);
    if (depth < MAX_TUNNEL_DEPTH && this.genevePorts.has(v.dstPort))
      return this.geneve(payload, payloadBase, depth);
    if (payload.length > 0) this.payload(payload.length);
  }

  private tcp(b: Uint8Array, base: number, src: number, dst: number, fragmented: boolean): void {
    const checked = TcpView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    const checksumOk = fragmented ? null : v.checksumOk(src, dst);
    this.layers.push({
      layer: 'tcp',
      srcPort: v.srcPort,
      dstPort: v.dstPort,
      seq: v.seq,
      ack: v.ack,
      dataOffset: v.dataOffset,
      flags: tcpFlagNames(v.flags),
      window: v.window,
      checksum: v.checksum,
      checksumOk,
      urgentPointer: v.urgentPointer,
      options: v.dataOffset > 5 ? v.options.map(tcpOptionJson) : NO_OPTIONS,
    });
    if (checksumOk === false) this.warn('tcp', 'bad-checksum', `TCP checksum 0x${hex4(v.checksum)} is wrong`);
    if (v.reserved !== 0) this.warn('tcp', 'reserved-bits-set', 'reserved header bits are set');
    const payload = v.payload;
    if (payload.length > 0) this.payload(payload.length, fragmented ? 'fragment' : undefined);
  }

  private vxlan(b: Uint8Array, base: number, depth: number): void {
    const checked = VxlanView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    this.layers.push({ layer: 'vxlan', flags: v.flags, vni: v.vni });
    if (v.reservedBitsSet)
      this.warn('vxlan', 'reserved-bits-set', 'reserved VXLAN bits are set (ignored on receipt, RFC 7348 5)');
    this.ethernet(v.payload, base + 8, depth + 1);
  }

  private geneve(b: Uint8Array, base: number, depth: number): void {
    const checked = GeneveView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    this.layers.push({
      layer: 'geneve',
      version: v.version,
      optionsLength: v.optionsLength,
      oam: v.oam,
      critical: v.critical,
      protocol: v.protocol,
      vni: v.vni,
      options: v.options.map((o) => ({
        optionClass: o.optionClass,
        type: o.type,
        critical: isCriticalGeneveOption(o),
        length: o.data.length,
        data: toHex(o.data),
      })),
    });
    if (v.reservedBitsSet) this.warn('geneve', 'reserved-bits-set', 'reserved GENEVE bits are set');
    this.inner(v.protocol, v.payload, base + v.headerLength, depth);
  }

  private gre(b: Uint8Array, base: number, depth: number): void {
    const checked = GreView.check(b);
    if (!checked.ok) return this.fail(checked.error, base);
    const v = checked.value;
    if (!v.isNvgre) return this.payload(b.length, 'gre', { greProtocol: v.protocol });
    this.layers.push({
      layer: 'nvgre',
      protocol: v.protocol,
      vsid: v.vsid,
      flowId: v.flowId,
      checksumPresent: v.checksumPresent,
      sequencePresent: v.sequencePresent,
    });
    if (v.checksumPresent || v.sequencePresent)
      this.warn(
        'nvgre',
        'unexpected-gre-fields',
        'NVGRE requires the C and S bits to be zero (RFC 7637 3.2)',
      );
    if (depth < MAX_TUNNEL_DEPTH) this.inner(v.protocol, v.payload, base + v.headerLength, depth);
  }

  private inner(protocol: number, payload: Uint8Array, base: number, depth: number): void {
    if (protocol === EtherType.transparentEthernetBridging) return this.ethernet(payload, base, depth + 1);
    if (protocol === EtherType.ipv4) return this.ipv4(payload, base, depth + 1, {});
    this.payload(payload.length);
  }
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function tcpOptionJson(o: TcpOption): Record<string, unknown> {
  const { data, ...rest } = o;
  return data.length > 0 &&
    rest.mss === undefined &&
    rest.windowScale === undefined &&
    rest.tsVal === undefined &&
    rest.sackBlocks === undefined
    ? { ...rest, data: toHex(data) }
    : rest;
}

/** Decodes an Ethernet frame (linktype 1). */
export function decodeFrame(bytes: Uint8Array, options: DecodeOptions = {}): DecodedFrame {
  const d = new Dissector(options);
  d.ethernet(bytes, 0, 0);
  return { layers: d.layers, warnings: d.warnings, error: d.error };
}
