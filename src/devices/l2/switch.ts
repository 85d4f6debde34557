/**
 * A learning switch (transparent bridge, IEEE 802.1D/802.1Q) with VLANs.
 *
 * - Each port is an access port (untagged, one VLAN; default VLAN 1) or a trunk (802.1Q-tagged
 *   frames of its allowed VLANs; untagged frames belong to its native VLAN, if it has one): the
 *   modes and their rules are in `access-trunk.ts`.
 * - Ingress: the frame's VLAN is decided by the port (access) or the tag (trunk). A tagged frame
 *   on an access port is dropped (`tagged-on-access`) unless its tag is a priority tag (VID 0); a
 *   trunk drops VLANs it does not allow (`vlan-not-allowed`) and untagged frames without a native
 *   VLAN (`untagged-on-trunk`). A group source address is invalid (`bad-source-mac`).
 * - Learning: (VLAN, source MAC) -> ingress port, in a `MacTable` with aging and a size limit.
 * - Forwarding: known unicast goes out of its one port (or is filtered when that is the ingress
 *   port); broadcast, multicast and unknown unicast flood to every other up port of the VLAN.
 *   Broadcast domains are per VLAN: nothing crosses from one VLAN to another.
 * - Egress: tags are pushed or popped per the out port's mode (native VLAN frames leave a trunk
 *   untagged); frames shorter than 60 bytes after a pop are padded.
 */
import type { Port } from '../../link/index.js';
import {
  allocBytes,
  copyBytes,
  ETHERNET_MIN_FRAME,
  EtherType,
  formatMac,
  isGroupMac,
  isStpLlc,
  type Mac,
  parseBpdu,
  parseEthernetFrame,
  readMac,
  readU16,
  STP_MULTICAST,
  VID_RESERVED,
  writeU16,
} from '../../wire/index.js';
import { Device, type DeviceContext } from '../device.js';
import {
  carriesVlan,
  DEFAULT_ACCESS,
  hasVlan,
  leavesUntagged,
  type PortVlan,
  type PortVlanMode,
  portVlan,
  unusableVlan,
} from './access-trunk.js';
import { MacTable } from './mac-table.js';
import { SpanningTree, type StpOptions } from './stp.js';

/** A switch port's VLAN mode: access or trunk (`access-trunk.ts`). */
export type SwitchPortConfig = PortVlanMode;

export interface SwitchOptions {
  /** MAC table capacity (default 8192 entries). */
  readonly macTableSize?: number;
  /** MAC aging time, ns (default 300 s). */
  readonly agingTime?: number;
  /** The bridge's own MAC (source of its BPDUs, part of its bridge ID). */
  readonly mac?: Mac;
  /** Run spanning tree (off by default, as on an unmanaged switch). */
  readonly stp?: boolean | StpOptions;
}

export interface SwitchCounters {
  forwarded: number;
  flooded: number;
  filtered: number;
  learned: number;
  moved: number;
}

export class Switch extends Device {
  readonly kind = 'switch';
  readonly macTable: MacTable;
  readonly counters: SwitchCounters = { forwarded: 0, flooded: 0, filtered: 0, learned: 0, moved: 0 };
  /** Each port's VLAN configuration, by port index. */
  private readonly vlanOf: PortVlan[] = [];
  /** Ports carrying each VLAN, in port order, by VLAN ID: built when first needed, dropped when a port changes. */
  private floodPorts: (Port[] | undefined)[] = [];
  private readonly variants = new FrameVariants();
  /** The port of each MAC table port number. */
  private readonly byTableId: Port[] = [];
  /** The spanning tree, when enabled. */
  readonly stp: SpanningTree | null;

  constructor(name: string, context: DeviceContext, options: SwitchOptions = {}) {
    super(name, context);
    this.macTable = new MacTable(options.macTableSize, options.agingTime);
    this.stp = options.stp
      ? new SpanningTree(
          {
            name,
            now: () => this.now(),
            setTimer: (d, fn) => this.setTimer(d, fn),
            sendOn: (port, frame) => port.send(frame),
            flushMacTable: () => this.macTable.flush(),
            shortenAging: (until, age) => this.macTable.shortenAging(until, age),
            trace: (kind, message, port) => this.trace(kind, message, port),
          },
          options.mac ?? 0x02_00_00_00_00_00,
          options.stp === true ? {} : options.stp,
        )
      : null;
  }

  protected override portAdded(port: Port): void {
    this.setPortVlan(port, portVlan(DEFAULT_ACCESS));
    this.floodPorts = [];
    this.stp?.addPort(port, this.ports.length);
  }

  protected override linkChanged(port: Port, up: boolean): void {
    if (!up) this.macTable.flushPort(port.name);
    this.stp?.linkChanged(port, up);
  }

  /** Starts the spanning tree (if enabled): call once the links are in place. */
  start(): void {
    this.stp?.start();
  }

  /** Whether frames may leave by `port`: up, and forwarding if spanning tree runs. */
  private canSend(port: Port): boolean {
    return port.isUp && (this.stp === null || this.stp.canForward(port));
  }

