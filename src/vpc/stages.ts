/**
 * The named stages of the VPC pipeline, shared by the compiler (which builds the plan stage by
 * stage) and the reachability analysis (whose every hop belongs to one stage), as OVN's pipeline
 * stages name both its logical flows and the steps of `ovn-trace`.
 *
 * - `vnis`             each VPC's L3 VNI and each subnet's VNI, unique fabric-wide, kept across changes.
 * - `placement`        where instances run: bridge domains, VRFs, gateways (VBDIFs), MAC/IP routes,
 *                      DHCP bindings.
 * - `border`           the internet gateway's side: the border's VRFs, their links to the internet,
 *                      source NAT and elastic IPs.
 * - `routes`           route tables and peerings, resolved to next hops and interfaces.
 * - `security-groups`  stateful rules per instance.
 * - `acls`             stateless network ACL rules per subnet.
 */
export const STAGES = ['vnis', 'placement', 'border', 'routes', 'security-groups', 'acls'] as const;
export type Stage = (typeof STAGES)[number];

/** The hops of a reachability answer (`analyzeReach`), each in the stage that decides it. */
export const REACH_STEP_STAGE = {
  'source-instance': 'placement',
  'source-sg-egress': 'security-groups',
  'source-acl-egress': 'acls',
  route: 'routes',
  'route-back': 'routes',
  outside: 'border',
  'destination-instance': 'placement',
  'destination-acl-ingress': 'acls',
  'destination-sg-ingress': 'security-groups',
  'return-acl-egress': 'acls',
  'return-acl-ingress': 'acls',
  appliance: 'placement',
} as const satisfies Record<string, Stage>;
export type ReachStep = keyof typeof REACH_STEP_STAGE;

/** The stage a reachability hop belongs to. */
export function stageOf(step: ReachStep): Stage {
  return REACH_STEP_STAGE[step];
}
