/** EtherType and IP protocol numbers used across `wire/` (IANA registries). Unknown values pass through as numbers. */

export const EtherType = {
  ipv4: 0x0800,
  arp: 0x0806,
  rarp: 0x8035,
  vlan: 0x8100, // IEEE 802.1Q C-tag
  qinq: 0x88a8, // IEEE 802.1ad S-tag
  ipv6: 0x86dd,
  transparentEthernetBridging: 0x6558, // RFC 1701: an Ethernet frame follows (NVGRE, GENEVE)
} as const;

/** Values at or below this in the type/length field are an IEEE 802.3 length, not an EtherType. */
export const MAX_8023_LENGTH = 1500;
/** Values at or above this are EtherTypes (IEEE 802.3 3.2.6); 1501..1535 are undefined. */
export const MIN_ETHER_TYPE = 0x0600;

export const IpProtocol = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
} as const;

const IP_PROTOCOL_NAMES: Record<number, string> = {
  [IpProtocol.icmp]: 'icmp',
  [IpProtocol.tcp]: 'tcp',
  [IpProtocol.udp]: 'udp',
  [IpProtocol.gre]: 'gre',
};

/** `icmp`, `tcp`, `udp`, `gre`, or the number for others. */
export function ipProtocolName(protocol: number): string {
  return IP_PROTOCOL_NAMES[protocol] ?? String(protocol);
}

export function isVlanTpid(type: number): boolean {
  return type === EtherType.vlan || type === EtherType.qinq;
}

const ETHER_TYPE_NAMES: Record<number, string> = {
  [EtherType.ipv4]: 'IPv4',
  [EtherType.arp]: 'ARP',
  [EtherType.rarp]: 'RARP',
  [EtherType.vlan]: '802.1Q',
  [EtherType.qinq]: '802.1ad',
  [EtherType.ipv6]: 'IPv6',
  [EtherType.transparentEthernetBridging]: 'Ethernet',
};

export function etherTypeName(type: number): string {
  return ETHER_TYPE_NAMES[type] ?? `0x${type.toString(16).padStart(4, '0')}`;
}