  configurePort(portName: string, config: SwitchPortConfig): void {
    const port = this.port(portName);
    if (!port) throw new Error(`${this.name} has no port ${portName}`);
    const v = unusableVlan(config);
    if (v !== undefined) throw new Error(`${this.name} port ${portName}: VLAN ${v} is not 1..4094`);
    this.setPortVlan(port, portVlan(config));
    this.floodPorts = [];
  }

  /** Gives `port` its VLAN state (keeping its MAC table number). */
  private setPortVlan(port: Port, pv: PortVlan): void {
    const old = this.vlanOf[port.index];
    if (old !== undefined) pv.tableId = old.tableId;
    this.vlanOf[port.index] = pv;
    port.deviceState = pv;
  }

  /** The VLAN state of one of this switch's ports. */
  private vlanState(port: Port): PortVlan {
    return port.deviceState as PortVlan;
  }

  /** The ports of `vlan`, in port order (a flood visits only these). */
  private portsOf(vlan: number): Port[] {
    let list = this.floodPorts[vlan];
    if (list === undefined) {
      list = this.ports.filter((p) => this.carries(p, vlan));
      this.floodPorts[vlan] = list;
    }
    return list;
  }

  portConfig(portName: string): SwitchPortConfig | undefined {
    const port = this.port(portName);
    return port ? this.vlanOf[port.index]?.config : undefined;
  }

  /** The MAC table's number for `port`. */
  private tableId(port: Port): number {
    const pv = this.vlanState(port);
    let id = pv.tableId;
    if (id < 0) {
      id = this.macTable.portId(port.name);
      pv.tableId = id;
      this.byTableId[id] = port;
    }
    return id;
  }

  /** Whether `port` carries `vlan`. */
  private carries(port: Port, vlan: number): boolean {
    return carriesVlan(this.vlanState(port), vlan);
  }

  protected receive(frame: Uint8Array, port: Port): void {
    if (frame.length < 14) return this.drop('runt', port, `${frame.length}-byte frame`);
    const dstMac = readMac(frame, 0);
    if (dstMac === STP_MULTICAST) return this.receiveBpdu(frame, port);
    // 01:80:c2:00:00:01-0f (pause, LACP, 802.1X, LLDP, ...) are link-local: a bridge never relays them (802.1D 7.12.6).
    if (dstMac > STP_MULTICAST && dstMac <= STP_MULTICAST + 0x0f) return this.drop('link-local-group', port);
    const pv = this.vlanState(port);
    const access = pv.access;
    const type = readU16(frame, 12);
    let vlan: number;
    let tagged = false;
    if (type === EtherType.vlan) {
      if (frame.length < 18) return this.drop('runt', port, 'cut inside its VLAN tag');
      const vid = readU16(frame, 14) & 0x0fff;
      tagged = true;
      if (access >= 0) {
        if (vid !== 0)
          return this.drop('tagged-on-access', port, `VLAN ${vid} tag on access port (VLAN ${access})`);
        vlan = access; // priority-tagged: belongs to the port's VLAN (IEEE 802.1Q 6.9)
      } else if (vid === 0) {
        if (pv.native < 0)
          return this.drop('untagged-on-trunk', port, 'priority-tagged frame and no native VLAN');
        vlan = pv.native;
      } else {
        if (vid === VID_RESERVED)
          return this.drop('reserved-vid', port, 'VLAN 4095 is reserved (IEEE 802.1Q Table 9-2)');
        if (!(pv.allowed === null || hasVlan(pv.allowed, vid) || pv.native === vid))
          return this.drop('vlan-not-allowed', port, `VLAN ${vid} not allowed on trunk`);
        vlan = vid;
      }
    } else if (access >= 0) {
      vlan = access;
    } else {
      if (pv.native < 0) return this.drop('untagged-on-trunk', port, 'untagged frame and no native VLAN');
      vlan = pv.native;
    }
    const src = readMac(frame, 6);
    if (isGroupMac(src))
      return this.drop('bad-source-mac', port, `source ${formatMac(src)} is a group address`);
    const dst = readMac(frame, 0);
    const now = this.clock.now();
    if (this.stp !== null && !this.stp.canForward(port)) {
      // Learning state fills the table but forwards nothing; blocking and listening do neither (802.1D 7.4).
      if (this.stp.canLearn(port)) this.macTable.learnId(vlan, src, this.tableId(port), now);
      return this.drop('stp-not-forwarding', port);
    }
    const learned = this.macTable.learnId(vlan, src, this.tableId(port), now);
    if (learned === 'learned') this.counters.learned++;
    else if (learned === 'moved') this.counters.moved++;
    const variants = this.variants.reset(frame, tagged, vlan);
    const outId = isGroupMac(dst) ? -1 : this.macTable.lookupId(vlan, dst, now);
    const tracing = this.tracer.enabled;
    const learnNote = tracing ? learnText(learned, src, vlan, port.name) : '';
    if (outId >= 0) {
      const out = this.byTableId[outId] ?? this.port(this.macTable.portName(outId)!);
      if (out === port) {
        this.counters.filtered++;
        if (tracing)
          this.trace(
            'filter',
            `${learnNote}; dst ${formatMac(dst)} is on port ${port.name}, the port it came in on -> filtered`,
            port,
          );
        return;
      }
      if (out !== undefined && this.canSend(out) && this.carries(out, vlan)) {
        this.counters.forwarded++;
        out.send(variants.forPort(this.vlanState(out), vlan));
        if (tracing) this.trace('forward', `${learnNote}; dst ${formatMac(dst)} -> port ${out.name}`, port);
        return;
      }
    }
    this.counters.flooded++;
    const sent: string[] | null = tracing ? [] : null;
    for (const out of this.portsOf(vlan)) {
      if (out === port || !this.canSend(out)) continue;
      out.send(variants.forPort(this.vlanState(out), vlan));
      sent?.push(out.name);
    }
    if (tracing) {
      const why = isGroupMac(dst) ? (dst === 0xffff_ffff_ffff ? 'broadcast' : 'multicast') : 'unknown';
      this.trace(
        'flood',
        `${learnNote}; dst ${formatMac(dst)} ${why} -> flood ports ${sent?.join(',') || '(none)'}`,
        port,
      );
    }
  }

