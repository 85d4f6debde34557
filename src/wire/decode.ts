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
import { ARP_LENGTH, ArpOp, ArpView, arpKind } from './arp.js';
import { readU16, toHex } from './bytes.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseDhcp } from './dhcp.js';
import { EtherType, IpProtocol, isVlanTpid, MAX_8023_LENGTH, MIN_ETHER_TYPE } from './ether-type.js';
import { ETHERNET_HEADER_LENGTH, EthernetView } from './ethernet.js';
import { GENEVE_PORT, GeneveView, isCriticalGeneveOption } from './geneve.js';
import { GreView } from './gre.js';
import { IcmpType, IcmpView, parseQuotedDatagram } from './icmpv4.js';
import { Ipv4View, ipv4OptionName } from './ipv4.js';
import { formatIpv4, formatIpv4At } from './ipv4-address.js';
import { formatMac, formatMacAt } from './mac.js';
import type { LayerName, WireError } from './result.js';
import { isStpLlc, parseBpdu } from './stp.js';
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
  /**
   * The frame's length on the wire, when the capture kept fewer bytes (snap length). Headers that
   * fit are then decoded, and checksums that cannot be checked are null, instead of an error.
   */
  readonly originalLength?: number;
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

/**
 * Walks one frame. Every method takes the whole frame `b` and the [offset, end) range of its layer,
 * so no sub-buffers are made on the way and every error offset is already frame-relative.
 */
class Dissector {
  readonly layers: Layer[] = [];
  readonly warnings: DecodeWarning[] = [];
  error: DecodeError | null = null;
  private readonly vxlanPorts: ReadonlySet<number>;
  private readonly genevePorts: ReadonlySet<number>;
  private readonly snapped: boolean;

  constructor(
    private readonly b: Uint8Array,
    options: DecodeOptions,
  ) {
    this.snapped = options.originalLength !== undefined && options.originalLength > b.length;
    this.vxlanPorts = options.vxlanPorts ? portSet(options.vxlanPorts) : DEFAULT_VXLAN_PORTS;
    this.genevePorts = options.genevePorts ? portSet(options.genevePorts) : DEFAULT_GENEVE_PORTS;
  }

