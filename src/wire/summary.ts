/**
 * Human renderings of a decoded frame: a one-line summary in the spirit of tshark's
 * (`src -> dst PROTOCOL info`, innermost addresses, tunnels noted at the end) and a layer tree
 * for `--verbose`. Pure functions of `DecodedFrame`.
 */
import type { DecodedFrame, Layer } from './decode.js';
import { etherTypeName } from './ether-type.js';

const UNREACHABLE: Record<number, string> = {
  0: 'Network unreachable',
  1: 'Host unreachable',
  2: 'Protocol unreachable',
  3: 'Port unreachable',
  4: 'Fragmentation needed',
  5: 'Source route failed',
  13: 'Communication administratively prohibited',
};

function hex(v: unknown, width = 4): string {
  return `0x${Number(v).toString(16).padStart(width, '0')}`;
}

function arpInfo(l: Layer): string {
  switch (l.kind) {
    case 'request':
      return `Who has ${l.targetIp}? Tell ${l.senderIp}`;
    case 'reply':
      return `${l.senderIp} is at ${l.senderMac}`;
    case 'probe':
      return `Who has ${l.targetIp}? (ARP Probe)`;
    case 'announcement':
      return `ARP Announcement for ${l.senderIp}`;
    case 'gratuitous-request':
      return `Gratuitous ARP for ${l.senderIp} (Request)`;
    case 'gratuitous-reply':
      return `Gratuitous ARP for ${l.senderIp} (Reply)`;
    case 'reverse-request':
      return `Who is ${l.targetMac}? Tell ${l.senderMac}`;
    case 'reverse-reply':
      return `${l.targetMac} is at ${l.targetIp}`;
    default:
      return `ARP opcode ${l.op}`;
  }
}

function icmpInfo(l: Layer, ttl: unknown): string {
  switch (l.type) {
    case 8:
    case 0:
      return `Echo (ping) ${l.type === 8 ? 'request' : 'reply'} id=${hex(l.id)}, seq=${l.seq}, ttl=${ttl}`;
    case 3: {
      const what = UNREACHABLE[l.code as number] ?? `code ${l.code}`;
      return `Destination unreachable (${what}${l.mtu !== undefined ? `, MTU ${l.mtu}` : ''})`;
    }
    case 11:
      return `Time-to-live exceeded (${l.code === 0 ? 'Time to live exceeded in transit' : l.code === 1 ? 'Fragment reassembly time exceeded' : `code ${l.code}`})`;
    default:
      return `ICMP type ${l.type} code ${l.code}`;
  }
}

function tunnelNote(l: Layer, outer: Layer | undefined): string {
  const via = outer ? ` ${outer.src} -> ${outer.dst}` : '';
  if (l.layer === 'vxlan') return `[VXLAN VNI ${l.vni}${via}]`;
  if (l.layer === 'geneve') return `[GENEVE VNI ${l.vni}${via}]`;
  return `[NVGRE VSID ${l.vsid}${via}]`;
}