  /** Frames to the bridge group address 01:80:c2:00:00:00: BPDUs, never forwarded (802.1D 7.12.6). */
  private receiveBpdu(frame: Uint8Array, port: Port): void {
    if (this.stp === null) return this.drop('bpdu-ignored', port, 'spanning tree is off');
    const eth = parseEthernetFrame(frame);
    if (!eth.ok || eth.value.repr.etherType > 1500 || !isStpLlc(eth.value.payload))
      return this.drop('bad-bpdu', port);
    const bpdu = parseBpdu(eth.value.payload.subarray(3));
    if (!bpdu.ok) return this.drop(`bpdu-${bpdu.error.code}`, port);
    if (bpdu.value.type === 'config') this.stp.receive(port, bpdu.value);
    else this.stp.receiveTcn(port);
  }
}

function learnText(result: string, src: number, vlan: number, port: string): string {
  const mac = formatMac(src);
  switch (result) {
    case 'learned':
      return `learned ${mac} on VLAN ${vlan} port ${port}`;
    case 'moved':
      return `${mac} moved to port ${port} on VLAN ${vlan}`;
    case 'table-full':
      return `MAC table full, ${mac} not learned`;
    default:
      return `${mac} known on port ${port}`;
  }
}

const EMPTY_FRAME = new Uint8Array(0);

/**
 * The untagged form last built, by any switch, and the tagged frame it came from. Frames are not
 * modified once sent (`Port.send`), so the same frame object always has the same untagged form:
 * when a tagged flood reaches several switches in a row (an NVE's copy to each server of a VLAN,
 * delivered at the same instant), they share one copy instead of building one each.
 */
const lastUntag: { from: Uint8Array; untagged: Uint8Array } = { from: EMPTY_FRAME, untagged: EMPTY_FRAME };

/**
 * The untagged and tagged forms of one frame, each built at most once however many ports it
 * leaves by. A frame belongs to one VLAN, so it has one tagged form: the frame itself when it came
 * tagged with that VLAN's ID (a priority-tagged frame is re-tagged).
 */
class FrameVariants {
  private frame: Uint8Array = EMPTY_FRAME;
  private hasTag = false;
  private untagged: Uint8Array | undefined;
  private tagged: Uint8Array | undefined;

  /** Starts on a new frame (one instance serves a switch: a frame is handled before the next arrives). */
  reset(frame: Uint8Array, hasTag: boolean, vlan: number): this {
    this.frame = frame;
    this.hasTag = hasTag;
    this.untagged = hasTag ? undefined : frame;
    this.tagged = hasTag && (readU16(frame, 14) & 0x0fff) === vlan ? frame : undefined;
    return this;
  }

  forPort(pv: PortVlan, vlan: number): Uint8Array {
    if (leavesUntagged(pv, vlan)) return this.untaggedFrame();
    return this.taggedFrame(vlan);
  }

  private untaggedFrame(): Uint8Array {
    if (this.untagged) return this.untagged;
    const f = this.frame;
    if (lastUntag.from === f) {
      this.untagged = lastUntag.untagged;
      return lastUntag.untagged;
    }
    const length = Math.max(ETHERNET_MIN_FRAME, f.length - 4);
    const out = allocBytes(length);
    copyBytes(out, 0, f, 0, 12);
    copyBytes(out, 12, f, 16, f.length);
    this.untagged = out;
    lastUntag.from = f;
    lastUntag.untagged = out;
    return out;
  }

  private taggedFrame(vlan: number): Uint8Array {
    const known = this.tagged;
    if (known) return known;
    const f = this.frame;
    const pcpDei = this.hasTag ? readU16(f, 14) & 0xf000 : 0;
    const inner = this.hasTag ? f.subarray(16) : f.subarray(12);
    const out = allocBytes(16 + inner.length);
    copyBytes(out, 0, f, 0, 12);
    writeU16(out, 12, EtherType.vlan);
    writeU16(out, 14, pcpDei | vlan);
    copyBytes(out, 16, inner, 0, inner.length);
    this.tagged = out;
    return out;
  }
}
