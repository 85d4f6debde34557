/** Frame builders for tests, on top of the wire/ emitters, with defaults for the fields a test does not care about. */
import {
  EtherType,
  emitEthernetFrame,
  emitIcmp,
  emitIpv4,
  emitTcp,
  emitUdp,
  type IcmpRepr,
  IpProtocol,
  type Ipv4,
  type Ipv4Repr,
  type Mac,
  type TcpRepr,
  type VlanTagRepr,
} from '../../src/wire/index.js';

export function ipv4Repr(fields: Partial<Ipv4Repr> & { src: Ipv4; dst: Ipv4; protocol: number }): Ipv4Repr {
  return {
    dscp: 0,
    ecn: 0,
    id: 0,
    df: false,
    mf: false,
    fragmentOffset: 0,
    ttl: 64,
    options: new Uint8Array(0),
    ...fields,
  };
}

export function ethernet(
  dst: Mac,
  src: Mac,
  etherType: number,
  payload: Uint8Array,
  tags: VlanTagRepr[] = [],
  pad = true,
): Uint8Array {
  return emitEthernetFrame({ dst, src, tags, etherType }, payload, { pad });
}

export function ipv4Icmp(ip: Partial<Ipv4Repr> & { src: Ipv4; dst: Ipv4 }, icmp: IcmpRepr): Uint8Array {
  return emitIpv4(ipv4Repr({ ...ip, protocol: IpProtocol.icmp }), emitIcmp(icmp));
}

export function ipv4Udp(
  ip: Partial<Ipv4Repr> & { src: Ipv4; dst: Ipv4 },
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  checksum = true,
): Uint8Array {
  const udp = emitUdp({ srcPort, dstPort }, payload, checksum ? { src: ip.src, dst: ip.dst } : undefined);
  return emitIpv4(ipv4Repr({ ...ip, protocol: IpProtocol.udp }), udp);
}

export function ipv4Tcp(
  ip: Partial<Ipv4Repr> & { src: Ipv4; dst: Ipv4 },
  tcp: TcpRepr,
  payload: Uint8Array,
): Uint8Array {
  return emitIpv4(
    ipv4Repr({ ...ip, protocol: IpProtocol.tcp }),
    emitTcp(tcp, payload, { src: ip.src, dst: ip.dst }),
  );
}

export const tag = (vid: number, pcp = 0, tpid: number = EtherType.vlan, dei = false): VlanTagRepr => ({
  tpid,
  pcp,
  dei,
  vid,
});
export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
