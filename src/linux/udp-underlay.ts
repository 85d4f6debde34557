/**
 * The real underlay: an `Underlay` (overlay/underlay.ts) on this host's IPv4 stack. Datagrams for
 * the local VTEP arrive on a UDP socket bound to its address and the tunnel's port (4789 for VXLAN,
 * 6081 for GENEVE; the kernel checks their UDP checksum, when there is one, before we see them).
 * Datagrams leave through a raw IPv4 socket (IPPROTO_RAW, so it receives nothing) with the header
 * written here: source the VTEP, DF set, the NVE's TTL, and the UDP source port the NVE chose from
 * the inner flow's hash (RFC 7348 5), which a plain UDP socket could not vary per datagram. The UDP
 * checksum is zero, as RFC 7348 5 recommends over IPv4. A datagram the kernel refuses as too big
 * for its route (DF) or unroutable is reported back as the `Underlay` contract says.
 */

import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { Underlay, UnderlayProtocol, UnderlayReceiver, UnderlayRefusal } from '../overlay/index.js';
import { formatIpv4, type Ipv4, ip, writeIpv4Header, writeUdpHeader } from '../wire/index.js';
import { Errno, libc } from './libc.js';

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;

export interface UdpUnderlayOptions {
  /** The local VTEP address: datagrams leave from it, and the socket listens on it. */
  readonly address: Ipv4;
  /** The tunnel's UDP port (4789 VXLAN, 6081 GENEVE). */
  readonly port: number;
  /** Outer TTL (default 64). */
  readonly ttl?: number;
  /** Receive buffer of the socket, bytes (default 4 MiB: bursts from many VMs). */
  readonly receiveBuffer?: number;
}

export interface UdpUnderlayCounters {
  received: number;
  sent: number;
  /** Datagrams the kernel refused to send, by errno name. */
  sendErrors: Record<string, number>;
  /** Errors the receiving socket reported while running (counted; it goes on). */
  socketErrors: number;
}

/** Why the real underlay could not start, in words a user can act on. */
export class UnderlayError extends Error {}

export class UdpUnderlay implements Underlay {
  readonly counters: UdpUnderlayCounters = { received: 0, sent: 0, sendErrors: {}, socketErrors: 0 };
  private closed = false;
  private receiver: UnderlayReceiver | null = null;
  private readonly scratch = new Uint8Array(65_535);
  private readonly destination = new Uint8Array(16);
  private readonly ttl: number;
  private nextId = 1;
  private readonly mtuCache = new Map<Ipv4, { mtu: number; iface: string }>();
  private lastSourceText = '';
  private lastSource: Ipv4 = 0;

  private constructor(
    readonly address: Ipv4,
    readonly port: number,
    private readonly socket: Socket,
    private readonly raw: number,
    ttl: number,
  ) {
    this.ttl = ttl;
    this.destination[0] = AF_INET; // sockaddr_in: family (little-endian u16), port 0, address
    socket.on('error', () => {
      this.counters.socketErrors++;
    });
    socket.on('message', (msg, rinfo) => {
      this.counters.received++;
      const receiver = this.receiver;
      if (receiver === null) return;
      // Most datagrams come from the VTEP the last one came from: its address is parsed once.
      if (rinfo.address !== this.lastSourceText) {
        this.lastSourceText = rinfo.address;
        this.lastSource = ip(rinfo.address);
      }
      receiver(this.lastSource, rinfo.port, msg, 0, msg.length, undefined);
    });
  }

