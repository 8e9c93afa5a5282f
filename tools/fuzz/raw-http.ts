import { connect } from 'node:net';

/** A request as bytes on the wire: anything a client could send, valid HTTP or not. */
export interface RawRequest {
  readonly method: string;
  /** The request target exactly as sent (already encoded - or deliberately not). */
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Content-Length to declare instead of the body's length (only values that cannot hang). */
  readonly contentLength?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Bytes after the response (a second response on one request is a finding). */
  readonly trailing: number;
  readonly ms: number;
}

/**
 * Sends one request on a fresh connection (`Connection: close`) and reads the answer until
 * the server closes. Rejects with "no answer" after `timeoutMs`: a hang is a finding.
 */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const started = Date.now();
  const body = req.body ?? Buffer.alloc(0);
  const lines = [`${req.method} ${req.target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  if (req.body !== undefined || req.contentLength !== undefined) {
    lines.push(`Content-Length: ${req.contentLength ?? body.length}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: a half-closed connection makes Node's server abort the request (it does
    // not allow half-open sockets), so the answer of any async route would never come.
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat([head, body])));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The server may close after answering while we still write (e.g. a 413): keep what came.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      let all = Buffer.concat(chunks);
      // Interim 1xx answers (`Expect: 100-continue`) come before the real one.
      while (/^HTTP\/1\.[01] 1\d\d /.test(all.subarray(0, 16).toString('latin1'))) {
        const interim = all.indexOf('\r\n\r\n');
        if (interim < 0) break;
        all = all.subarray(interim + 4);
      }
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        reject(new Error(`connection closed without a response (${all.length} bytes)`));
        return;
      }
      const [statusLine = '', ...headerLines] = all
        .subarray(0, end)
        .toString('latin1')
        .split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      const headers: Record<string, string> = {};
      for (const l of headerLines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let payload: Buffer = all.subarray(end + 4);
      let trailing = 0;
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) payload = dechunk(payload);
      else if (headers['content-length'] !== undefined) {
        // A HEAD answer declares a length it does not send - unless the server could not
        // parse the request at all, then it is a plain response with a body.
        const length = Number(headers['content-length']);
        const bodyLength = req.method === 'HEAD' && !payload.length ? 0 : length;
        const rest = payload.subarray(bodyLength);
        // A second response on one request corrupts the connection: a finding.
        trailing = rest.subarray(0, 7).toString('latin1') === 'HTTP/1.' ? rest.length : 0;
        payload = payload.subarray(0, bodyLength);
      }
      resolve({ status, headers, body: payload, trailing, ms: Date.now() - started });
    });
  });
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
