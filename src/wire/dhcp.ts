/**
 * DHCP messages (RFC 2131, options RFC 2132) in their BOOTP framing (RFC 951): a 236-byte fixed
 * part, the magic cookie 99.130.83.99, then options (code, length, data; 0 pad, 255 end). Carried
 * in UDP from port 68 (client) to 67 (server).
 */
import { allocBytes, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { type Ipv4, readIpv4, writeIpv4 } from './ipv4-address.js';
import { type Mac, readMac, writeMac } from './mac.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const FIXED = 236;
const MAGIC = 0x63825363;
/** BOOTP minimum message size (RFC 951: 300 bytes); shorter messages are padded. */
const MIN_MESSAGE = 300;

export const DhcpMessageType = {
  discover: 1,
  offer: 2,
  request: 3,
  decline: 4,
  ack: 5,
  nak: 6,
  release: 7,
  inform: 8,
} as const;

export type DhcpMessageTypeName = keyof typeof DhcpMessageType;

const TYPE_NAMES: Record<number, DhcpMessageTypeName> = Object.fromEntries(
  Object.entries(DhcpMessageType).map(([k, v]) => [v, k as DhcpMessageTypeName]),
);

export const DhcpOption = {
  subnetMask: 1,
  router: 3,
  dnsServer: 6,
  requestedAddress: 50,
  leaseTime: 51,
  messageType: 53,
  serverId: 54,
  parameterRequestList: 55,
  renewalTime: 58,
  rebindingTime: 59,
  clientId: 61,
} as const;

export interface DhcpMessage {
  /** 1 BOOTREQUEST (client), 2 BOOTREPLY (server). */
  readonly op: 1 | 2;
  readonly xid: number;
  readonly secs: number;
  /** The broadcast flag: the client cannot receive unicast yet (RFC 2131 4.1). */
  readonly broadcast: boolean;
  readonly ciaddr: Ipv4;
  readonly yiaddr: Ipv4;
  readonly siaddr: Ipv4;
  readonly giaddr: Ipv4;
  readonly chaddr: Mac;
  readonly type: DhcpMessageTypeName;
  readonly subnetMask?: Ipv4;
  readonly router?: Ipv4;
  readonly requestedAddress?: Ipv4;
  /** Seconds. */
  readonly leaseTime?: number;
  readonly serverId?: Ipv4;
  readonly renewalTime?: number;
  readonly rebindingTime?: number;
}

export function parseDhcp(bytes: Uint8Array): WireResult<DhcpMessage> {
  if (bytes.length < FIXED + 4) return truncated('dhcp', bytes.length, FIXED + 4);
  const op = bytes[0]!;
  if (op !== 1 && op !== 2) return fail('dhcp', 'bad-op', 0, `BOOTP op ${op} (1 request, 2 reply)`);
  if (bytes[1] !== 1 || bytes[2] !== 6)
    return fail(
      'dhcp',
      'unsupported-hardware',
      1,
      `hardware type ${bytes[1]} length ${bytes[2]} (Ethernet is 1/6)`,
    );
  if (readU32(bytes, FIXED) !== MAGIC)
    return fail(
      'dhcp',
      'bad-magic-cookie',
      FIXED,
      'no DHCP magic cookie (99.130.83.99): a plain BOOTP message',
    );
  const options = new Map<number, Uint8Array>();
  let i = FIXED + 4;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    if (i + 1 >= bytes.length || i + 2 + bytes[i + 1]! > bytes.length)
      return fail('dhcp', 'bad-option-length', i, `DHCP option ${code} at offset ${i} runs past the message`);
    const length = bytes[i + 1]!;
    if (!options.has(code)) options.set(code, bytes.subarray(i + 2, i + 2 + length));
    i += 2 + length;
  }
  const typeOption = options.get(DhcpOption.messageType);
  const type = typeOption?.length === 1 ? TYPE_NAMES[typeOption[0]!] : undefined;
  if (type === undefined)
    return fail(
      'dhcp',
      'no-message-type',
      FIXED + 4,
      'DHCP message without a valid message type (option 53)',
    );
  const address = (code: number) => {
    const o = options.get(code);
    return o && o.length >= 4 ? readIpv4(o, 0) : undefined;
  };
  const seconds = (code: number) => {
    const o = options.get(code);
    return o && o.length === 4 ? readU32(o, 0) : undefined;
  };
  const m: { -readonly [K in keyof DhcpMessage]: DhcpMessage[K] } = {
    op,
    xid: readU32(bytes, 4),
    secs: readU16(bytes, 8),
    broadcast: (readU16(bytes, 10) & 0x8000) !== 0,
    ciaddr: readIpv4(bytes, 12),
    yiaddr: readIpv4(bytes, 16),
    siaddr: readIpv4(bytes, 20),
    giaddr: readIpv4(bytes, 24),
    chaddr: readMac(bytes, 28),
    type,
  };
  const fields = {
    subnetMask: address(DhcpOption.subnetMask),
    router: address(DhcpOption.router),
    requestedAddress: address(DhcpOption.requestedAddress),
    leaseTime: seconds(DhcpOption.leaseTime),
    serverId: address(DhcpOption.serverId),
    renewalTime: seconds(DhcpOption.renewalTime),
    rebindingTime: seconds(DhcpOption.rebindingTime),
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (m as Record<string, unknown>)[k] = v;
  return ok(m);
}

export function emitDhcp(m: DhcpMessage): Uint8Array {
  const options: number[] = [DhcpOption.messageType, 1, DhcpMessageType[m.type]];
  const address = (code: number, v: Ipv4 | undefined) => {
    if (v !== undefined) options.push(code, 4, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  };
  address(DhcpOption.serverId, m.serverId);
  address(DhcpOption.requestedAddress, m.requestedAddress);
  address(DhcpOption.subnetMask, m.subnetMask);
  address(DhcpOption.router, m.router);
  address(DhcpOption.leaseTime, m.leaseTime);
  address(DhcpOption.renewalTime, m.renewalTime);
  address(DhcpOption.rebindingTime, m.rebindingTime);
  if (m.op === 1)
    options.push(
      DhcpOption.parameterRequestList,
      3,
      DhcpOption.subnetMask,
      DhcpOption.router,
      DhcpOption.dnsServer,
    );
  options.push(255);
  const b = allocBytes(Math.max(MIN_MESSAGE, FIXED + 4 + options.length));
  b[0] = m.op;
  b[1] = 1; // Ethernet
  b[2] = 6;
  writeU32(b, 4, m.xid >>> 0);
  writeU16(b, 8, m.secs);
  writeU16(b, 10, m.broadcast ? 0x8000 : 0);
  writeIpv4(b, 12, m.ciaddr);
  writeIpv4(b, 16, m.yiaddr);
  writeIpv4(b, 20, m.siaddr);
  writeIpv4(b, 24, m.giaddr);
  writeMac(b, 28, m.chaddr);
  writeU32(b, FIXED, MAGIC);
  b.set(options, FIXED + 4);
  return b;
}