  /** Binds the tunnel's socket on the VTEP address and opens the raw socket it sends through. */
  static async open(options: UdpUnderlayOptions): Promise<UdpUnderlay> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: options.receiveBuffer ?? 4 << 20 });
    const where = `${formatIpv4(options.address)}:${options.port}`;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => {
        socket.close();
        if (error.code === 'EADDRINUSE')
          reject(
            new UnderlayError(
              `UDP ${where} is in use (another VTEP, or the kernel's vxlan device, listens there)`,
            ),
          );
        else if (error.code === 'EADDRNOTAVAIL')
          reject(
            new UnderlayError(
              `${formatIpv4(options.address)} is not an address of this host (or of this network namespace)`,
            ),
          );
        else if (error.code === 'EACCES') reject(new UnderlayError(`binding UDP ${where} needs root`));
        else reject(new UnderlayError(`cannot bind UDP ${where}: ${error.message}`));
      };
      socket.once('error', failed);
      socket.bind({ address: formatIpv4(options.address), port: options.port, exclusive: true }, () => {
        socket.off('error', failed);
        resolve();
      });
    });
    const c = libc();
    // Non-blocking (a full send buffer drops a datagram, it never stalls the event loop) and
    // close-on-exec (the `ip` commands this process runs do not inherit it).
    const raw = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
    if (raw < 0) {
      socket.close();
      throw new UnderlayError(
        c.errno() === Errno.EPERM
          ? 'sending tunnel datagrams needs a raw socket: run as root (or with CAP_NET_RAW)'
          : `cannot open a raw socket: errno ${c.errno()}`,
      );
    }
    return new UdpUnderlay(options.address, options.port, socket, raw, options.ttl ?? 64);
  }

  listen(protocol: UnderlayProtocol, port: number, receiver: UnderlayReceiver): void {
    if (protocol !== 17)
      throw new UnderlayError('the real underlay carries UDP tunnels only (VXLAN, GENEVE)');
    if (port !== this.port) throw new UnderlayError(`the underlay listens on UDP ${this.port}, not ${port}`);
    this.receiver = receiver;
  }

  close(_protocol: UnderlayProtocol, _port: number): void {
    this.receiver = null;
  }

  check(): UnderlayRefusal | null {
    return null; // the kernel decides at send time (route, MTU with DF)
  }

  send(
    protocol: UnderlayProtocol,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    header: Uint8Array,
    payload: Uint8Array,
  ): UnderlayRefusal | null {
    if (protocol !== 17 || this.closed) return { reason: 'no-route' };
    const length = 28 + header.length + payload.length;
    if (length > this.scratch.length) return this.tooBig(dst);
    const b = this.scratch;
    writeIpv4Header(
      b,
      0,
      {
        dscp: 0,
        ecn: 0,
        id: this.nextId,
        df: true,
        mf: false,
        fragmentOffset: 0,
        ttl: this.ttl,
        protocol: 17,
        src: this.address,
        dst,
        options: NO_OPTIONS,
      },
      8 + header.length + payload.length,
    );
    this.nextId = (this.nextId + 1) & 0xffff || 1;
    writeUdpHeader(b, 20, { srcPort, dstPort }, header.length + payload.length);
    b.set(header, 28);
    b.set(payload, 28 + header.length);
    const d = this.destination;
    d[4] = dst >>> 24;
    d[5] = (dst >>> 16) & 0xff;
    d[6] = (dst >>> 8) & 0xff;
    d[7] = dst & 0xff;
    const c = libc();
    if (c.sendto(this.raw, b, length, 0, d, 16) >= 0) {
      this.counters.sent++;
      return null;
    }
    const errno = c.errno();
    const name = ERRNO_NAMES[errno] ?? `errno-${errno}`;
    this.counters.sendErrors[name] = (this.counters.sendErrors[name] ?? 0) + 1;
    if (errno === Errno.EMSGSIZE) return this.tooBig(dst);
    if (errno === Errno.ENETUNREACH || errno === Errno.EHOSTUNREACH) return { reason: 'no-route' };
    return { reason: 'send-failed', why: `sendto: ${name}` };
  }

  /** The refusal of a datagram too big for the route to `dst` (its interface's MTU, asked once). */
  private tooBig(dst: Ipv4): UnderlayRefusal {
    let known = this.mtuCache.get(dst);
    if (known === undefined) {
      known = { mtu: 0, iface: '?' };
      try {
        const route = JSON.parse(
          execFileSync('ip', ['-j', 'route', 'get', formatIpv4(dst)], { encoding: 'utf8' }),
        )[0];
        const link = JSON.parse(
          execFileSync('ip', ['-j', 'link', 'show', route.dev], { encoding: 'utf8' }),
        )[0];
        known = { mtu: Number(link.mtu), iface: String(route.dev) };
      } catch {
        // the reason stays right; only the figure is missing
      }
      if (known.mtu > 0) this.mtuCache.set(dst, known); // a failed lookup is tried again next time
    }
    return { reason: 'too-big', mtu: known.mtu, iface: known.iface, port: known.iface };
  }

  /** Closes both sockets. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver = null;
    this.socket.close();
    libc().close(this.raw);
  }
}

const NO_OPTIONS = new Uint8Array(0);

const ERRNO_NAMES: Record<number, string> = {
  [Errno.EMSGSIZE]: 'EMSGSIZE',
  [Errno.ENETUNREACH]: 'ENETUNREACH',
  [Errno.EHOSTUNREACH]: 'EHOSTUNREACH',
  [Errno.EPERM]: 'EPERM',
  [Errno.EINVAL]: 'EINVAL',
  [Errno.EAGAIN]: 'EAGAIN (send buffer full)',
  [Errno.ENOBUFS]: 'ENOBUFS',
};
