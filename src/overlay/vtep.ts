/**
 * A VTEP (VXLAN tunnel endpoint, RFC 7348 4): the NVE's address on the underlay and the tunnel it
 * speaks. From the encapsulation follow the underlay protocol (UDP for VXLAN and GENEVE, GRE for
 * NVGRE), the well-known destination port (4789 VXLAN, 6081 GENEVE; RFC 7348 5, RFC 8926 3.3), and
 * the outer headers' overhead the inner MTU loses. The outer UDP source port is the inner flow's
 * hash, so the underlay's ECMP spreads flows (RFC 7348 5); NVGRE puts it in the FlowID instead.
 */
import type { Ipv4 } from '../wire/index.js';
import { type EncapsulationKind, encapsulationPort, outerIpOverhead } from './encapsulation.js';
import { UNDERLAY_GRE, UNDERLAY_UDP, type UnderlayProtocol } from './underlay.js';

export interface Vtep {
  /** The tunnel's address on the underlay (the outer source of what it sends). */
  readonly address: Ipv4;
  readonly encapsulation: EncapsulationKind;
  /** How the underlay carries the tunnel. */
  readonly protocol: UnderlayProtocol;
  /** The tunnel's UDP port (undefined for GRE). */
  readonly udpPort: number | undefined;
  /** Bytes of outer headers (IPv4 and the tunnel's) around each inner frame. */
  readonly overhead: number;
}

/**
 * The VTEP at `address` speaking `encapsulation`, on its well-known port unless `port` says
 * otherwise (Linux's vxlan device defaults to 8472, the port it used before IANA's 4789).
 */
export function vtepOf(address: Ipv4, encapsulation: EncapsulationKind, port?: number): Vtep {
  const wellKnown = encapsulationPort(encapsulation);
  const udpPort = wellKnown === undefined ? undefined : (port ?? wellKnown);
  return {
    address,
    encapsulation,
    protocol: udpPort === undefined ? UNDERLAY_GRE : UNDERLAY_UDP,
    udpPort,
    overhead: outerIpOverhead(encapsulation),
  };
}
