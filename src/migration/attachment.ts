/**
 * Where a VM's NIC plugs in (its attachment: a vSwitch port, an NVE's VAP port, a hub port), and
 * how the same attachment is made ready on the destination hypervisor: the port profile moves
 * with the VM, as a distributed vSwitch or a cloud's port binding does. A switch port gets the
 * source port's VLAN mode; an NVE port gets the same VAPs into the BDs of the same VNIs (the
 * destination must have those BDs: a VM cannot land where its network does not exist).
 *
 * Throws an Error with a clear message when the destination cannot take the VM: these are
 * configuration mistakes a lab check or an API validation reports before anything runs.
 */
import type { Device } from '../devices/device.js';
import { Hub } from '../devices/l2/hub.js';
import { Switch } from '../devices/l2/switch.js';
import type { Port } from '../link/index.js';
import { Nve } from '../overlay/nve.js';

/** A VM's place: the device and port at the other end of its NIC's cable. */
export interface Attachment {
  readonly device: Device;
  readonly port: Port;
}

export function describeAttachment(a: Attachment): string {
  return `${a.device.name}:${a.port.name}`;
}

/** The first name `prefix1`, `prefix2`, ... that `device` has no port by. */
function freePortName(device: Device, prefix: string): string {
  for (let n = 1; ; n++) if (!device.port(`${prefix}${n}`)) return `${prefix}${n}`;
}

/** A port of `device` to plug the VM into: `name` if given (it must have no cable), else a new one. */
function destinationPort(device: Device, name: string | undefined, prefix: string): Port {
  if (name !== undefined) {
    const existing = device.port(name);
    if (existing?.link) throw new Error(`${device.name} port ${name} is already in use`);
    return existing ?? device.addPort(name);
  }
  return device.addPort(freePortName(device, prefix));
}

/**
 * Makes `destination` ready to take the VM attached at `source`: a free port with the source
 * port's configuration. Returns that port (not yet cabled).
 */
export function prepareDestination(source: Attachment, destination: Device, portName?: string): Port {
  if (destination === source.device) throw new Error(`${destination.name} is where the VM already is`);
  const src = source.device;
  if (destination instanceof Switch) {
    if (!(src instanceof Switch))
      throw new Error(
        `the VM is attached to ${src.name}, not a switch: it cannot move to switch ${destination.name}`,
      );
    const config = src.portConfig(source.port.name);
    const port = destinationPort(destination, portName, '');
    if (config !== undefined) destination.configurePort(port.name, config);
    return port;
  }
  if (destination instanceof Nve) {
    if (!(src instanceof Nve))
      throw new Error(
        `the VM is attached to ${src.name}, not an NVE: it cannot move to NVE ${destination.name}`,
      );
    const vaps = src.vaps.onPort(source.port);
    if (vaps.length === 0) throw new Error(`${src.name} port ${source.port.name} has no VAP`);
    const plan = vaps.map((vap) => {
      const bd = destination.bridgeDomainByVni(vap.bd.vni);
      if (bd === undefined)
        throw new Error(
          `${destination.name} has no bridge domain for VNI ${vap.bd.vni}: the VM's network is not there`,
        );
      return { vap, bd };
    });
    const port = destinationPort(destination, portName, 'vm');
    for (const { vap, bd } of plan) {
      if (vap.encap.kind === 'vlan-binding')
        throw new Error(
          `${src.name} port ${source.port.name} is a VLAN-binding port: move its VMs between switches`,
        );
      destination.addSubinterface(port.name, vap.encap, bd, vap.role);
    }
    return port;
  }
  if (destination instanceof Hub) return destinationPort(destination, portName, '');
  throw new Error(
    `${destination.name} is a ${destination.kind}: VMs run on hypervisors (a switch, an NVE or a hub)`,
  );
}
