/**
 * Where a fabric's L3 gateway lives, as one typed mode and the one place that says what each mode
 * means. `none`: L2 only, the VMs have no gateway. `centralized`: one border NVE holds every
 * tenant's VRF with a VBDIF per subnet; the leaves only bridge. `distributed`: every NVE serving a
 * tenant has the tenant's VRF with an anycast VBDIF per subnet (the same IP and MAC everywhere),
 * and the VRFs route to each other over the tenant's L3 VNI (symmetric IRB), which needs the
 * controller control plane. The fabric generator, the lab schema, checks and size estimate read
 * the mode only through `gatewayLayout`.
 */

/** The modes, in the order the lab schema lists them. */
export const GATEWAY_MODES = ['none', 'centralized', 'distributed'] as const;

export type GatewayMode = (typeof GATEWAY_MODES)[number];

/** What a gateway mode builds. */
export interface GatewayLayout {
  readonly mode: GatewayMode;
  /** The VMs are given their subnet's gateway (its first address) as default route. */
  readonly hostsHaveGateway: boolean;
  /** Where the tenants' VBDIFs are: on the border NVE only, anycast on every NVE serving the tenant, or nowhere. */
  readonly vbdifs: 'border' | 'anycast-on-every-nve' | 'none';
  /** The tenants' VRFs are joined by an L3 VNI per tenant (symmetric IRB); the border's VRFs too. */
  readonly l3Vnis: boolean;
  /** The mode needs a border NVE even without an outside network. */
  readonly needsBorder: boolean;
  /** The mode needs `controlPlane: controller` (its routes come from the control plane). */
  readonly needsController: boolean;
  /** An outside network can be reached (through the border's VRFs). */
  readonly reachesOutside: boolean;
}

const LAYOUTS: Record<GatewayMode, GatewayLayout> = {
  none: {
    mode: 'none',
    hostsHaveGateway: false,
    vbdifs: 'none',
    l3Vnis: false,
    needsBorder: false,
    needsController: false,
    reachesOutside: false,
  },
  centralized: {
    mode: 'centralized',
    hostsHaveGateway: true,
    vbdifs: 'border',
    l3Vnis: false,
    needsBorder: true,
    needsController: false,
    reachesOutside: true,
  },
  distributed: {
    mode: 'distributed',
    hostsHaveGateway: true,
    vbdifs: 'anycast-on-every-nve',
    l3Vnis: true,
    needsBorder: false,
    needsController: true,
    reachesOutside: true,
  },
};

/** What `mode` builds (default `none`). */
export function gatewayLayout(mode: GatewayMode = 'none'): GatewayLayout {
  return LAYOUTS[mode];
}

/** Whether a fabric has a border NVE: its gateway mode needs one, or it has an outside network. */
export function hasBorder(mode: GatewayMode | undefined, external: boolean | undefined): boolean {
  return gatewayLayout(mode).needsBorder || external === true;
}
