/**
 * The few libc calls Node has no API for, through koffi (an FFI whose npm package carries its
 * prebuilt binaries: nothing is downloaded or compiled at install): `ioctl` to make a TAP device,
 * `poll` to wait for any of many file descriptors on a worker thread, and a raw IPv4 socket
 * (`socket`, `sendto`, `setsockopt`) to send UDP datagrams with the source port an NVE chooses per
 * flow. Loaded on first use, so that importing `linux/` costs nothing where it is not used.
 */
import { createRequire } from 'node:module';

export interface Libc {
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** `poll(fds, nfds, timeoutMs)` on a worker thread; `done(error, readyCount)`. */
  pollAsync(
    fds: Uint8Array,
    count: number,
    timeoutMs: number,
    done: (error: unknown, ready: number) => void,
  ): void;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  sendto(
    fd: number,
    bytes: Uint8Array,
    length: number,
    flags: number,
    addr: Uint8Array,
    addrLength: number,
  ): number;
  close(fd: number): number;
  /** `read(2)` into `into[offset..]`: the byte count, or -1 (then `errno()`). */
  read(fd: number, into: Uint8Array, offset: number, length: number): number;
  /** `write(2)` of `bytes`: the byte count, or -1. */
  write(fd: number, bytes: Uint8Array, length: number): number;
  /** The errno of the last call that failed. */
  errno(): number;
}

let loaded: Libc | undefined;

export function libc(): Libc {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  // biome-ignore lint/suspicious/noExplicitAny: koffi's declarations are untyped strings.
  const koffi = require('koffi') as any;
  const lib = koffi.load('libc.so.6');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)');
  const poll = lib.func('int poll(uint8_t *fds, unsigned long nfds, int timeout)');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setsockopt = lib.func(
    'int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t length)',
  );
  const sendto = lib.func(
    'long sendto(int fd, const uint8_t *bytes, unsigned long length, int flags, const uint8_t *addr, uint32_t addrLength)',
  );
  const close = lib.func('int close(int fd)');
  const read = lib.func('long read(int fd, uint8_t *buf, unsigned long count)');
  const write = lib.func('long write(int fd, const uint8_t *buf, unsigned long count)');
  loaded = {
    ioctl: (fd, request, arg) => ioctl(fd, request, arg),
    pollAsync: (fds, count, timeoutMs, done) => poll.async(fds, count, timeoutMs, done),
    socket: (domain, type, protocol) => socket(domain, type, protocol),
    setsockopt: (fd, level, name, value, length) => setsockopt(fd, level, name, value, length),
    sendto: (fd, bytes, length, flags, addr, addrLength) =>
      Number(sendto(fd, bytes, length, flags, addr, addrLength)),
    close: (fd) => close(fd),
    read: (fd, into, offset, length) => Number(read(fd, into.subarray(offset, offset + length), length)),
    write: (fd, bytes, length) => Number(write(fd, bytes, length)),
    errno: () => koffi.errno() as number,
  };
  return loaded;
}

/** errno values used here (Linux). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EAGAIN: 11,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOBUFS: 105,
  EMSGSIZE: 90,
  ENETUNREACH: 101,
  EHOSTUNREACH: 113,
} as const;
