/**
 * The zod schemas of the probe routes (`POST /v1/ping`, `POST /v1/trace`): the request bodies the
 * server enforces (every problem with its path) and the answers, both turned into the OpenAPI
 * document by `openapi.ts`, so the document cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { parseIpv4Address } from '../wire/index.js';

const instanceId = /^i-[0-9a-z]+$/;

const from = z
  .string()
  .regex(instanceId, 'an instance id like i-0a1b2c3d4e5f')
  .describe('the instance that sends the probes');
const to = z
  .string()
  .refine((v) => instanceId.test(v) || parseIpv4Address(v) !== undefined, {
    message: 'an instance id like i-0a1b2c3d4e5f or an IPv4 address',
  })
  .describe('an instance id (of your tenant) or an IPv4 address');

/** `POST /v1/ping`: ICMP echo requests from an instance, as `ping -c COUNT -s SIZE -i INTERVAL`. */
export const pingBody = z.strictObject({
  from,
  to,
  count: z.number().int().min(1).max(100).optional().describe('echo requests (default 4)'),
  size: z.number().int().min(0).max(65507).optional().describe('echo data bytes (default 56)'),
  intervalMs: z
    .number()
    .int()
    .min(1)
    .max(60000)
    .optional()
    .describe('between requests, ms of simulated time (default 1000)'),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(60000)
    .optional()
    .describe('how long each request waits, ms of simulated time (default 1000)'),
});

/** `POST /v1/trace`: one packet with every device's decision traced. */
export const traceBody = z
  .strictObject({
    from,
    to,
    protocol: z.enum(['tcp', 'udp', 'icmp']).default('icmp'),
    port: z.number().int().min(1).max(65535).optional().describe('the destination port (tcp and udp)'),
  })
  .superRefine((b, ctx) => {
    if (b.protocol !== 'icmp' && b.port === undefined)
      ctx.addIssue({ code: 'custom', path: ['port'], message: `a ${b.protocol} trace needs a port` });
    if (b.protocol === 'icmp' && b.port !== undefined)
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'ports are for tcp and udp, not icmp' });
  });

const us = z.number().nullable().describe('simulated microseconds');

export const pingAnswer = z.object({
  from: z.string(),
  to: z.string(),
  address: z.string().describe('the address pinged'),
  size: z.number().int(),
  probes: z.array(
    z.object({
      seq: z.number().int(),
      status: z.enum(['reply', 'unreachable', 'time-exceeded', 'timeout', 'not-sent']),
      from: z.string().nullable().describe('who answered: the destination, or the router of an ICMP error'),
      rttUs: us,
      ttl: z.number().int().nullable(),
      message: z.string().nullable().describe('the ICMP error in words, or why it was not sent'),
      dropped: z.string().nullable().describe('no reply: the first drop on the way, "node: reason"'),
    }),
  ),
  summary: z.object({
    transmitted: z.number().int(),
    received: z.number().int(),
    errors: z.number().int(),
    lossPercent: z.number(),
    rttMinUs: us,
    rttAvgUs: us,
    rttMaxUs: us,
    rttMdevUs: us,
  }),
});

export const traceAnswer = z.object({
  from: z.string(),
  to: z.string(),
  protocol: z.enum(['tcp', 'udp', 'icmp']),
  port: z.number().int().nullable(),
  delivered: z.boolean().describe('the answer came back from the destination'),
  outcome: z.string().describe('what the sender saw'),
  drops: z.array(z.string()).describe('"node: reason" for every drop on the way'),
  trace: z.array(z.string()).describe('one line per decision: "time us  node  port  message"'),
  hops: z.array(
    z.object({
      timeUs: z.number(),
      node: z.string(),
      port: z.string().nullable(),
      kind: z.string(),
      message: z.string(),
    }),
  ),
});
