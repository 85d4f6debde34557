/**
 * Cross-checking with Wireshark's tshark: the fields make-golden.py extracts, and the same values
 * derived from vnet's decode, so a test can compare them cell by cell.
 */
import { spawnSync } from 'node:child_process';
import type { DecodedFrame, Layer } from '../../src/wire/index.js';

export const TSHARK_FIELDS = [
  'frame.number',
  'eth.dst',
  'eth.src',
  'eth.type',
  'vlan.id',
  'vlan.priority',
  'ieee8021ad.id',
  'llc.dsap',
  'eth.len',
  'arp.opcode',
  'arp.src.proto_ipv4',
  'arp.dst.proto_ipv4',
  'ip.src',
  'ip.dst',
  'ip.ttl',
  'ip.id',
  'ip.checksum',
  'ip.checksum.status',
  'ip.len',
  'ip.frag_offset',
  'ip.flags.df',
  'ip.flags.mf',
  'icmp.type',
  'icmp.code',
  'icmp.checksum',
  'icmp.mtu',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'udp.checksum',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.checksum',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'vxlan.vni',
  'geneve.vni',
  'geneve.option.class',
  'gre.key',
] as const;

export function tsharkAvailable(): boolean {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Runs tshark over a capture with the fixture's options; returns its TSV output. */
export function runTshark(pcapPath: string): string {
  const args = [
    '-r',
    pcapPath,
    '-o',
    'ip.check_checksum:TRUE',
    '-d',
    'udp.port==6081,geneve',
    '-T',
    'fields',
    '-E',
    'header=y',
    '-E',
    'separator=\t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
  ];
  for (const f of TSHARK_FIELDS) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout;
}

export function parseTsv(tsv: string): Record<string, string>[] {
  const [header, ...rows] = tsv.trimEnd().split('\n');
  const names = header!.split('\t');
  return rows.map((row) => Object.fromEntries(row.split('\t').map((v, i) => [names[i]!, v])));
}

const hex = (v: unknown, digits: number) => `0x${Number(v).toString(16).padStart(digits, '0')}`;
const bit = (v: unknown) => (v ? '1' : '0');

/** The tshark field values implied by a vnet decode (ICMP quotes included, as tshark shows them). */
export function vnetFields(index: number, frame: DecodedFrame): Record<string, string> {
  const values = new Map<string, string[]>();
  const add = (field: string, value: string) => {
    const list = values.get(field) ?? [];
    list.push(value);
    values.set(field, list);
  };
  const visit = (l: Layer) => {
    switch (l.layer) {
      case 'ethernet':
        add('eth.dst', String(l.dst));
        add('eth.src', String(l.src));
        if (l.etherType !== undefined) add('eth.type', hex(l.etherType, 4));
        if (l.lengthField !== undefined) add('eth.len', String(l.lengthField));
        break;
      case 'vlan':
        if (l.tpid === 0x88a8) add('ieee8021ad.id', String(l.vid));
        else {
          add('vlan.id', String(l.vid));
          add('vlan.priority', String(l.pcp));
        }
        break;
      case 'arp':
        add('arp.opcode', String(l.op));
        add('arp.src.proto_ipv4', String(l.senderIp));
        add('arp.dst.proto_ipv4', String(l.targetIp));
        break;
      case 'ipv4':
        add('ip.src', String(l.src));
        add('ip.dst', String(l.dst));
        add('ip.ttl', String(l.ttl));
        add('ip.id', hex(l.id, 4));
        add('ip.checksum', hex(l.checksum, 4));
        add('ip.checksum.status', l.checksumOk ? '1' : '0');
        add('ip.len', String(l.totalLength));
        add('ip.frag_offset', String(l.fragmentOffset));
        add('ip.flags.df', bit(l.df));
        add('ip.flags.mf', bit(l.mf));
        break;
      case 'icmp':
        add('icmp.type', String(l.type));
        add('icmp.code', String(l.code));
        add('icmp.checksum', hex(l.checksum, 4));
        if (l.mtu !== undefined) add('icmp.mtu', String(l.mtu));
        for (const q of (l.quoted as Layer[] | undefined) ?? []) visit(q);
        break;
      case 'udp':
        add('udp.srcport', String(l.srcPort));
        add('udp.dstport', String(l.dstPort));
        add('udp.length', String(l.length));
        add('udp.checksum', hex(l.checksum, 4));
        break;
      case 'tcp': {
        add('tcp.srcport', String(l.srcPort));
        add('tcp.dstport', String(l.dstPort));
        add('tcp.seq_raw', String(l.seq));
        add('tcp.ack_raw', String(l.ack));
        const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];
        const flags = (l.flags as string[]).reduce((acc, f) => acc | (1 << names.indexOf(f)), 0);
        add('tcp.flags', hex(flags, 4));
        add('tcp.window_size_value', String(l.window));
        add('tcp.checksum', hex(l.checksum, 4));
        for (const o of l.options as { mss?: number; windowScale?: number }[]) {
          if (o.mss !== undefined) add('tcp.options.mss_val', String(o.mss));
          if (o.windowScale !== undefined) add('tcp.options.wscale.shift', String(o.windowScale));
        }
        break;
      }
      case 'vxlan':
        add('vxlan.vni', String(l.vni));
        break;
      case 'geneve':
        add('geneve.vni', hex(l.vni, 6));
        for (const o of l.options as { optionClass: number }[])
          add('geneve.option.class', hex(o.optionClass, 4));
        break;
      case 'nvgre':
        add('gre.key', hex(((Number(l.vsid) << 8) | Number(l.flowId)) >>> 0, 8));
        break;
      case 'payload':
        if (l.protocol === 'llc') add('llc.dsap', hex(l.dsap, 2));
        break;
    }
  };
  for (const l of frame.layers) visit(l);
  const out: Record<string, string> = { 'frame.number': String(index) };
  for (const f of TSHARK_FIELDS) if (f !== 'frame.number') out[f] = values.get(f)?.join(',') ?? '';
  return out;
}
