/**
 * Stage `vnis`: each VPC's L3 VNI (symmetric IRB, RFC 9135) and each subnet's VNI, unique
 * fabric-wide and stable (kept from `previous`; new ones take the lowest free VNI of their range).
 */
import { parseCidr } from '../../wire/index.js';
import {
  allocateStable,
  SUBNET_VNI_BASE,
  SUBNET_VNI_LIMIT,
  VNI_LIMIT,
  VPC_L3VNI_BASE,
} from './allocations.js';
import type { CompileContext } from './context.js';

export function compileVnis(ctx: CompileContext): void {
  const { previous, reserved } = ctx;
  const l3 = allocateStable(
    ctx.vpcs.map((v) => v.id),
    previous.l3Vni,
    VPC_L3VNI_BASE,
    VNI_LIMIT,
    reserved.vni,
  );
  const l2 = allocateStable(
    ctx.subnets.map((s) => s.id),
    previous.l2Vni,
    SUBNET_VNI_BASE,
    SUBNET_VNI_LIMIT,
    reserved.vni,
  );
  for (const [id, vni] of l3) ctx.l3.set(id, vni);
  for (const [id, vni] of l2) ctx.l2.set(id, vni);
  for (const v of ctx.vpcs) {
    const vni = l3.get(v.id);
    if (vni !== undefined)
      ctx.push({ kind: 'l3-vni', key: v.id, source: v.id, tenant: v.tenant, vpc: v.id, vni });
  }
  for (const s of ctx.subnets) {
    const vni = l2.get(s.id);
    const l3Vni = l3.get(s.vpc);
    if (vni === undefined || l3Vni === undefined || parseCidr(s.cidr) === undefined) continue;
    ctx.push({
      kind: 'l2-vni',
      key: s.id,
      source: s.id,
      tenant: s.tenant,
      vpc: s.vpc,
      subnet: s.id,
      cidr: s.cidr,
      vni,
      l3Vni,
    });
  }
}