  /** Records the first failure; `base` is added to offsets that are relative to a sub-buffer. */
  private fail(error: WireError, base = 0): void {
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

  ethernet(offset: number, end: number, depth: number): void {
    const checked = EthernetView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const eth = checked.value;
    let type = eth.typeOrLength;
    if (type >= MIN_ETHER_TYPE && !isVlanTpid(type)) {
      // Common case, untagged Ethernet II: the layer is built in one shape (only padding may be added).
      const plain: MutableLayer = {
        layer: 'ethernet',
        dst: formatMacAt(this.b, offset),
        src: formatMacAt(this.b, offset + 6),
        etherType: type,
      };
      this.layers.push(plain);
      return this.network(type, offset + ETHERNET_HEADER_LENGTH, end, depth, plain);
    }
    const ethLayer: MutableLayer = {
      layer: 'ethernet',
      dst: formatMacAt(this.b, offset),
      src: formatMacAt(this.b, offset + 6),
    };
    this.layers.push(ethLayer);
    let at = offset + ETHERNET_HEADER_LENGTH;
    let typeOwner: MutableLayer = ethLayer;
    while (isVlanTpid(type)) {
      typeOwner.etherType = type;
      const tag = VlanTagView.check(this.b, at, end);
      if (!tag.ok) return this.fail(tag.error);
      const t = tag.value;
      const vlanLayer: MutableLayer = { layer: 'vlan', tpid: type, pcp: t.pcp, dei: t.dei, vid: t.vid };
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
      at += VLAN_TAG_LENGTH;
    }
    if (type <= MAX_8023_LENGTH) {
      typeOwner.lengthField = type;
      const available = end - at;
      if (type > available && !this.snapped) {
        return this.fail({
          layer: 'ethernet',
          code: 'bad-length',
          offset: at - 2,
          message: `802.3 length field ${type} exceeds the ${available} bytes present`,
        });
      }
      if (available > type) ethLayer.padding = available - type;
      // IEEE 802.2 LLC header: DSAP, SSAP, control (0x42/0x42/0x03 carries spanning tree BPDUs).
      const b = this.b;
      if (type > available) type = available; // a cut capture keeps what it has
      this.layers.push(
        type >= 3
          ? {
              layer: 'payload',
              length: type,
              protocol: 'llc',
              dsap: b[at],
              ssap: b[at + 1],
              control: b[at + 2],
            }
          : { layer: 'payload', length: type, protocol: 'llc' },
      );
      if (isStpLlc(b.subarray(at, at + type))) this.stp(at + 3, at + type);
      return;
    }
    typeOwner.etherType = type;
    if (type < MIN_ETHER_TYPE) {
      this.warn(
        'ethernet',
        'undefined-type-length',
        `type/length value ${type} is undefined (neither a length <= 1500 nor an EtherType >= 1536)`,
      );
    }
    this.network(type, at, end, depth, ethLayer);
  }

  private stp(offset: number, end: number): void {
    const parsed = parseBpdu(this.b.subarray(offset, end));
    if (!parsed.ok) return this.fail(parsed.error, offset);
    const bpdu = parsed.value;
    if (bpdu.type === 'tcn') {
      this.layers.push({ layer: 'stp', bpduType: 'tcn' });
      return;
    }
    const id = (b: { priority: number; mac: number }) => `${b.priority}/${formatMac(b.mac)}`;
    this.layers.push({
      layer: 'stp',
      bpduType: 'config',
      flags: bpdu.flags,
      rootId: id(bpdu.root),
      rootPathCost: bpdu.rootPathCost,
      bridgeId: id(bpdu.bridge),
      portId: bpdu.portId,
      messageAge: bpdu.messageAge,
      maxAge: bpdu.maxAge,
      helloTime: bpdu.helloTime,
      forwardDelay: bpdu.forwardDelay,
    });
  }

  private network(type: number, offset: number, end: number, depth: number, ethLayer: MutableLayer): void {
    switch (type) {
      case EtherType.arp:
      case EtherType.rarp:
        return this.arp(offset, end, ethLayer);
      case EtherType.ipv4:
        return this.ipv4(offset, end, depth, ethLayer);
      default:
        this.payload(end - offset);
    }
  }

  private payload(length: number, protocol?: string): void {
    this.layers.push(protocol ? { layer: 'payload', length, protocol } : { layer: 'payload', length });
  }

  private arp(offset: number, end: number, ethLayer: MutableLayer): void {
    const checked = ArpView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const repr = checked.value.toRepr();
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
    if (end - offset > ARP_LENGTH) ethLayer.padding = end - offset - ARP_LENGTH;
  }

  private ipv4(offset: number, end: number, depth: number, ethLayer: MutableLayer): void {
    const checked = Ipv4View.check(this.b, offset, end, this.snapped);
    if (!checked.ok) return this.fail(checked.error);
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
      src: formatIpv4At(this.b, offset + 12),
      dst: formatIpv4At(this.b, offset + 16),
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
    const payloadOffset = ip.payloadOffset;
    const payloadEnd = ip.end;
    if (ip.fragmentOffset !== 0) return this.payload(payloadEnd - payloadOffset, 'fragment');
    // A first fragment, or a packet the capture cut short: the transport header is there (if it fits), its checksum uncheckable.
    const partial: PartialReason = ip.isCut ? 'snapped' : ip.mf ? 'fragment' : null;
    switch (ip.protocol) {
      case IpProtocol.icmp:
        return this.icmp(payloadOffset, payloadEnd, partial);
      case IpProtocol.udp:
        return this.udp(payloadOffset, payloadEnd, ip.src, ip.dst, partial, depth);
      case IpProtocol.tcp:
        return this.tcp(payloadOffset, payloadEnd, ip.src, ip.dst, partial);
      case IpProtocol.gre:
        return this.gre(payloadOffset, payloadEnd, depth, partial);
      default:
        this.payload(payloadEnd - payloadOffset);
    }
  }

  private icmp(offset: number, end: number, partial: PartialReason): void {
    const checked = IcmpView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const v = checked.value;
    const checksumOk = partial ? null : v.checksumOk;
    const layer: MutableLayer = {
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
      layer.dataLength = v.bodyLength;
      return;
    }
    if (!v.isError) {
      layer.restOfHeader = v.restOfHeader;
      layer.dataLength = v.bodyLength;
      return;
    }
    if (v.type === IcmpType.destinationUnreachable && v.code === 4) layer.mtu = v.nextHopMtu;
    if (v.bodyLength === 0) {
      layer.quoted = NO_OPTIONS; // an error that quotes nothing (seen in the wild; Wireshark accepts it)
      return;
    }
    const quoted = parseQuotedDatagram(v.body);
    if (!quoted.ok) return this.fail(quoted.error, offset);
    const q = quoted.value;
    const quotedLayers: MutableLayer[] = [
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
    offset: number,
    end: number,
    src: number,
    dst: number,
    partial: PartialReason,
    depth: number,
  ): void {
    const b = this.b;
    if (partial) {
      // A first fragment, or a cut capture, has the UDP header but not the whole datagram its length describes.
      if (end - offset < 8)
        return this.fail({
          layer: 'udp',
          code: 'truncated',
          offset: end,
          message: `udp: need 8 bytes, have ${end - offset}`,
        });
      this.layers.push({
        layer: 'udp',
        srcPort: readU16(b, offset),
        dstPort: readU16(b, offset + 2),
        length: readU16(b, offset + 4),
        checksum: readU16(b, offset + 6),
        checksumOk: null,
      });
      // A cut capture still shows as much of a tunnel as it kept; a fragment's rest is elsewhere.
      const dstPort = readU16(b, offset + 2);
      if (partial === 'snapped' && depth < MAX_TUNNEL_DEPTH) {
        if (this.vxlanPorts.has(dstPort)) return this.vxlan(offset + 8, end, depth);
        if (this.genevePorts.has(dstPort)) return this.geneve(offset + 8, end, depth);
      }
      return this.payload(end - offset - 8, partial);
    }
    const checked = UdpView.check(b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const v = checked.value;
    const checksumOk = v.checksumOk(src, dst);
    const length = v.length;
    const dstPort = v.dstPort;
    this.layers.push({ layer: 'udp', srcPort: v.srcPort, dstPort, length, checksum: v.checksum, checksumOk });
    if (checksumOk === false) this.warn('udp', 'bad-checksum', `UDP checksum 0x${hex4(v.checksum)} is wrong`);
    if (length < end - offset)
      this.warn(
        'udp',
        'length-mismatch',
        `UDP length ${length} is shorter than the ${end - offset}-byte IP payload`,
      );
    const payloadOffset = v.payloadOffset;
    const payloadEnd = v.end;
    if (depth < MAX_TUNNEL_DEPTH && this.vxlanPorts.has(dstPort))
      return this.vxlan(payloadOffset, payloadEnd, depth);
    if (depth < MAX_TUNNEL_DEPTH && this.genevePorts.has(dstPort))
      return this.geneve(payloadOffset, payloadEnd, depth);
    const srcPort = v.srcPort;
    if (
      (dstPort === DHCP_SERVER_PORT && srcPort === DHCP_CLIENT_PORT) ||
      (dstPort === DHCP_CLIENT_PORT && srcPort === DHCP_SERVER_PORT)
    ) {
      return this.dhcp(payloadOffset, payloadEnd);
    }
    if (payloadEnd > payloadOffset) this.payload(payloadEnd - payloadOffset);
  }

  private dhcp(offset: number, end: number): void {
    const parsed = parseDhcp(this.b.subarray(offset, end));
    if (!parsed.ok) return this.fail(parsed.error, offset);
    const m = parsed.value;
    const layer: MutableLayer = {
      layer: 'dhcp',
      op: m.op,
      messageType: m.type,
      xid: m.xid,
      broadcast: m.broadcast,
      ciaddr: formatIpv4(m.ciaddr),
      yiaddr: formatIpv4(m.yiaddr),
      siaddr: formatIpv4(m.siaddr),
      giaddr: formatIpv4(m.giaddr),
      chaddr: formatMac(m.chaddr),
    };
    if (m.requestedAddress !== undefined) layer.requestedAddress = formatIpv4(m.requestedAddress);
    if (m.serverId !== undefined) layer.serverId = formatIpv4(m.serverId);
    if (m.subnetMask !== undefined) layer.subnetMask = formatIpv4(m.subnetMask);
    if (m.router !== undefined) layer.router = formatIpv4(m.router);
    if (m.leaseTime !== undefined) layer.leaseTime = m.leaseTime;
    this.layers.push(layer);
  }

  private tcp(offset: number, end: number, src: number, dst: number, partial: PartialReason): void {
    const checked = TcpView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const v = checked.value;
    const checksumOk = partial ? null : v.checksumOk(src, dst);
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
    const payloadLength = end - offset - v.headerLength;
    if (payloadLength > 0) this.payload(payloadLength, partial ?? undefined);
  }

  private vxlan(offset: number, end: number, depth: number): void {
    const checked = VxlanView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
    const v = checked.value;
    this.layers.push({ layer: 'vxlan', flags: v.flags, vni: v.vni });
    if (v.reservedBitsSet)
      this.warn('vxlan', 'reserved-bits-set', 'reserved VXLAN bits are set (ignored on receipt, RFC 7348 5)');
    this.ethernet(v.payloadOffset, end, depth + 1);
  }

  private geneve(offset: number, end: number, depth: number): void {
    const checked = GeneveView.check(this.b, offset, end);
    if (!checked.ok) return this.fail(checked.error);
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
    this.inner(v.protocol, v.payloadOffset, end, depth);
  }

  private gre(offset: number, end: number, depth: number, partial: PartialReason): void {
    const checked = GreView.check(this.b, offset, end);
    if (!checked.ok) {
      // Another GRE version (PPTP's is 1) or RFC 1701 routing: not a header this decoder walks.
      const code = checked.error.code;
      if (code === 'unsupported-version' || code === 'unsupported-flags')
        return this.payload(end - offset, 'gre');
      return this.fail(checked.error);
    }
    const v = checked.value;
    const checksumOk = partial ? null : v.checksumOk;
    const checksum = v.checksumPresent ? readU16(this.b, offset + 4) : null;
    if (checksumOk === false)
      this.warn(
        v.isNvgre ? 'nvgre' : 'gre',
        'bad-checksum',
        `GRE checksum 0x${hex4(checksum ?? 0)} is wrong`,
      );
    if (!v.isNvgre) {
      this.layers.push({
        layer: 'gre',
        protocol: v.protocol,
        key: v.key,
        sequence: v.sequence,
        checksum,
        checksumOk,
      });
      return this.payload(end - v.payloadOffset, partial ?? undefined);
    }
    this.layers.push({
      layer: 'nvgre',
      protocol: v.protocol,
      vsid: v.vsid,
      flowId: v.flowId,
      checksumPresent: v.checksumPresent,
      sequencePresent: v.sequencePresent,
      ...(v.checksumPresent ? { checksum, checksumOk } : {}),
    });
    if (v.checksumPresent || v.sequencePresent)
      this.warn(
        'nvgre',
        'unexpected-gre-fields',
        'NVGRE requires the C and S bits to be zero (RFC 7637 3.2)',
      );
    if (partial === 'fragment') return this.payload(end - v.payloadOffset, partial);
    if (depth < MAX_TUNNEL_DEPTH) this.inner(v.protocol, v.payloadOffset, end, depth);
  }

  private inner(protocol: number, offset: number, end: number, depth: number): void {
    if (protocol === EtherType.transparentEthernetBridging) return this.ethernet(offset, end, depth + 1);
    if (protocol === EtherType.ipv4) return this.ipv4(offset, end, depth + 1, {} as MutableLayer);
    this.payload(end - offset);
  }
}

/** Why a transport header cannot be checked as a whole: a first fragment, or a capture cut short. */
type PartialReason = 'fragment' | 'snapped' | null;

type MutableLayer = { layer: LayerName } & Record<string, unknown>;

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
  const d = new Dissector(bytes, options);
  d.ethernet(0, bytes.length, 0);
  return { layers: d.layers, warnings: d.warnings, error: d.error };
}
