/**
 * The `fabric:` key of a lab file: its spec for the generator (`fabric.ts`) and the nodes it will
 * create with their kinds, so the lab's own links and script steps can be checked against them.
 */
import { cidr } from '../../wire/index.js';
import { type FabricSpec, fabricNodeNames } from '../fabric.js';
import { linkProperties, parseDuration } from '../units.js';
import type { LabFabric } from './schema.js';

export function fabricSpec(f: LabFabric): FabricSpec {
  return {
    spines: f.spines,
    leaves: f.leaves,
    serversPerLeaf: f.serversPerLeaf,
    vmsPerServer: f.vmsPerServer,
    nve: f.nve,
    encapsulation: f.encapsulation,
    controlPlane: f.controlPlane,
    gateway: f.gateway,
    underlayMtu: f.underlayMtu,
    external: f.external,
    announce: f.announce,
    link: f.link ? linkProperties(f.link) : undefined,
    tenants: f.tenants.map((t) => ({ name: t.name, subnets: t.subnets.map(cidr) })),
  };
}

export function fabricControllerDelay(f: LabFabric | undefined): number | undefined {
  return f?.controllerDelay === undefined ? undefined : parseDuration(f.controllerDelay);
}

/** Every node the fabric generates, with the kind a lab step sees it as (`nve` for VTEP devices). */
export function fabricNodeKinds(f: LabFabric): Map<string, string> {
  const spec = fabricSpec(f);
  const leafNve = (spec.nve ?? 'leaf') === 'leaf';
  const kinds = new Map<string, string>();
  for (const n of fabricNodeNames(spec)) {
    if (/^spine\d+$/.test(n)) kinds.set(n, 'router');
    else if (/^leaf\d+$/.test(n)) kinds.set(n, leafNve ? 'nve' : 'router');
    else if (/^leaf\d+-srv\d+$/.test(n)) kinds.set(n, leafNve ? 'switch' : 'nve');
    else if (n === 'border') kinds.set(n, 'nve');
    else if (n === 'internet') kinds.set(n, 'router');
    else kinds.set(n, 'host');
  }
  return kinds;
}
