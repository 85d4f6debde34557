/** `vnet ping` and `vnet trace` print the API's answers as Linux ping does, and the trace lines then the result. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPing, renderTrace } from '../../src/cli/service/probe.js';

const probe = (seq: number, status: string, extra: Record<string, unknown> = {}) => ({
  seq,
  status,
  from: null,
  rttUs: null,
  ttl: null,
  message: null,
  dropped: null,
  ...extra,
});

test('ping: replies, an ICMP error, a loss with its drop, a request not sent; the summary with errors', () => {
  const lines = renderPing(
    {
      address: '10.0.2.4',
      size: 56,
      probes: [
        probe(1, 'reply', { from: '10.0.2.4', rttUs: 24.112, ttl: 62 }),
        probe(2, 'unreachable', { from: '169.254.0.1', message: 'Packet filtered' }),
        probe(3, 'timeout', { dropped: 'leaf1-srv2: drop (blackhole): no route' }),
        probe(4, 'not-sent', { message: 'Network is unreachable' }),
      ],
      summary: {
        transmitted: 3,
        received: 1,
        errors: 1,
        lossPercent: 66.7,
        rttMinUs: 24.112,
        rttAvgUs: 24.112,
        rttMaxUs: 24.112,
        rttMdevUs: 0,
      },
    },
    'web1',
    'db1',
  );
  assert.deepEqual(lines, [
    'PING db1 (10.0.2.4) from web1: 56(84) bytes of data.',
    '64 bytes from 10.0.2.4: icmp_seq=1 ttl=62 time=24.112 us',
    'From 169.254.0.1 icmp_seq=2 Packet filtered',
    'no answer for icmp_seq=3: dropped at leaf1-srv2: drop (blackhole): no route',
    'ping: sendmsg: Network is unreachable (icmp_seq=4)',
    '',
    '--- 10.0.2.4 ping statistics ---',
    '3 packets transmitted, 1 received, +1 errors, 66.7% packet loss',
    'rtt min/avg/max/mdev = 24.112/24.112/24.112/0.000 us',
  ]);
});

test('trace: the lines, the result, every drop', () => {
  assert.deepEqual(
    renderTrace({
      trace: ['    0.000 us  a  eth0  x'],
      delivered: false,
      outcome: 'no connection (SYN-SENT)',
      drops: ['leaf1: drop (acl-deny): rule 90'],
    }),
    [
      '    0.000 us  a  eth0  x',
      'result: NOT delivered: no connection (SYN-SENT)',
      '  drop at leaf1: drop (acl-deny): rule 90',
    ],
  );
});
