import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { ProgressLine } from './progress';
import type { StartedService } from './state';
import { isLoopback, isProcessAlive, redact, run, sleep, waitFor, which } from './util';

/**
 * Elasticsearch for development and tests: the real server from Maven Central's
 * `integ-test-zip` distribution, cached outside git, run single-node as a non-root user.
 * See docs/local-stack.md.
 */
export const ES_VERSION = process.env.ES_VERSION ?? '8.19.21';
const ES_USER = process.env.ES_USER ?? 'cqrs-es';
const ES_HEAP = process.env.ES_HEAP ?? '512m';

export function cacheDir(): string {
  if (process.env.CQRS_CACHE_DIR) return process.env.CQRS_CACHE_DIR;
  // As root, ~/.cache is /root/.cache, which the non-root ES user cannot read.
  if (process.getuid?.() === 0) return '/var/cache/cqrs-platform';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cqrs-platform');
}

const isRoot = () => process.getuid?.() === 0;

async function health(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const res = await fetch(new URL('/_cluster/health', url), {
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { status?: string };
  return body.status;
}

/** Downloads the distribution with Maven (showing progress) unless it is already cached. */
async function ensureDistribution(log: (m: string) => void): Promise<string> {
  const home = join(cacheDir(), `elasticsearch-${ES_VERSION}`);
  if (existsSync(join(home, 'bin', 'elasticsearch'))) return home;
  if (!which('mvn')) {
    throw new Error(
      'Elasticsearch is not running and Maven (mvn) is not installed to fetch it: install Maven, or set ELASTICSEARCH_URL to a running server.',
    );
  }
  const downloads = join(cacheDir(), 'downloads');
  mkdirSync(downloads, { recursive: true });
  const zip = join(downloads, `elasticsearch-${ES_VERSION}.zip`);
  if (!existsSync(zip)) {
    log(
      `elasticsearch: fetching org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION} from Maven Central`,
    );
    await mavenCopy(zip, downloads);
  }
  log(`elasticsearch: unpacking ${zip}`);
  const tmp = `${home}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await run('unzip', ['-q', zip, '-d', tmp]);
  const inner = readdirSync(tmp).find((d) => d.startsWith('elasticsearch'));
  if (!inner) throw new Error(`Unexpected layout in ${zip}`);
  renameSync(join(tmp, inner), home);
  rmSync(tmp, { recursive: true, force: true });
  return home;
}

/** `mvn dependency:copy`, turning Maven's transfer lines into our progress line. */
function mavenCopy(zip: string, downloads: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'mvn',
      [
        'dependency:copy',
        `-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`,
        `-DoutputDirectory=${downloads}`,
        '-Dmdep.overWriteReleases=true',
      ],
      { cwd: downloads, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const progress = new ProgressLine('elasticsearch download', undefined, ' MB', (n) =>
      n.toFixed(1),
    );
    let out = '';
    let done = 0;
    const onData = (d: Buffer) => {
      const text = d.toString();
      out = (out + text).slice(-4000);
      for (const m of text.matchAll(/(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?) (kB|MB)/g)) {
        const scale = m[3] === 'kB' ? 1 / 1000 : 1;
        // Each progress line names the file being fetched now: the small .pom comes before
        // the zip, so the total is the one of this line, never the first one seen.
        done = Number(m[1]) * scale;
        progress.setTotal(Number(m[2]) * scale);
        progress.update(done);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && existsSync(zip)) {
        progress.done(statSync(zip).size / 1e6);
        resolve();
      } else reject(new Error(`mvn dependency:copy failed (exit ${code}):\n${out}`));
    });
  });
}

function ensureUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  let r = spawnSync('id', ['-u', ES_USER], { encoding: 'utf8' });
  if (r.status !== 0) {
    const add = spawnSync(
      'useradd',
      ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_USER],
      { encoding: 'utf8' },
    );
    if (add.status !== 0) throw new Error(`useradd ${ES_USER} failed: ${add.stderr}`);
    r = spawnSync('id', ['-u', ES_USER], { encoding: 'utf8' });
  }
  const g = spawnSync('id', ['-g', ES_USER], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, path]);
}

function javaHome(): string {
  if (process.env.ES_JAVA_HOME) return process.env.ES_JAVA_HOME;
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  const java = which('java');
  if (!java)
    throw new Error(
      'No Java found: Elasticsearch 8 needs Java 17+ (install openjdk-17-jre-headless or set ES_JAVA_HOME).',
    );
  const real = spawnSync('readlink', ['-f', java], { encoding: 'utf8' }).stdout.trim();
  return dirname(dirname(real));
}

/** Writes the instance's config dir (a copy of the distribution's, plus our elasticsearch.yml). */
function writeInstanceConfig(home: string, instance: string, port: number): string {
  const conf = join(instance, 'config');
  if (!existsSync(conf)) cpSync(join(home, 'config'), conf, { recursive: true });
  mkdirSync(join(instance, 'data'), { recursive: true });
  mkdirSync(join(instance, 'logs'), { recursive: true });
  const yml = [
    'cluster.name: cqrs-local',
    'node.name: cqrs-local-1',
    'discovery.type: single-node',
    'network.host: 127.0.0.1',
    `http.port: ${port}`,
    `path.data: ${join(instance, 'data')}`,
    `path.logs: ${join(instance, 'logs')}`,
    'xpack.security.enabled: false',
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'action.auto_create_index: true',
    '',
  ].join('\n');
  writeFileSync(join(conf, 'elasticsearch.yml'), yml);
  writeFileSync(join(conf, 'jvm.options.d', 'heap.options'), `-Xms${ES_HEAP}\n-Xmx${ES_HEAP}\n`);
  return conf;
}

export async function elasticsearchUp(
  url: string,
  log: (m: string) => void,
): Promise<StartedService | undefined> {
  try {
    const status = await health(url);
    if (status) {
      log(`elasticsearch: using ${redact(url)} (cluster ${status})`);
      return undefined;
    }
  } catch {
    /* not running: start it below if we may */
  }
  const u = new URL(url);
  if (!isLoopback(u.hostname) || u.protocol !== 'http:') {
    throw new Error(
      `Cannot reach Elasticsearch at ${redact(url)}.\n  Fix: start it there, or unset ELASTICSEARCH_URL to let the stack run a local one.`,
    );
  }
  const port = Number(u.port || 9200);
  const home = await ensureDistribution(log);
  const instance = join(cacheDir(), 'instances', String(port));
  mkdirSync(instance, { recursive: true });
  const conf = writeInstanceConfig(home, instance, port);
  const ids = ensureUser();
  if (ids) {
    chownTree(home, ids);
    chownTree(instance, ids);
    // Every parent must be traversable by the ES user.
    spawnSync('chmod', ['o+x', cacheDir(), join(cacheDir(), 'instances')]);
  }
  const pidFile = join(instance, 'elasticsearch.pid');
  rmSync(pidFile, { force: true });
  const env = { ...process.env, ES_PATH_CONF: conf, ES_JAVA_HOME: javaHome(), ES_JAVA_OPTS: '' };
  const cmd = join(home, 'bin', 'elasticsearch');
  const args = ['-d', '-p', pidFile];
  log(
    `elasticsearch: starting ${ES_VERSION} on ${url} (heap ${ES_HEAP}${ids ? `, user ${ES_USER}` : ''})`,
  );
  const started = Date.now();
  if (ids) await run('runuser', ['-u', ES_USER, '--', cmd, ...args], { env });
  else await run(cmd, args, { env });
  const pid = await readPid(pidFile);
  await waitFor(
    `Elasticsearch at ${url} (log: ${join(instance, 'logs', 'cqrs-local.log')})`,
    120_000,
    async () => {
      if (pid && !isProcessAlive(pid))
        throw new Error(`Elasticsearch exited:\n${tailLog(instance)}`);
      const s = await health(url, 2000);
      return s === 'green' || s === 'yellow';
    },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${tailLog(instance)}`);
  });
  log(`elasticsearch: ready in ${((Date.now() - started) / 1000).toFixed(1)}s (pid ${pid})`);
  return {
    service: 'elasticsearch',
    url,
    pid,
    startedAt: new Date().toISOString(),
    detail: { home, instance },
  };
}

async function readPid(pidFile: string): Promise<number | undefined> {
  for (let i = 0; i < 50; i++) {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid) return pid;
    }
    await sleep(100);
  }
  return undefined;
}

function tailLog(instance: string): string {
  try {
    const lines = readFileSync(join(instance, 'logs', 'cqrs-local.log'), 'utf8').split('\n');
    return lines.slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function elasticsearchDown(
  s: StartedService,
  log: (m: string) => void,
): Promise<void> {
  if (!s.pid || !isProcessAlive(s.pid)) {
    log('elasticsearch: not running');
    return;
  }
  process.kill(s.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isProcessAlive(s.pid) && Date.now() < deadline) await sleep(200);
  if (isProcessAlive(s.pid)) process.kill(s.pid, 'SIGKILL');
  log(`elasticsearch: stopped (pid ${s.pid})`);
}

export async function elasticsearchStatus(url: string): Promise<string> {
  try {
    const s = await health(url);
    return s ? `up (cluster ${s})` : 'down';
  } catch (e) {
    return `down (${(e as Error).message})`;
  }
}
