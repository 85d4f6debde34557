/**
 * What a compile allocates and keeps: VNIs (stable: an object keeps its VNI while it exists) and
 * SNAT addresses (the same way), and what other parts of a compile in parts hold (`Reserved`).
 * Everything else a compile decides (link addresses, transit addresses, resolved routes) is a
 * function of the intent and the inventory alone, whatever the order of the changes that led to it.
 */
import { entriesOf, type Plan } from '../plan.js';

/** The first VNI of each range (VXLAN VNIs are 24 bits, RFC 7348 5). */
export const SUBNET_VNI_BASE = 100000;
export const VPC_L3VNI_BASE = 900000;
export const SUBNET_VNI_LIMIT = VPC_L3VNI_BASE - 1;
export const VNI_LIMIT = 0xff_ffff;

/**
 * Stable allocation: ids keep their previous value when it is still in [base, limit] and not taken;
 * the others get the lowest free value, in id order.
 */
export function allocateStable(
  ids: readonly string[],
  previous: ReadonlyMap<string, number>,
  base: number,
  limit: number,
  reserved: (value: number) => boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  const free = (v: number) => !taken.has(v) && !reserved(v);
  for (const id of ids) {
    const v = previous.get(id);
    if (v !== undefined && v >= base && v <= limit && free(v)) {
      out.set(id, v);
      taken.add(v);
    }
  }
  let next = base;
  for (const id of ids) {
    if (out.has(id)) continue;
    while (next <= limit && !free(next)) next++;
    if (next > limit) continue; // the range is full: the object gets no value (and no entries)
    out.set(id, next);
    taken.add(next);
  }
  return out;
}

/**
 * What other compiles hold, when an intent is compiled in parts (one tenant at a time, see
 * tenant-plans.ts): VNIs and public addresses that belong to another part are never handed out.
 */
export interface Reserved {
  /** Whether the VNI is another part's. */
  readonly vni: (vni: number) => boolean;
  /** Whether the public address (dotted) is another part's: its SNAT address or an elastic IP. */
  readonly publicIp: (address: string) => boolean;
}

export const NOTHING_RESERVED: Reserved = { vni: () => false, publicIp: () => false };

/**
 * What a compile keeps from before, by object id: each VPC's L3 VNI, each subnet's VNI, each VPC's
 * SNAT address. A previous plan holds them; the service also stores them, so that a restart (which
 * compiles with no plan applied yet) gives every object what it had.
 */
export interface Allocations {
  readonly l3Vni: ReadonlyMap<string, number>;
  readonly l2Vni: ReadonlyMap<string, number>;
  readonly snat: ReadonlyMap<string, string>;
}

/** The allocations a plan holds. */
export function allocationsOf(plan: Plan): Allocations {
  return {
    l3Vni: new Map(entriesOf(plan, 'l3-vni').map((e) => [e.key, e.vni])),
    l2Vni: new Map(entriesOf(plan, 'l2-vni').map((e) => [e.key, e.vni])),
    snat: new Map(entriesOf(plan, 'snat').map((e) => [e.key, e.publicIp])),
  };
}
