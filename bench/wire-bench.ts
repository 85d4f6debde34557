/**
 * wire/ benchmarks on one core: a VXLAN-encapsulated ICMP echo (outer Ethernet/IPv4/UDP/VXLAN,
 * inner Ethernet/IPv4/ICMP, 104 bytes) is
 *  - checked on the switch/VTEP path: only dst MAC, VLAN, outer IPs and VNI, with every length
 *    check the codecs make (two ways: the checked views, and readForwardingKeys, the
 *    allocation-free reader devices use);
 *  - decoded to the full JSON-ready layer list (what `vnet decode --json` prints);
 *  - emitted from Reprs (inner frame, IPv4, ICMP, VXLAN, outer UDP/IPv4/Ethernet, checksums).
 * Each case runs for a fixed wall time after a warm-up and reports frames per second.
 */
import {
  decodeFrame,
  EthernetView,
  EtherType,
  emitEthernetFrame,
  emitIcmp,
  emitIpv4,
  emitUdp,
  emitVxlan,
  type ForwardingKeys,
  IpProtocol,
  Ipv4View,
  ip,
  mac,
  newForwardingKeys,
  readForwardingKeys,
  readU16,
  UdpView,
  type VlanTagRepr,
  VxlanView,
} from '../src/wire/index.js';

const VM1 = mac('02:00:00:00:0a:01');
const VM2 = mac('02:00:00:00:0a:02');
const VTEP1_MAC = mac('02:00:00:00:01:01');
const VTEP2_MAC = mac('02:00:00:00:02:01');
const VM1_IP = ip('172.16.0.1');
const VM2_IP = ip('172.16.0.2');
const VTEP1 = ip('10.0.0.1');
const VTEP2 = ip('10.0.0.2');
const ECHO_DATA = new TextEncoder().encode('vnet-overlay');
const NO_OPTIONS = new Uint8Array(0);
const NO_TAGS: readonly VlanTagRepr[] = [];

/**
 * Builds the frame from Reprs: every header emitted, every checksum computed. (Reprs are written
 * out in full: an object spread costs about a microsecond on Node 20, more than the emit itself.)
 */
export function vxlanIcmpFrame(): Uint8Array {
  const icmp = emitIcmp({ kind: 'echo-request', id: 0x42, seq: 3, data: ECHO_DATA });
  const innerIp = emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: 7,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.icmp,
      src: VM1_IP,
      dst: VM2_IP,
      options: NO_OPTIONS,
    },
    icmp,
  );
  const inner = emitEthernetFrame({ dst: VM2, src: VM1, tags: NO_TAGS, etherType: EtherType.ipv4 }, innerIp, {
    pad: false,
  });
  const udp = emitUdp({ srcPort: 49320, dstPort: 4789 }, emitVxlan({ vni: 5000 }, inner));
  const outerIp = emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: 0x100,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.udp,
      src: VTEP1,
      dst: VTEP2,
      options: NO_OPTIONS,
    },
    udp,
  );
  return emitEthernetFrame(
    { dst: VTEP2_MAC, src: VTEP1_MAC, tags: NO_TAGS, etherType: EtherType.ipv4 },
    outerIp,
  );
}

/** The switch/VTEP fields through the checked views, each checked at its offset in the frame (a view and a result object per layer). */
function switchPathViews(frame: Uint8Array): number {
  const eth = EthernetView.check(frame);
  if (!eth.ok) return -1;
  let type = eth.value.typeOrLength;
  let offset = 14;
  let vid = 0;
  if (type === EtherType.vlan) {
    if (frame.length < 18) return -1;
    vid = readU16(frame, 14) & 0xfff;
    type = readU16(frame, 16);
    offset = 18;
  }
  if (type !== EtherType.ipv4) return -1;
  const ipv4 = Ipv4View.check(frame, offset);
  if (!ipv4.ok || ipv4.value.protocol !== IpProtocol.udp) return -1;
  const udp = UdpView.check(frame, ipv4.value.payloadOffset, ipv4.value.end);
  if (!udp.ok || udp.value.dstPort !== 4789) return -1;
  const vxlan = VxlanView.check(frame, udp.value.payloadOffset, udp.value.end);
  if (!vxlan.ok) return -1;
  return (eth.value.dst + vid + ipv4.value.src + ipv4.value.dst + vxlan.value.vni) % 7;
}

interface Result {
  readonly name: string;
  readonly framesPerSecond: number;
  readonly nsPerFrame: number;
  readonly frames: number;
  readonly seconds: number;
}

function measure(name: string, seconds: number, body: () => number): Result {
  let sink = 0;
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) for (let i = 0; i < 1000; i++) sink += body();
  let frames = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10000; i++) sink += body();
    frames += 10000;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  if (sink === Number.MIN_SAFE_INTEGER) console.error('unreachable');
  return {
    name,
    framesPerSecond: Math.round(frames / elapsed),
    nsPerFrame: Number(((elapsed * 1e9) / frames).toFixed(1)),
    frames,
    seconds: Number(elapsed.toFixed(3)),
  };
}

export function runWireBench(seconds = 2): { frameBytes: number; results: Result[] } {
  const frame = vxlanIcmpFrame();
  const keys: ForwardingKeys = newForwardingKeys();
  const results = [
    measure('switch-path: forwarding keys (dst MAC, VLAN, outer IPs, VNI)', seconds, () =>
      readForwardingKeys(frame, keys) === null ? keys.vni : -1,
    ),
    measure('switch-path: checked views', seconds, () => switchPathViews(frame)),
    measure('full decode to layer list', seconds, () => decodeFrame(frame).layers.length),
    measure('emit VXLAN ICMP echo from Reprs', seconds, () => vxlanIcmpFrame().length),
  ];
  return { frameBytes: frame.length, results };
}
