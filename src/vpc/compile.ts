/**
 * `compile(intent, fabric, previous?)`: the VPC intent turned into the fabric's configuration (the
 * plan, see plan.ts), as OVN's northd turns its northbound database into logical flows.
 *
 * Guarantees:
 * - Pure and deterministic: no clock, no randomness, objects taken in id order; the plan's entries
 *   are sorted, so the same inputs give the same bytes.
 * - Never throws: compile an intent `validate` accepts; references it would reject (unknown ids,
 *   another tenant's objects, hosts outside the inventory) are skipped, not guessed at.
 * - VNIs are unique fabric-wide (every tenant shares the one VNI space, whatever their CIDRs) and
 *   stable: with `previous`, every subnet and VPC still in the intent keeps the VNI it had; new
 *   ones take the lowest VNI free in their range (subnets from 100000, VPC L3 VNIs from 900000);
 *   a deleted object's VNI becomes free. Source NAT addresses are kept the same way.
 * - Placement follows the instances: a hypervisor gets a subnet's BD and its VPC's VRF only while
 *   a running instance of that subnet is on it. Stopped instances get no MAC/IP route, no DHCP
 *   binding, no rules and no NAT; routes that name them stay (the reachability analysis reports it).
 * - SNAT addresses come from the top of the border's public pool downwards (the service allocates
 *   elastic IPs from the bottom), never an elastic IP's address.
 * - Every decision the data plane needs is in the plan: transit and link addresses, each gateway's
 *   interface, each route resolved to its next hop and interface (`resolved-route`). Applying a plan
 *   (apply.ts) allocates nothing and resolves nothing. Apart from the VNIs and SNAT addresses kept
 *   from `previous`, the plan is a function of the intent and the inventory: the same intent gives
 *   the same plan whatever order of changes led to it.
 *
 * The compile runs in named stages (stages.ts, shared with the reachability analysis's hops), each
 * in its own file under compile/: `vnis`, `placement`, `border`, `routes`, `security-groups`, `acls`.
 */

import { compileAcls } from './compile/acls.js';
import { type Allocations, allocationsOf, NOTHING_RESERVED, type Reserved } from './compile/allocations.js';
import { compileBorder } from './compile/border.js';
import { type CompileContext, compileContext } from './compile/context.js';
import { compilePlacement } from './compile/placement.js';
import { compileRoutes } from './compile/routes.js';
import { compileSecurityGroups } from './compile/security-groups.js';
import { compileVnis } from './compile/vnis.js';
import type { FabricInventory, Intent } from './intent.js';
import { compareEntries, PLAN_VERSION, type Plan, type PlanEntry } from './plan.js';
import type { Stage } from './stages.js';

export {
  type Allocations,
  allocationsOf,
  type Reserved,
  SUBNET_VNI_BASE,
  VPC_L3VNI_BASE,
} from './compile/allocations.js';

/** The stages in the order they run: each reads what the ones before it pushed. */
const PIPELINE: readonly (readonly [Stage, (ctx: CompileContext) => void])[] = [
  ['vnis', compileVnis],
  ['placement', compilePlacement],
  ['border', compileBorder],
  ['routes', compileRoutes],
  ['security-groups', compileSecurityGroups],
  ['acls', compileAcls],
];

export function compile(
  intent: Intent,
  fabric: FabricInventory,
  previous?: Plan | Allocations,
  reserved: Reserved = NOTHING_RESERVED,
): Plan {
  const prev: Allocations =
    previous === undefined
      ? allocationsOf({ version: PLAN_VERSION, entries: [] })
      : 'entries' in previous
        ? allocationsOf(previous)
        : previous;
  const ctx = compileContext(intent, fabric, prev, reserved);
  for (const [, stage] of PIPELINE) stage(ctx);
  // One entry per (kind, key): the first pushed wins (a BD or VRF shared by several instances).
  const unique = new Map<string, PlanEntry>();
  for (const e of ctx.entries) {
    const id = `${e.kind} ${e.key}`;
    if (!unique.has(id)) unique.set(id, e);
  }
  return { version: PLAN_VERSION, entries: [...unique.values()].sort(compareEntries) };
}
