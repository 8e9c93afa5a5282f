import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function runScript(args: string[], env: Record<string, string>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; output: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(tsx, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

describe('misconfiguration fails fast with a clear message', () => {
  it('stack up names an unreachable MYSQL_URL and the fix', async () => {
    const url = 'mysql://root@127.0.0.1:1/cqrs';
    const r = await runScript(['tools/stack/cli.ts', 'up'], { MYSQL_URL: url });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(60_000);
    expect(r.output).toContain(`Cannot reach the MySQL-compatible database at ${url}`);
    expect(r.output).toContain('Fix: ');
  });

  it.each(['command-service', 'outbox-relay', 'query-service'])(
    '%s lists every bad variable and exits 1',
    async (app) => {
      const r = await runScript([`apps/${app}/src/main.ts`], {
        MYSQL_URL: 'not a url',
        AMQP_URL: 'http://wrong-scheme',
        ELASTICSEARCH_URL: 'nope',
        LOG_LEVEL: 'loud',
      });
      expect(r.code).toBe(1);
      expect(r.output).toContain('Invalid configuration');
      expect(r.output).toContain('LOG_LEVEL');
    },
  );
});
