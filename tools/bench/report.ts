import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultRow } from './harness';

export interface BenchReport {
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly machine: Record<string, unknown>;
  readonly durability: Record<string, unknown>;
  readonly results: readonly ResultRow[];
}

const fmt = (v: number | null, digits = 1) =>
  v === null ? '-' : v >= 1000 ? String(Math.round(v)) : v.toFixed(digits);

/** The lowest and highest per-pair ratio: how far the rounds of one row disagree. */
function spread(ratios: readonly number[] | undefined): string {
  if (!ratios || ratios.length === 0) return '-';
  return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
}

/** The table printed at the end of a run (also pasted into docs/performance.md). */
export function formatTable(rows: readonly ResultRow[]): string {
  const header = [
    'id',
    'ours',
    'baseline',
    'unit',
    'ratio',
    'pairs min-max',
    'target',
    'met',
    'p50',
    'p95',
    'p99',
  ];
  const body = rows.map((r) => [
    r.id,
    fmt(r.ours),
    fmt(r.baseline),
    r.unit,
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    spread(r.ratioRounds),
    r.target,
    r.met === null ? 'n/a' : r.met ? 'yes' : 'NO',
    fmt(r.p50, 2),
    fmt(r.p95, 2),
    fmt(r.p99, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === 3 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
  for (const b of body) out.push(line(b));
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Writes `bench-results/latest.json` and a timestamped copy; returns both paths. */
export function writeReport(report: BenchReport, dir = 'bench-results'): string[] {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const paths = [join(dir, 'latest.json'), join(dir, `${stamp}-${report.mode}.json`)];
  for (const p of paths) writeFileSync(p, json);
  return paths;
}
