/**
 * The fabric's own addresses a compile hands out: each NVE's transit address (its VRFs' address on
 * their L3 VNI), and the blocks of the peering and external links (vpc/addresses.ts FABRIC_BLOCKS).
 */
import { cidr, formatIpv4 } from '../../wire/index.js';
import { FABRIC_BLOCKS } from '../addresses.js';
import type { FabricInventory } from '../intent.js';

/** The VRFs' transit addresses on their L3 VNI: 169.254.0.0/16. */
export const TRANSIT_PREFIX = 16;
const TRANSIT_BASE = cidr(FABRIC_BLOCKS.transit.cidr).address;
/** Links between the border's VRFs and the internet router: 100.64.0.0/10 in /30s. */
export const EXTERNAL_LINKS = cidr(FABRIC_BLOCKS.external.cidr);
/** Peering links between two VPCs' VRFs on one hypervisor: 198.18.0.0/15 in /30s. */
export const PEERING_LINKS = cidr(FABRIC_BLOCKS.peering.cidr);
/** How many /30s a block holds. */
export const linksIn = (block: { prefixLength: number }) => 2 ** (30 - block.prefixLength);

/** The transit address (dotted) of every NVE of the inventory (the hypervisors and the border), by name. */
export function transitAddresses(fabric: FabricInventory): Map<string, string> {
  const out = new Map<string, string>();
  fabric.hypervisors.forEach((h, k) => {
    out.set(h.name, h.transit ?? formatIpv4((TRANSIT_BASE + k + 1) >>> 0));
  });
  const b = fabric.border;
  if (b !== null)
    out.set(b.name, b.transit ?? formatIpv4((TRANSIT_BASE + fabric.hypervisors.length + 1) >>> 0));
  return out;
}

/** The two addresses (dotted) of the /30 number `n` of `block`: `.1` and `.2`. */
export function linkAddresses(block: { address: number }, n: number): [string, string] {
  const base = (block.address + n * 4) >>> 0;
  return [formatIpv4((base + 1) >>> 0), formatIpv4((base + 2) >>> 0)];
}
