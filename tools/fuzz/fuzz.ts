import {
  AppProcess,
  createTestDatabase,
  createTestIndexPrefix,
  createTestVhost,
} from '@cqrs/testing';
import fc from 'fast-check';
import { sendRaw, type RawResponse } from './raw-http';
import { validRequestFor, validWeight } from './domain';
import { hostileRequestFor, operationsOf, type FuzzRequest } from './requests';
import { World } from './world';

export interface FuzzOptions {
  readonly seed: number;
  /** Requests to send at most. */
  readonly runs: number;
  /** Stop (successfully) after this long, whatever the count. */
  readonly timeLimitMs: number;
  /** A request without an answer in this long is a hang (a finding). */
  readonly requestTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly seconds: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** The valid arm's answers by status (its 2xx share: how often the domain was reached). */
  readonly validByStatus: Readonly<Record<string, number>>;
  readonly routes: number;
  /** Empty when every answer was in the contract. */
  readonly failure?: string;
  readonly summary: string;
}

const ADMIN_TOKEN = 'fuzz-admin';

/**
 * What every answer must be: no 5xx (504 only for a consistency wait that timed out, 503 only
 * from /health about a failing dependency), every
 * error a problem+json body whose `status` is the response's. Returns what is wrong, or
 * undefined.
 */
export function verdict(req: FuzzRequest, res: RawResponse): string | undefined {
  if (!Number.isFinite(res.status)) return 'no HTTP status line';
  if (res.trailing > 0) return `${res.trailing} bytes after the response`;
  const waited = req.headers.some(([n]) => n.toLowerCase() === 'x-consistency-token');
  // /health answers 503 with its own body when a dependency fails (e.g. Elasticsearch red):
  // the documented answer about the services, not about the request.
  if (res.status === 503 && req.target.split('?')[0] === '/health') return undefined;
  if (res.status >= 500 && !(res.status === 504 && waited)) return `status ${res.status}`;
  if (res.status < 400 || req.method === 'HEAD') return undefined;
  const type = res.headers['content-type'] ?? '';
  if (!type.startsWith('application/problem+json')) return `error with content-type "${type}"`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'error body is not JSON';
  }
  for (const field of ['type', 'title', 'detail'] as const) {
    if (typeof body[field] !== 'string') return `problem without a string "${field}"`;
  }
  if (body.status !== res.status) return `problem status ${String(body.status)} != ${res.status}`;
  return undefined;
}

const show = (req: FuzzRequest) =>
  JSON.stringify({
    method: req.method,
    target: req.target.length > 300 ? `${req.target.slice(0, 300)}...` : req.target,
    headers: req.headers,
    contentLength: req.contentLength,
    body:
      req.body && req.body.length > 300
        ? `${req.body.subarray(0, 300).toString('latin1')}... (${req.body.length} bytes)`
        : req.body?.toString('latin1'),
  });

