/**
 * HTTP/1.1 over a raw TCP socket, for requests `fetch` will not send: bad percent-encoding, headers
 * over Node's limit, broken request lines, lying Content-Length, bodies in other charsets. The reply
 * is read to the end of the connection (each request asks `Connection: close`).
 */
import { connect } from 'node:net';

export interface RawReply {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, decoded as UTF-8 (chunked transfer undone). */
  readonly text: string;
  /** Everything the server sent, as Latin-1. */
  readonly raw: string;
}

/** A request's bytes: the request line, `Host`, `Connection: close`, the headers given, the body. */
export function http11(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Buffer {
  const headers: Record<string, string> = { host: '127.0.0.1', connection: 'close', ...options.headers };
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  if (
    body !== undefined &&
    headers['content-length'] === undefined &&
    headers['transfer-encoding'] === undefined
  )
    headers['content-length'] = String(body.length);
  const head = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (eol < 0 || !(size > 0)) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Sends the bytes to 127.0.0.1:port and parses the one response. */
export function sendRaw(port: number, request: Buffer | string, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may close while the request is still being written (a 431, a 413): its answer counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseReply(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.end(request);
  });
}

/** The first response in the bytes. */
export function parseReply(all: Buffer): RawReply {
  const end = all.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP response: ${JSON.stringify(all.toString('latin1'))}`);
  const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
  if (!status) throw new Error(`not a status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body: Buffer = all.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined)
    body = body.subarray(0, Number(headers['content-length']));
  return {
    status: Number(status[1]),
    headers,
    text: body.toString('utf8'),
    raw: all.toString('latin1'),
  };
}

/**
 * Requests one after another on one kept-alive connection, each sent once the answer to the one
 * before it has arrived; the answers in order (the last request should ask `Connection: close`).
 */
export function sendInTurn(
  port: number,
  requests: readonly (Buffer | string)[],
  timeoutMs = 10_000,
): Promise<RawReply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: RawReply[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (${replies.length} so far)`));
    }, timeoutMs);
    const next = () => {
      const request = requests[replies.length];
      if (request !== undefined) socket.write(request);
    };
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: *(\d+)/i.exec(pending.subarray(0, end).toString('latin1'));
        if (end < 0 || !length || pending.length < end + 4 + Number(length[1])) return;
        replies.push(parseReply(pending.subarray(0, end + 4 + Number(length[1]))));
        pending = pending.subarray(end + 4 + Number(length[1]));
        next();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
    next();
  });
}
