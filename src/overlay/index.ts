/** overlay/: NVEs with their VTEPs, bridge domains, VAPs and L2 gateways, encapsulations and the fabric's control plane. Browser-safe. */
export * from './bridge-domain.js';
export * from './controller.js';
export * from './encapsulation.js';
export * from './l2-gateway.js';
export * from './nve.js';
export * from './security-group.js';
export * from './sim-underlay.js';
export * from './underlay.js';
export * from './vap.js';
export * from './vni.js';
export * from './vrf.js';
export * from './vtep.js';
