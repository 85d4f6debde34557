/**
 * A Linux TAP device: a virtual Ethernet interface whose frames this process reads and writes
 * through `/dev/net/tun` (the kernel's tun/tap driver, Documentation/networking/tuntap.rst). It is
 * opened non-blocking, without the packet-information prefix (IFF_NO_PI): a read gives one whole
 * Ethernet frame, a write sends one. The device lives as long as its descriptor is open (it is not
 * persistent), so a process that dies leaves no TAP behind.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { Errno, libc } from './libc.js';

const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** Linux's IFNAMSIZ, its trailing NUL included. */
const IFNAMSIZ = 16;

/** Why a TAP device could not be made, in words a user can act on. */
export class TapError extends Error {}

export class TapDevice {
  private closed = false;

  private constructor(
    readonly name: string,
    readonly fd: number,
  ) {}

  /** Makes the TAP device `name` (at most 15 characters) in this process's network namespace. */
  static open(name: string): TapDevice {
    if (name.length === 0 || name.length >= IFNAMSIZ || !/^[A-Za-z0-9_.-]+$/.test(name))
      throw new TapError(`TAP name "${name}": 1 to 15 letters, digits, '_', '.' or '-'`);
    let fd: number;
    try {
      fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new TapError(
          'no /dev/net/tun: this kernel has no tun/tap driver (modprobe tun), or this container hides it',
        );
      if (code === 'EACCES' || code === 'EPERM')
        throw new TapError('cannot open /dev/net/tun: making TAP devices needs root (or CAP_NET_ADMIN)');
      throw new TapError(`cannot open /dev/net/tun: ${(error as Error).message}`);
    }
    const ifr = new Uint8Array(40);
    new TextEncoder().encodeInto(name, ifr);
    ifr[16] = (IFF_TAP | IFF_NO_PI) & 0xff;
    ifr[17] = (IFF_TAP | IFF_NO_PI) >> 8;
    const c = libc();
    if (c.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const errno = c.errno();
      closeSync(fd);
      if (errno === Errno.EPERM)
        throw new TapError(`cannot make TAP ${name}: it needs root (or CAP_NET_ADMIN)`);
      if (errno === Errno.EBUSY || errno === Errno.EEXIST)
        throw new TapError(`cannot make TAP ${name}: an interface of that name already exists`);
      if (errno === Errno.EINVAL)
        throw new TapError(`cannot make TAP ${name}: an interface of that name exists and is not a TAP`);
      throw new TapError(`cannot make TAP ${name}: ioctl(TUNSETIFF) failed, errno ${errno}`);
    }
    return new TapDevice(name, fd);
  }

  /**
   * Reads one frame into `into` at `offset`: its length, or 0 when none is waiting. Throws on a
   * real error (the device is gone).
   */
  read(into: Uint8Array, offset: number): number {
    // libc's read, not fs.readSync: an empty queue is the common end of every drain, and
    // fs.readSync reports it by throwing.
    const c = libc();
    const n = c.read(this.fd, into, offset, into.length - offset);
    if (n >= 0) return n;
    const errno = c.errno();
    if (errno === Errno.EAGAIN) return 0;
    throw new TapError(`reading TAP ${this.name}: errno ${errno}`);
  }

  /** Writes one frame; false when the kernel would not take it (the interface is down, or gone). */
  write(frame: Uint8Array): boolean {
    if (this.closed) return false;
    return libc().write(this.fd, frame, frame.length) === frame.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
