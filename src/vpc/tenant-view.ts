/**
 * What a probe's trace may show: the view of the tenant (or tenants) whose intent the probe was
 * given. Tenants are walls: a packet that leaves a tenant's network (to another tenant's elastic
 * IP, through the internet) comes back with nothing of the other side but what a packet tells
 * from outside, as in a cloud: the public address, whether it answered, and when.
 *
 * Every trace event is classified by where it happened:
 * - `mine`: at a host of one of the viewer's instances, at a VRF router of one of its VPCs
 *   (`host/vpc`), or at an NVE about one of its VAPs (`i-…`, `vbdif<VNI>`, `l3vni-<vpc>`) or VNIs;
 *   at the `internet` router on the link of one of its VPCs (`to-<vpc>`);
 * - `other`: the same about any other instance, VPC, VAP or VNI, and any event whose text names an
 *   object id (`vpc-…`, `i-…`, `sg-…`, …) or a VNI the viewer does not own;
 * - `underlay`: at a leaf or a spine, and an NVE's own IP stack (its VTEP's routes and ARP): the
 *   provider's network, carrying every tenant's tunnels;
 * - `public`: the internet's own hosts (`web`) and the internet router's other links, for the
 *   viewer's packets and the internet's own. Another network's packets there are `other`: an event
 *   at a public place whose text names an address of the border's public pool that is not the
 *   viewer's (another network's source NAT address or elastic IP, talking to `web` at the same
 *   time), and an event there that names no such address (`drop (port-unreachable): UDP port 9`)
 *   right after one of those at the same node and instant (the same packet's).
 *
 * The view keeps `mine` and `public` events. `other` events become one opaque hop for each run of
 * them (`node` "outside", kind `outside`). `underlay` events are kept only when the trace holds no
 * `other` event: an underlay hop names no tenant, but while another tenant's packets are in
 * flight it may be theirs (which hypervisor answered, by which leaf port), so then it is left out.
 * A viewer that owns everything in the trace (a lab, an admin's whole intent) sees it unchanged.
 */
import type { TraceEvent, Tracer } from '../devices/trace.js';
import { type Cidr, cidrContains, parseCidr, parseIpv4Address } from '../wire/index.js';
import type { VpcDataPlane } from './apply.js';
import { type Intent, OBJECT_KINDS } from './intent.js';
import { entriesOf, type Plan } from './plan.js';

type Owner = 'mine' | 'other' | 'underlay' | 'public';

/** Object ids as the service makes them: a kind's prefix and 12 hex digits. */
const ID = new RegExp(
  `\\b(?:${Object.values(OBJECT_KINDS)
    .map((k) => k.prefix)
    .join('|')})-[0-9a-f]{12}\\b`,
  'g',
);
const VNI = /\bVNI (\d+)\b/g;
const NAMES_VNI = /\bVNI \d+\b/;
/** Dotted IPv4 addresses in an event's text. */
const IPV4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g;
/** An NVE's own (underlay) ports: a hypervisor's uplink, the border's links to the spines. */
const UNDERLAY_PORT = /^(?:eth\d+|to-(?:spine|leaf)\d+)$/;

/** The hop that stands for a run of another network's events. */
export const OUTSIDE_NODE = 'outside';
export const OUTSIDE_MESSAGE = "outside your network: the other side's decisions are not shown";

export class TenantView {
  private readonly ids = new Set<string>();
  private readonly vnis = new Set<number>();
  private readonly vpcs = new Set<string>();
  private readonly instances = new Set<string>();
  private readonly nves: ReadonlySet<string>;
  private readonly internet: string | null;
  private readonly publicHosts: ReadonlySet<string>;
  /** The border's public pool, and the viewer's addresses in it (its source NAT addresses and elastic IPs). */
  private readonly pool: Cidr | undefined;
  private readonly publicIps = new Set<string>();

  constructor(
    private readonly dp: VpcDataPlane,
    intent: Intent,
    plan: Plan,
  ) {
    for (const k of Object.values(OBJECT_KINDS))
      for (const o of intent[k.key] as readonly { id: string; tenant?: string }[]) {
        this.ids.add(o.id);
        if (o.tenant !== undefined) this.ids.add(o.tenant);
      }
    for (const v of intent.vpcs) this.vpcs.add(v.id);
    for (const i of intent.instances) this.instances.add(i.id);
    for (const e of entriesOf(plan, 'l3-vni')) this.vnis.add(e.vni);
    for (const e of entriesOf(plan, 'l2-vni')) this.vnis.add(e.vni);
    this.nves = new Set(dp.fabric.nves.map((n) => n.name));
    this.internet = dp.fabric.internet?.name ?? null;
    this.publicHosts = new Set(dp.fabricHosts.map((h) => h.name));
    const pool = dp.inventory().border?.publicPool;
    this.pool = pool === undefined ? undefined : parseCidr(pool);
    for (const e of entriesOf(plan, 'snat')) this.publicIps.add(e.publicIp);
    for (const e of entriesOf(plan, 'static-nat')) this.publicIps.add(e.publicIp);
    for (const e of intent.elasticIps) this.publicIps.add(e.address);
  }

  /**
   * A reader of events in the order they happened that says, for each one at a public place,
   * whether it is another network's packet (see the module header; an event that names no public
   * address goes with the one before it at the same node and instant, the internet router's events
   * on a VPC's link included); false for any other event.
   */
  publicFlows(): (e: TraceEvent) => boolean {
    // Per public node: the instant of its last event, and whether that was another network's.
    const last = new Map<string, { time: number; other: boolean }>();
    return (e) => {
      if (e.node !== this.internet && !this.publicHosts.has(e.node)) return false;
      if (this.placeOf(e) !== 'public') {
        // The internet router on a VPC's link: whose it is decides the events after it there.
        last.set(e.node, { time: e.time, other: this.ownerOf(e) === 'other' });
        return false;
      }
      const before = last.get(e.node);
      const other = this.namesForeignPublicIp(e.message) ?? (before?.time === e.time && before.other);
      last.set(e.node, { time: e.time, other });
      return other;
    };
  }

