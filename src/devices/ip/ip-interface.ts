/**
 * An IPv4 interface of a host or router: a port (optionally with an 802.1Q VLAN, for a router
 * sub-interface or an L3 switch's VLANIF), its own MAC, one or more addresses, and its ARP cache.
 */
import type { Port } from '../../link/index.js';
import {
  type Cidr,
  cidrBroadcast,
  cidrContains,
  formatCidr,
  formatMac,
  type Ipv4,
  type Mac,
} from '../../wire/index.js';
import { ArpCache, type ArpOptions } from './arp-cache.js';

export class IpInterface {
  readonly arp: ArpCache;
  up = true;
  /**
   * How many addresses the interface has, and the first of them as an int32 (`| 0`): `owns` on a
   * one-address interface (every station's) then reads no array and no address object.
   */
  private addressCount = 0;
  private firstAddress = 0;
  private readonly list: Cidr[];

  constructor(
    /** Interface name, e.g. `eth0`, `g0/0.10`, `vlanif10`. */
    readonly name: string,
    readonly port: Port,
    readonly mac: Mac,
    addresses: Cidr[],
    /** 802.1Q VLAN of a sub-interface (frames tagged with it), or null for the untagged port. */
    readonly vlan: number | null,
    arpOptions?: ArpOptions,
  ) {
    this.arp = new ArpCache(arpOptions);
    this.list = addresses;
    this.countAddresses();
  }

  /** The interface's addresses (changed with `addAddress` and `clearAddresses` only). */
  get addresses(): readonly Cidr[] {
    return this.list;
  }

  addAddress(address: Cidr): void {
    this.list.push(address);
    this.countAddresses();
  }

  clearAddresses(): void {
    this.list.length = 0;
    this.countAddresses();
  }

  private countAddresses(): void {
    this.addressCount = this.list.length;
    this.firstAddress = this.list.length > 0 ? this.list[0]!.address | 0 : 0;
  }

  get primary(): Cidr | undefined {
    return this.addresses[0];
  }

  owns(ip: Ipv4): boolean {
    if (this.addressCount === 1) return (ip | 0) === this.firstAddress;
    const addresses = this.list;
    for (let i = 0; i < addresses.length; i++) if (addresses[i]!.address === ip) return true;
    return false;
  }

  /** True when `ip` is on one of this interface's subnets. */
  onLink(ip: Ipv4): boolean {
    const addresses = this.addresses;
    for (let i = 0; i < addresses.length; i++) if (cidrContains(addresses[i]!, ip)) return true;
    return false;
  }

  /** True for 255.255.255.255 and the directed broadcast of any of its subnets (not /31, /32). */
  isBroadcast(ip: Ipv4): boolean {
    if (ip === 0xffff_ffff) return true;
    const addresses = this.addresses;
    for (let i = 0; i < addresses.length; i++) {
      const a = addresses[i]!;
      if (a.prefixLength < 31 && cidrBroadcast(a) === ip) return true;
    }
    return false;
  }

  /** Largest IPv4 packet the interface's link carries. */
  get mtu(): number {
    return this.port.link?.mtu ?? 1500;
  }

  describe(): string {
    return `${this.name} ${formatMac(this.mac)} ${this.addresses.map(formatCidr).join(' ')}${this.vlan !== null ? ` vlan ${this.vlan}` : ''}`;
  }
}