/** `src -> dst PROTO info`, from the innermost frame, with tunnels, warnings and errors noted. */
export function summarizeFrame(frame: DecodedFrame): string {
  let src = '?';
  let dst = '?';
  let protocol = '?';
  let info = '';
  let lastIp: Layer | undefined;
  const notes: string[] = [];
  for (const l of frame.layers) {
    switch (l.layer) {
      case 'ethernet':
        src = String(l.src);
        dst = String(l.dst);
        protocol = l.lengthField !== undefined ? 'LLC' : etherTypeName(Number(l.etherType));
        info = l.lengthField !== undefined ? `802.3 length ${l.lengthField}` : '';
        break;
      case 'vlan':
        protocol = l.lengthField !== undefined ? 'LLC' : etherTypeName(Number(l.etherType));
        notes.push(`[VLAN ${l.vid}${l.tpid === 0x88a8 ? ' S-tag' : ''}]`);
        break;
      case 'arp':
        protocol = l.op === 3 || l.op === 4 ? 'RARP' : 'ARP';
        info = arpInfo(l);
        break;
      case 'ipv4':
        lastIp = l;
        src = String(l.src);
        dst = String(l.dst);
        protocol = 'IPv4';
        info = `proto=${l.protocol} len=${l.totalLength}`;
        if (l.mf || Number(l.fragmentOffset) > 0) {
          notes.push(
            `[IPv4 fragment id=${hex(l.id)} offset=${Number(l.fragmentOffset) * 8}${l.mf ? ' MF' : ''}]`,
          );
        }
        break;
      case 'icmp':
        protocol = 'ICMP';
        info = icmpInfo(l, lastIp?.ttl);
        break;
      case 'udp':
        protocol = 'UDP';
        info = `${l.srcPort} -> ${l.dstPort} Len=${Number(l.length) - 8}`;
        break;
      case 'tcp': {
        protocol = 'TCP';
        const flags = (l.flags as string[]).join(', ');
        const payload = frame.layers.at(-1)?.layer === 'payload' ? Number(frame.layers.at(-1)?.length) : 0;
        info = `${l.srcPort} -> ${l.dstPort} [${flags}] Seq=${l.seq}${(l.flags as string[]).includes('ACK') ? ` Ack=${l.ack}` : ''} Win=${l.window} Len=${payload}`;
        break;
      }
      case 'dhcp': {
        protocol = 'DHCP';
        const type = String(l.messageType);
        info = `DHCP ${type[0]!.toUpperCase()}${type.slice(1)} - Transaction ID 0x${Number(l.xid).toString(16).padStart(8, '0')}`;
        if (l.messageType === 'offer' || l.messageType === 'ack') info += ` (${l.yiaddr})`;
        break;
      }
      case 'stp':
        protocol = 'STP';
        info =
          l.bpduType === 'tcn'
            ? 'Topology Change Notification'
            : `Conf. Root = ${l.rootId}  Cost = ${l.rootPathCost}  Port = 0x${Number(l.portId).toString(16).padStart(4, '0')}`;
        break;
      case 'vxlan':
      case 'geneve':
      case 'nvgre':
        notes.push(tunnelNote(l, lastIp));
        lastIp = undefined;
        break;
      default:
        break;
    }
  }
  for (const w of frame.warnings) notes.push(`[${w.message}]`);
  if (frame.error)
    notes.push(
      `[malformed ${frame.error.layer}: ${frame.error.message} (code ${frame.error.code}, frame offset ${frame.error.offset})]`,
    );
  return [`${src} -> ${dst} ${protocol}`, info, ...notes].filter((s) => s !== '').join(' ');
}

function fieldText(key: string, value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${key}=[]`;
    if (typeof value[0] === 'object') return `${key}=[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `${key}=[${value.join(',')}]`;
  }
  if (
    (key === 'etherType' || key === 'tpid' || key === 'protocol') &&
    typeof value === 'number' &&
    value > 255
  ) {
    return `${key}=${hex(value)} (${etherTypeName(value)})`;
  }
  if (key === 'checksum' && typeof value === 'number') return `${key}=${hex(value)}`;
  if (key === 'flags' && typeof value === 'number') return `${key}=${hex(value, 2)}`;
  return `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`;
}

/** One line per layer, fields as key=value, then warnings and the error. */
export function layerTree(frame: DecodedFrame, indent = '    '): string[] {
  const lines = frame.layers.map((l) => {
    const fields = Object.entries(l)
      .filter(([k]) => k !== 'layer')
      .map(([k, v]) => fieldText(k, v));
    return `${indent}${l.layer.padEnd(9)}${fields.join(' ')}`;
  });
  for (const w of frame.warnings) lines.push(`${indent}warning  ${w.layer} ${w.code}: ${w.message}`);
  if (frame.error)
    lines.push(
      `${indent}error    ${frame.error.layer} ${frame.error.code} at frame offset ${frame.error.offset}: ${frame.error.message}`,
    );
  return lines;
}
