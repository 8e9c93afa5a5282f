import { readFileSync } from 'node:fs';

/**
 * `npx tsx tools/bench/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile
 * spends its time, by self time per function and per owner (our package, npm package, node
 * internals). Used for docs/performance.md.
 */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function owner(url: string): string {
  if (!url) return '(native / gc / idle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  const ours = /\/(packages|apps|tools)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

function main(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const own = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|packages|apps|tools)\//, '$1/')}:${f.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    own.set(owner(f.url), (own.get(owner(f.url)) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  print('self time by owner', own);
  print('self time by function', fn);
}

main(process.argv[2] ?? '', Number(process.argv[3] ?? 25));
