/**
 * Last-writer-wins per field, the stream version as the clock: every field remembers the
 * version that last set it, and an event only overwrites fields it is newer for. Applying
 * a stream's events in any order, any number of times, ends in the same document, so a
 * redelivered or stale event never moves a document backwards.
 */
export interface Versioned {
  /** Highest stream version applied. */
  readonly version: number;
  /** Field name -> the stream version that last set it. */
  readonly fieldVersions: Readonly<Record<string, number>>;
}

type Fields<T> = Partial<Omit<T, keyof Versioned>>;

/** `doc` with the fields `version` is newer for; `undefined` when nothing changes. */
export function assignNewer<T extends Versioned>(
  doc: T,
  version: number,
  fields: Fields<T>,
): T | undefined {
  const next: Record<string, unknown> = { ...(doc as object) };
  const fieldVersions: Record<string, number> = { ...doc.fieldVersions };
  let changed = false;
  for (const [field, value] of Object.entries(fields)) {
    if ((fieldVersions[field] ?? 0) >= version) continue;
    next[field] = value;
    fieldVersions[field] = version;
    changed = true;
  }
  if (!changed) return undefined;
  return { ...next, fieldVersions, version: Math.max(doc.version, version) } as T;
}

/** Merges two views of the same stream field by field, newer version winning. */
export function mergeNewer<T extends Versioned>(a: T, b: T): T {
  const next: Record<string, unknown> = { ...(a as object) };
  const fieldVersions: Record<string, number> = { ...a.fieldVersions };
  for (const [field, v] of Object.entries(b.fieldVersions)) {
    if ((fieldVersions[field] ?? 0) >= v) continue;
    next[field] = (b as Record<string, unknown>)[field];
    fieldVersions[field] = v;
  }
  return { ...next, fieldVersions, version: Math.max(a.version, b.version) } as T;
}
