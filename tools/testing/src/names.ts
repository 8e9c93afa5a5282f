import { randomBytes } from 'node:crypto';

/** A short unique name for test resources: `<prefix>_<label>_<random>`, lowercase. */
export function uniqueName(label: string, prefix = 't'): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 20);
  return `${prefix}_${clean}_${randomBytes(4).toString('hex')}`;
}
