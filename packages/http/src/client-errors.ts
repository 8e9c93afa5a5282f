import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problem, PROBLEM_CONTENT_TYPE } from './problem';

/** What Node's HTTP parser reports: `code` (e.g. HPE_INVALID_HEADER_TOKEN) and a `reason`. */
interface ClientError extends Error {
  readonly code?: string;
  readonly reason?: string;
}

const STATUS_BY_PARSER_CODE: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
  HPE_URI_OVERFLOW: 414,
};

/**
 * The server's `clientError` handler: a request Node's HTTP parser refuses before Fastify
 * sees it (a control character in a header, an unknown method, `Content-Length: -1`, a
 * request line that is not HTTP) is answered problem+json like every other error, on the raw
 * socket, then the connection is closed: after a parse error the stream cannot be trusted.
 */
export function answerClientError(err: ClientError, socket: Socket): void {
  // A reset connection has nobody left to answer (as in Node's and Fastify's own handlers).
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // After a response has started on this connection (e.g. the bytes following a request
  // with `Transfer-Encoding: gzip` fail to parse), a second one would corrupt the stream:
  // close it instead, as Node's own handler does.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = STATUS_BY_PARSER_CODE[err.code ?? ''] ?? 400;
    const reason = err.reason ?? err.message;
    const body = JSON.stringify(
      problem(status, 'bad-http-request', `The request is not valid HTTP: ${reason}`, {
        parserCode: err.code ?? 'unknown',
      }),
    );
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
