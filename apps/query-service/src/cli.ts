/**
 * Operator CLI for a running query service (its admin API, behind ADMIN_TOKEN):
 *
 *   tsx apps/query-service/src/cli.ts projections
 *   tsx apps/query-service/src/cli.ts rebuild <name>        progress bar until the alias is swapped
 *   tsx apps/query-service/src/cli.ts dead-letters [limit]
 *   tsx apps/query-service/src/cli.ts replay [limit]
 *
 * QUERY_URL (default http://127.0.0.1:$QUERY_PORT or :3001) and ADMIN_TOKEN from the environment.
 */
interface Progress {
  state: string;
  index: string;
  processed: number;
  fraction: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
  refused: number;
  error: string | null;
}

const out = (s: string) => process.stdout.write(s);
const base = process.env.QUERY_URL ?? `http://127.0.0.1:${process.env.QUERY_PORT ?? '3001'}`;
const headers = { authorization: `Bearer ${process.env.ADMIN_TOKEN ?? ''}` };

async function call<T>(method: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { method, headers });
  const body = (await res.json()) as T & { detail?: string };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${body.detail ?? ''}`);
  return body;
}

export function progressBar(p: Progress, width = 30): string {
  const filled = Math.round(p.fraction * width);
  const eta = p.etaSeconds === null ? '?' : `${p.etaSeconds}s`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(p.fraction * 100).toFixed(1).padStart(5)}%  ${p.processed} events  ${p.eventsPerSecond}/s  ETA ${eta}  ${p.state}`;
}

async function rebuild(name: string): Promise<void> {
  await call('POST', `/admin/projections/${encodeURIComponent(name)}/rebuild`);
  for (;;) {
    const { projections } = await call<{
      projections: { name: string; rebuild: Progress | null }[];
    }>('GET', '/admin/projections');
    const p = projections.find((x) => x.name === name)?.rebuild;
    if (p) out(`\r${progressBar(p)}   `);
    if (p?.state === 'done') {
      out(
        `\nrebuilt ${name} into ${p.index}${p.refused ? ` (${p.refused} events refused, see logs)` : ''}\n`,
      );
      return;
    }
    if (p?.state === 'failed') throw new Error(`rebuild failed: ${p.error}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, arg] = argv;
  switch (command) {
    case 'projections':
      out(`${JSON.stringify(await call('GET', '/admin/projections'), null, 2)}\n`);
      return;
    case 'rebuild':
      if (!arg) throw new Error('usage: rebuild <name>');
      return rebuild(arg);
    case 'dead-letters':
      out(
        `${JSON.stringify(await call('GET', `/admin/dead-letters?limit=${arg ?? 100}`), null, 2)}\n`,
      );
      return;
    case 'replay':
      out(
        `${JSON.stringify(await call('POST', `/admin/dead-letters/replay?limit=${arg ?? 100}`))}\n`,
      );
      return;
    default:
      out('usage: cli.ts projections | rebuild <name> | dead-letters [limit] | replay [limit]\n');
      process.exitCode = command ? 2 : 0;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
