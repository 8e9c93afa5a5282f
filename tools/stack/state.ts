import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** What this checkout's `stack up` started, so that `down` stops exactly that. */
export interface StartedService {
  readonly service: ServiceName;
  readonly url: string;
  readonly pid?: number;
  readonly startedAt: string;
  readonly detail?: Record<string, string>;
}

export type ServiceName = 'mysql' | 'rabbitmq' | 'elasticsearch';

const repoRoot = resolve(__dirname, '..', '..');
export const stateFile = join(repoRoot, '.stack', 'state.json');

export function readState(): Partial<Record<ServiceName, StartedService>> {
  if (!existsSync(stateFile)) return {};
  return JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<
    Record<ServiceName, StartedService>
  >;
}

export function writeState(state: Partial<Record<ServiceName, StartedService>>): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
}