  /** Whether `text` names an address of the public pool that is not the viewer's; undefined when it names none of the pool. */
  private namesForeignPublicIp(text: string): boolean | undefined {
    if (this.pool === undefined) return undefined;
    let named: boolean | undefined;
    for (const m of text.matchAll(IPV4)) {
      const a = parseIpv4Address(m[0]);
      if (a === undefined || !cidrContains(this.pool, a)) continue;
      if (!this.publicIps.has(m[0])) return true;
      named = false;
    }
    return named;
  }

  /**
   * The events this viewer may see, another network's runs each folded into one `outside` hop;
   * `foreignSeen`: another network's events were seen beside these (a `ViewLog` that kept only some);
   * `publicOther`: those of these events at a public place that are another network's packets
   * (`publicFlows` over every event; read from `events` themselves when not given).
   */
  filter(
    events: readonly TraceEvent[],
    foreignSeen = false,
    publicOther?: ReadonlySet<TraceEvent>,
  ): TraceEvent[] {
    const flows = publicOther === undefined ? this.publicFlows() : (e: TraceEvent) => publicOther.has(e);
    const owners = events.map((e): Owner => (flows(e) ? 'other' : this.ownerOf(e)));
    const foreign = foreignSeen || owners.includes('other');
    const out: TraceEvent[] = [];
    let outside = false;
    for (let i = 0; i < events.length; i++) {
      const owner = owners[i]!;
      if (owner === 'underlay' && foreign) continue;
      if (owner === 'other') {
        if (!outside)
          out.push({ time: events[i]!.time, node: OUTSIDE_NODE, kind: 'outside', message: OUTSIDE_MESSAGE });
        outside = true;
        continue;
      }
      outside = false;
      out.push(events[i]!);
    }
    return out;
  }

  /** Whether `e` happened in another network (by its place alone: cheap enough for every event). */
  isForeign(e: TraceEvent): boolean {
    return this.placeOf(e) === 'other' || (e.node === this.internet && this.ownerOf(e) === 'other');
  }

  /** Whose event `e` is (see the module header). */
  ownerOf(e: TraceEvent): Owner {
    const where = this.placeOf(e);
    if (where === 'other') return 'other';
    // Whatever the place, a text naming another's object or VNI is another's.
    for (const m of e.message.matchAll(ID)) if (!this.ids.has(m[0])) return 'other';
    for (const m of e.message.matchAll(VNI)) if (!this.vnis.has(Number(m[1]))) return 'other';
    if (e.port !== undefined) for (const m of e.port.matchAll(ID)) if (!this.ids.has(m[0])) return 'other';
    return where;
  }

  private placeOf(e: TraceEvent): Owner {
    const node = e.node;
    if (this.dp.instances.has(node)) return this.instances.has(node) ? 'mine' : 'other';
    const slash = node.indexOf('/');
    if (slash >= 0) return this.vpcs.has(node.slice(slash + 1)) ? 'mine' : 'other';
    const port = e.port ?? '';
    if (this.nves.has(node)) {
      const vap = this.vapOwner(port);
      if (vap !== null) return vap;
      // An NVE's event about a bridge domain names its VNI; without one it is the VTEP's own stack.
      return NAMES_VNI.test(e.message) ? 'mine' : 'underlay';
    }
    if (node === this.internet) {
      if (port.startsWith('to-vpc-')) return this.vpcs.has(port.slice(3)) ? 'mine' : 'other';
      return 'public';
    }
    if (this.publicHosts.has(node)) return 'public';
    return 'underlay';
  }

  /** The owner of an NVE port that is a VAP, null for an underlay port (or none); a port it cannot place is another's. */
  private vapOwner(port: string): Owner | null {
    if (port === '' || UNDERLAY_PORT.test(port)) return null;
    if (port.startsWith('l3vni-')) return this.vpcs.has(port.slice(6)) ? 'mine' : 'other';
    const vbdif = /^vbdif(\d+)$/.exec(port);
    if (vbdif !== null) return this.vnis.has(Number(vbdif[1])) ? 'mine' : 'other';
    return this.instances.has(port) ? 'mine' : 'other';
  }
}

/**
 * A tracer for a probe seen through a `TenantView`: keeps the events `keep` selects (a ping needs
 * its drops only: a 100-request ping of 64 KiB makes some 100,000 events, and keeping them all cost
 * more in garbage collection than the simulation) and notes whether another network's were seen.
 */
export class ViewLog implements Tracer {
  readonly enabled = true;
  private readonly kept: TraceEvent[] = [];
  private foreign = false;
  /** Kept events at a public place that are another network's packets. */
  private readonly publicOther = new Set<TraceEvent>();
  private readonly flows: (e: TraceEvent) => boolean;

  constructor(
    private readonly view: TenantView,
    private readonly keep: (e: TraceEvent) => boolean = () => true,
  ) {
    this.flows = view.publicFlows();
  }

  emit(event: TraceEvent): void {
    // Every event is read in order: a public host's drop is the packet's of the event before it.
    const other = this.flows(event);
    if (this.keep(event)) {
      this.kept.push(event);
      if (other) this.publicOther.add(event);
    } else if (!this.foreign && (other || this.view.isForeign(event))) this.foreign = true;
  }

  /** The kept events the viewer may see (`TenantView.filter`). */
  visible(): TraceEvent[] {
    return this.view.filter(this.kept, this.foreign, this.publicOther);
  }
}