/**
 * The fuzz suite: command-service, query-service and outbox-relay as real processes on a
 * database, vhost and index prefix of their own; requests generated from the apps' own
 * OpenAPI documents (every route) with hostile mutations in every part; each answer checked
 * by `verdict`, and the processes checked alive after each. Seeded: the same seed replays.
 */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => undefined);
  const [db, vhost, es] = await Promise.all([
    createTestDatabase('fuzz'),
    createTestVhost('fuzz'),
    createTestIndexPrefix('fuzz'),
  ]);
  const env = {
    MYSQL_URL: db.url,
    AMQP_URL: vhost.url,
    INDEX_PREFIX: es.prefix,
    ADMIN_TOKEN,
    LOG_LEVEL: 'error',
  };
  const apps: AppProcess[] = [];
  const started = Date.now();
  try {
    const command = await AppProcess.start('command-service', env);
    apps.push(command);
    const [query, relay] = await Promise.all([
      AppProcess.start('query-service', env),
      AppProcess.start('outbox-relay', env),
    ]);
    apps.push(query, relay);
    const world = new World();
    await seed(command.url, world);

    const ports: Record<string, number> = {
      'command-service': command.port,
      'query-service': query.port,
    };
    const operations = [
      ...operationsOf('command-service', await docOf(command.url)),
      ...operationsOf('query-service', await docOf(query.url)),
    ];
    log(`fuzz: ${operations.length} routes; seed ${opts.seed}`);
    const byStatus: Record<string, number> = {};
    const validByStatus: Record<string, number> = {};
    let sent = 0;
    const fuzzStart = Date.now();
    const property = fc.asyncProperty(
      // Half valid, half hostile; the hostile arm over every route alike.
      fc.oneof(
        fc.oneof(
          ...operations
            .filter((op) => validWeight(op) > 0)
            .map((op) => ({
              weight: validWeight(op),
              arbitrary: validRequestFor(op, ADMIN_TOKEN),
            })),
        ),
        fc.oneof(...operations.map((op) => hostileRequestFor(op, ADMIN_TOKEN))),
      ),
      async (generated) => {
        sent++;
        const req = world.resolve(generated);
        let res: RawResponse;
        try {
          res = await sendRaw(ports[req.app]!, req, opts.requestTimeoutMs ?? 10_000);
        } catch (err) {
          await new Promise((r) => setTimeout(r, 200)); // let a dying process be noticed
          const crashed = apps.flatMap((a) => a.crashes);
          throw new Error(
            `${req.app}: ${(err as Error).message}${crashed.length ? `\ncrash: ${crashed.join('\n')}` : ''}` +
              `\n${req.app} alive: ${apps.find((a) => a.name === req.app)?.alive}; its last output:\n` +
              (apps
                .find((a) => a.name === req.app)
                ?.output()
                .slice(-3000) ?? ''),
          );
        }
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        if (req.arm === 'valid') validByStatus[res.status] = (validByStatus[res.status] ?? 0) + 1;
        world.observe(req, res);
        const wrong = verdict(req, res);
        if (wrong) {
          throw new Error(
            `${req.app} ${req.route}: ${wrong}; answered ${res.body.toString('utf8').slice(0, 300)}` +
              `\nrequest as sent: ${show(req)}`,
          );
        }
        const crashed = apps.flatMap((a) => a.crashes);
        if (crashed.length > 0) throw new Error(`crash: ${crashed.join('\n')}`);
        if (sent % 500 === 0) log(`fuzz: ${sent} requests, ${JSON.stringify(byStatus)}`);
      },
    );
    const details = await fc.check(property, {
      seed: opts.seed,
      numRuns: opts.runs,
      interruptAfterTimeLimit: opts.timeLimitMs,
      markInterruptAsFailure: false,
      // Shrinking re-sends smaller variants of the failing request; bound it.
      endOnFailure: false,
      maxSkipsPerRun: 0,
    });
    const seconds = (Date.now() - fuzzStart) / 1000;
    const failure = details.failed
      ? `${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}\n` +
        `request: ${details.counterexample ? show(details.counterexample[0]) : '?'}\n` +
        `replay: FUZZ_SEED=${opts.seed} FUZZ_RUNS=${opts.runs} npm run fuzz (path ${details.counterexamplePath ?? '?'})`
      : undefined;
    const valid = Object.values(validByStatus).reduce((a, b) => a + b, 0);
    const validOk = Object.entries(validByStatus)
      .filter(([s]) => s.startsWith('2'))
      .reduce((a, [, n]) => a + n, 0);
    const summary =
      `fuzz: ${failure ? 'FAILED' : 'ok'} - ${sent} requests over ${operations.length} routes in ` +
      `${seconds.toFixed(1)} s (seed ${opts.seed}); statuses ${histogram(byStatus)}; ` +
      `valid arm ${histogram(validByStatus)}, 2xx ${validOk}/${valid} ` +
      `(${valid ? Math.round((100 * validOk) / valid) : 0}%); streams created ${JSON.stringify(world.sizes)}; ` +
      `setup ${((fuzzStart - started) / 1000).toFixed(1)} s`;
    return {
      seed: opts.seed,
      requests: sent,
      seconds,
      byStatus,
      validByStatus,
      routes: operations.length,
      summary,
      ...(failure ? { failure } : {}),
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await Promise.all([db.drop(), vhost.drop(), es.drop()]);
  }
}

async function docOf(url: string) {
  const res = await fetch(`${url}/docs/json`);
  if (res.status !== 200) throw new Error(`${url}/docs/json answered ${res.status}`);
  return (await res.json()) as Parameters<typeof operationsOf>[1];
}

const histogram = (byStatus: Record<string, number>) =>
  Object.entries(byStatus)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');

/**
 * A customer, a room and a reservation under the ids the hostile generators favour, known to
 * the world from the start.
 */
async function seed(commandUrl: string, world: World): Promise<void> {
  const send = async (path: string, type: string, data: unknown) => {
    const res = await fetch(`${commandUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, data }),
    });
    if (res.status >= 300) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
    world.record((await res.json()) as Record<string, unknown>);
  };
  await send('/commands/customer/c-1', 'RegisterCustomer', { name: 'Ada', email: 'ada@x.io' });
  await send('/commands/room/r-1', 'RegisterRoom', {
    hotel: 'Grand',
    city: 'Paris',
    number: '101',
    roomType: 'double',
    capacity: 2,
    ratePerNight: 10_000,
  });
  await send('/commands/reservation/res-1', 'PlaceReservation', {
    customerId: 'c-1',
    roomId: 'r-1',
    checkIn: '2027-01-01',
    checkOut: '2027-01-03',
    guests: 1,
  });
}
