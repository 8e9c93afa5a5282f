#!/usr/bin/env node
// `npm start`: the whole system in the foreground. Installs dependencies when missing, brings
// the stack up, migrates, runs command-service, outbox-relay, query-service and the operator
// console, waits for their /health, prints the URLs. Ctrl-C (or SIGTERM) stops everything it started and nothing else.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const stateFile = join(root, '.stack', 'state.json');
const env = { ...process.env };
const ports = {
  'command-service': Number(env.COMMAND_PORT ?? 3000),
  'query-service': Number(env.QUERY_PORT ?? 3001),
  'outbox-relay': Number(env.RELAY_PORT ?? 3002),
  console: Number(env.CONSOLE_PORT ?? 3003),
};
const say = (m) => console.log(`[start] ${m}`);

function runOrExit(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[start] ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

const ourServices = () =>
  existsSync(stateFile) ? Object.keys(JSON.parse(readFileSync(stateFile, 'utf8'))) : [];

// 1. Dependencies.
if (!existsSync(tsx)) {
  // `npm ci`: exactly the lockfile, which it never rewrites - a fresh clone stays clean.
  say('installing dependencies (npm ci)');
  runOrExit('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
}

// 2. Stack: remember what was ours before, so that we stop only what this run starts.
const before = new Set(ourServices());
runOrExit(tsx, ['tools/stack/cli.ts', 'up'], 'stack up');
const startedHere = ourServices().filter((s) => !before.has(s));

// 3. Schema.
runOrExit(tsx, ['tools/db/migrate.ts'], 'migrate');

// 4. Apps.
const children = new Map();
let stopping = false;
for (const [app, port] of Object.entries(ports)) {
  const child = spawn(tsx, [`apps/${app}/src/main.ts`], {
    cwd: root,
    env: {
      ...env,
      COMMAND_PORT: String(ports['command-service']),
      QUERY_PORT: String(ports['query-service']),
      RELAY_PORT: String(ports['outbox-relay']),
      CONSOLE_PORT: String(ports.console),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const tail = [];
  const onLine = (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (env.START_QUIET !== '1') process.stdout.write(`[${app}] ${line}\n`);
    }
  };
  child.stdout.on('data', onLine);
  child.stderr.on('data', onLine);
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (stopping) return;
    console.error(
      `[start] ${app} exited unexpectedly (${code ?? signal}); its last lines:\n${tail.join('\n')}`,
    );
    void stop(1);
  });
  children.set(app, { child, port });
}

async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  const exits = [...children.values()].map(
    ({ child }) =>
      new Promise((r) => {
        child.once('exit', r);
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          r();
        }
      }),
  );
  const timer = setTimeout(() => {
    for (const { child } of children.values()) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }, 15_000);
  await Promise.all(exits);
  clearTimeout(timer);
  if (startedHere.length > 0) {
    spawnSync(tsx, ['tools/stack/cli.ts', 'down', ...startedHere], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
  }
  say('stopped');
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// If whoever started us dies without passing the signal on, do not leave orphans behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500).unref();

// 5. Wait until every app is healthy, then print where things are.
const deadline = Date.now() + 120_000;
for (const [app, port] of Object.entries(ports)) {
  for (;;) {
    if (stopping) break;
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      console.error(`[start] ${app} did not become healthy on port ${port} within 120 s`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
if (!stopping) {
  const mgmt = new URL(env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  console.log(`
  The system is up (Ctrl-C stops it):
    command API      http://127.0.0.1:${ports['command-service']}        docs: http://127.0.0.1:${ports['command-service']}/docs
    query API        http://127.0.0.1:${ports['query-service']}        docs: http://127.0.0.1:${ports['query-service']}/docs
    outbox relay     http://127.0.0.1:${ports['outbox-relay']}/health
    console          http://127.0.0.1:${ports.console}/        (operator console: sign in with ADMIN_TOKEN)
    RabbitMQ         http://${mgmt.hostname}:15672 (management UI)
    Elasticsearch    ${env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200'}
  Try: curl -X POST http://127.0.0.1:${ports['command-service']}/commands/customer/c-1 -H 'content-type: application/json' \\
         -d '{"type":"RegisterCustomer","data":{"name":"Ada Lovelace","email":"ada@example.com"}}'
`);
  // Say what is open, so nobody serves an unauthenticated API by accident.
  const host = env.HOST ?? '127.0.0.1';
  console.log(
    [
      host === '127.0.0.1' || host === 'localhost' || host === '::1'
        ? `  Listening on ${host} only (set HOST=0.0.0.0 to serve other machines).`
        : `  Listening on ${host}: other machines can reach these ports.`,
      env.API_TOKEN
        ? '  Commands require the API_TOKEN bearer token.'
        : '  API_TOKEN is unset: anyone who reaches the command API can send commands.',
      env.ADMIN_TOKEN
        ? '  /admin/* and the console require the ADMIN_TOKEN bearer token.'
        : '  ADMIN_TOKEN is unset: the /admin/* endpoints and the console answer 403.',
    ].join('\n'),
  );
}
