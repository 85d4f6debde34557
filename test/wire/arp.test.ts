/** ARP constructors produce the golden frames' ARP bodies, and arpKind names them as RFC 5227 and Wireshark do. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arpKind,
  arpProbe,
  arpReply,
  arpRequest,
  emitArp,
  fromHex,
  gratuitousArp,
  ip,
  mac,
  rarpAnnouncement,
  toHex,
} from '../../src/wire/index.js';
import { goldenFrames } from '../helpers/repo.js';

const golden = new Map(goldenFrames().map((f) => [f.name, fromHex(f.hex)]));
const arpBody = (name: string) => toHex(golden.get(name)!.subarray(14, 42));
const A = mac('00:0a:95:b1:2c:eb');
const B = mac('02:00:00:00:00:0b');

test('constructors match the scapy-built golden ARP bodies', () => {
  assert.equal(toHex(emitArp(arpRequest(A, ip('192.168.0.1'), ip('192.168.0.2')))), arpBody('arp-request'));
  assert.equal(toHex(emitArp(arpReply(B, ip('192.168.0.2'), A, ip('192.168.0.1')))), arpBody('arp-reply'));
  assert.equal(toHex(emitArp(gratuitousArp(A, ip('192.168.0.1')))), arpBody('arp-gratuitous'));
  assert.equal(toHex(emitArp(arpProbe(A, ip('192.168.0.9')))), arpBody('arp-probe'));
  assert.equal(toHex(emitArp(rarpAnnouncement(mac('02:00:00:00:00:0c')))), arpBody('rarp-announce'));
});

test('arpKind', () => {
  assert.equal(arpKind(arpRequest(A, ip('10.0.0.1'), ip('10.0.0.2'))), 'request');
  assert.equal(arpKind(arpReply(B, ip('10.0.0.2'), A, ip('10.0.0.1'))), 'reply');
  assert.equal(arpKind(gratuitousArp(A, ip('10.0.0.1'))), 'announcement');
  assert.equal(
    arpKind({ ...gratuitousArp(A, ip('10.0.0.1')), targetMac: 0xffffffffffff }),
    'gratuitous-request',
  );
  assert.equal(arpKind({ ...arpRequest(A, 0, ip('10.0.0.1')), targetMac: B }), 'request'); // from 0.0.0.0 but with a target MAC: not a probe
  assert.equal(
    arpKind({ ...arpReply(A, ip('10.0.0.1'), 0xffffffffffff, ip('10.0.0.1')) }),
    'gratuitous-reply',
  );
  assert.equal(arpKind(arpProbe(A, ip('10.0.0.1'))), 'probe');
  assert.equal(arpKind(rarpAnnouncement(A)), 'reverse-request');
  assert.equal(arpKind({ ...rarpAnnouncement(A), op: 4 }), 'reverse-reply');
  assert.equal(arpKind({ ...rarpAnnouncement(A), op: 9 }), 'other');
});
