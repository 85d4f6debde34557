/**
 * The configuration of a real VTEP (`vnet vtep CONFIG.yaml`, or the same built from flags): its
 * schema, and its check into a `RealVtepSpec`. Every problem is reported with its path
 * (`bridgeDomains.0.taps.1.ip: not an IPv4 prefix`), all at once.
 *
 * ```yaml
 * local: 192.168.100.2          # the VTEP's address on the underlay
 * encapsulation: vxlan          # or geneve
 * port: 4789                    # default 4789 (VXLAN), 6081 (GENEVE)
 * mtu: 1450                     # the stations' MTU (default 1500 minus 50)
 * controlPlane: flood-and-learn # or static: only the static remotes, and ARP suppression for them
 * bridgeDomains:
 *   - vni: 100
 *     remotes: [192.168.100.1]  # head-end replication targets
 *     taps:                     # TAP devices moved into existing network namespaces
 *       - { namespace: vm1, ifname: eth0, ip: 10.0.0.2/24, mac: 02:00:00:00:00:02 }
 *     hosts:                    # vnet's own stations: ARP, ping, UDP and TCP echo on port 7
 *       - { ip: 10.0.0.5/24 }
 *     static:                   # remote stations known in advance (as a controller installs them)
 *       - { mac: 02:00:00:00:00:01, vtep: 192.168.100.1, ip: 10.0.0.1 }
 * ```
 */
import { z } from 'zod';
import { isVni } from '../overlay/index.js';
import { parseCidr, parseIpv4Address, parseMac } from '../wire/index.js';
import type { RealVtepSpec } from './real-vtep.js';

const address = z.string().refine((s) => parseIpv4Address(s) !== undefined, 'not an IPv4 address');
const prefix = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, 'not an IPv4 address with a prefix length (10.0.0.2/24)');
const mac = z.string().refine((s) => parseMac(s) !== undefined, 'not a MAC address (02:00:00:00:00:01)');
const name = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, '1 to 15 letters, digits, "_", "." or "-"');

export const vtepConfigSchema = z.strictObject({
  local: address,
  encapsulation: z.enum(['vxlan', 'geneve']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  mtu: z.number().int().min(68).max(65_000).optional(),
  controlPlane: z.enum(['flood-and-learn', 'static']).optional(),
  bridgeDomains: z
    .array(
      z.strictObject({
        vni: z.number().int().refine(isVni, 'a VNI is 1..16777215'),
        remotes: z.array(address).optional(),
        taps: z
          .array(
            z.strictObject({
              namespace: z
                .string()
                .regex(/^[A-Za-z0-9_.-]{1,64}$/, '1 to 64 letters, digits, "_", "." or "-"'),
              ifname: name.optional(),
              ip: prefix.optional(),
              mac: mac.optional(),
            }),
          )
          .optional(),
        hosts: z.array(z.strictObject({ ip: prefix, mac: mac.optional() })).optional(),
        static: z.array(z.strictObject({ mac, vtep: address, ip: address.optional() })).optional(),
      }),
    )
    .min(1, 'at least one bridge domain'),
});

export type VtepConfig = z.infer<typeof vtepConfigSchema>;

export type VtepConfigResult =
  | { readonly ok: true; readonly spec: Omit<RealVtepSpec, 'tracer'> }
  | { readonly ok: false; readonly problems: string[] };

/** Checks a configuration (parsed YAML, or built from flags) and converts it. */
export function checkVtepConfig(data: unknown): VtepConfigResult {
  const parsed = vtepConfigSchema.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map(
        (i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`,
      ),
    };
  const c = parsed.data;
  const problems: string[] = [];
  const vnis = new Set<number>();
  c.bridgeDomains.forEach((b, i) => {
    if (vnis.has(b.vni)) problems.push(`bridgeDomains.${i}.vni: VNI ${b.vni} is given twice`);
    vnis.add(b.vni);
    if ((b.taps ?? []).length + (b.hosts ?? []).length === 0)
      problems.push(`bridgeDomains.${i}: no station (give taps or hosts)`);
  });
  const namespaces = new Map<string, string>();
  c.bridgeDomains.forEach((b, i) => {
    (b.taps ?? []).forEach((t, k) => {
      const key = `${t.namespace}/${t.ifname ?? 'vnet0'}`;
      const first = namespaces.get(key);
      if (first !== undefined) problems.push(`bridgeDomains.${i}.taps.${k}: ${key} is already ${first}`);
      else namespaces.set(key, `bridgeDomains.${i}.taps.${k}`);
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      local: parseIpv4Address(c.local)!,
      encapsulation: c.encapsulation,
      port: c.port,
      mtu: c.mtu,
      controlPlane: c.controlPlane,
      bridgeDomains: c.bridgeDomains.map((b) => ({
        vni: b.vni,
        remotes: (b.remotes ?? []).map((r) => parseIpv4Address(r)!),
        taps: (b.taps ?? []).map((t) => ({
          namespace: t.namespace,
          ifname: t.ifname,
          address: t.ip === undefined ? undefined : parseCidr(t.ip),
          mac: t.mac === undefined ? undefined : parseMac(t.mac),
        })),
        hosts: (b.hosts ?? []).map((h) => ({
          address: parseCidr(h.ip)!,
          mac: h.mac === undefined ? undefined : parseMac(h.mac),
        })),
        staticMacs: (b.static ?? []).map((s) => ({
          mac: parseMac(s.mac)!,
          vtep: parseIpv4Address(s.vtep)!,
          ip: s.ip === undefined ? undefined : parseIpv4Address(s.ip),
        })),
      })),
    },
  };
}
