import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { uuidV7 } from '@cqrs/core';
import { RawSqlPath } from './r1-commands';

/**
 * R5's baseline, run as a process of its own like the command-service: a bare `node:http`
 * server (no framework, no validation beyond what the answer needs) that takes
 * `POST /commands/customer/{id}` with `{ type: 'RegisterCustomer', data }`, parses the JSON,
 * sends through mysql2 the SQL our command path sends for it (R1's RawSqlPath, with the
 * metadata our service records: correlation and causation id = the request id) on a pool of
 * `MYSQL_POOL_MAX` connections, and answers our status, headers and body. `GET /health` answers
 * 200 so the bench can wait for it like for our apps. Env: MYSQL_URL, MYSQL_POOL_MAX, RAW_PORT.
 */
const sql = new RawSqlPath(process.env.MYSQL_URL ?? '', Number(process.env.MYSQL_POOL_MAX ?? 10));
const PATH = /^\/commands\/customer\/([A-Za-z0-9_-]{1,64})$/;

function answer(res: ServerResponse, status: number, body: string, headers = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, id: string, text: string): void {
  let body: { type?: unknown; data?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    answer(res, 400, '{"title":"body is not JSON"}');
    return;
  }
  if (body.type !== 'RegisterCustomer' || typeof body.data !== 'object' || body.data === null) {
    answer(res, 400, '{"title":"not a RegisterCustomer"}');
    return;
  }
  const requestId = uuidV7();
  sql.registerCustomer(id, body.data, { correlationId: requestId, causationId: requestId }).then(
    (position) =>
      answer(
        res,
        201,
        JSON.stringify({
          aggregateType: 'customer',
          aggregateId: id,
          version: 1,
          position,
          events: [{ type: 'CustomerRegistered', version: 1 }],
          consistencyToken: `customer:${id}@1`,
        }),
        { etag: '"1"', 'x-request-id': requestId },
      ),
    (err: unknown) => answer(res, 500, JSON.stringify({ title: (err as Error).message })),
  );
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    answer(res, 200, '{"status":"ok"}');
    return;
  }
  const id = req.method === 'POST' ? PATH.exec(req.url ?? '')?.[1] : undefined;
  if (id === undefined) {
    answer(res, 404, '{"title":"no route"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => handle(req, res, id, Buffer.concat(chunks).toString('utf8')));
});
// Fastify's keep-alive timeout (72 s), so neither side closes idle connections earlier.
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.RAW_PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void sql.close().finally(() => process.exit(0));
});
