/**
 * The VNI: the 24-bit segment ID every overlay packet carries (the VXLAN Network Identifier of
 * RFC 7348 5; GENEVE's VNI, RFC 8926 3.4; NVGRE's VSID, RFC 7637 3.2), so that one fabric holds
 * 16,777,215 isolated segments where 802.1Q holds 4,094 VLANs. On each NVE a VNI maps 1:1 to a
 * bridge domain (`bridge-domain.ts`), and a frame never crosses from one VNI to another: a
 * decapsulated frame goes into the BD of its packet's VNI, or is dropped (`unknown-vni`).
 *
 * - A segment a bridge domain (or a tenant's L3 VNI) can be given: 1..16,777,215 (`isVni`).
 * - What an encapsulation can carry: any 24-bit value, 0 included (`checkWireVni`; the wire
 *   codecs in `wire/vxlan.ts`, `wire/geneve.ts` and `wire/gre.ts` check the same).
 */
import { VNI_MAX } from '../wire/index.js';

/** Whether `vni` is a segment a bridge domain can be given: an integer in 1..16,777,215. */
export function isVni(vni: number): boolean {
  return Number.isInteger(vni) && vni >= 1 && vni <= VNI_MAX;
}

/** Throws unless `vni` fits the 24-bit field of an encapsulation header (0..16,777,215). */
export function checkWireVni(vni: number): void {
  if (!Number.isInteger(vni) || vni < 0 || vni > VNI_MAX) throw new Error(`VNI ${vni} is not 0..16777215`);
}
