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
  // One copy, made at the first field that changes (most events that change nothing, e.g. a
  // redelivery, allocate nothing). Assigning keys the copy has keeps their order.
  let next: Record<string, unknown> | undefined;
  let fieldVersions: Record<string, number> | undefined;
  const known = doc.fieldVersions;
  for (const field in fields) {
    if ((known[field] ?? 0) >= version) continue;
    next ??= { ...(doc as object) };
    fieldVersions ??= { ...known };
    next[field] = (fields as Record<string, unknown>)[field];
    fieldVersions[field] = version;
  }
  if (!next) return undefined;
  next.fieldVersions = fieldVersions;
  next.version = Math.max(doc.version, version);
  return next as T;
}

/** Merges two views of the same stream field by field, newer version winning. */
export function mergeNewer<T extends Versioned>(a: T, b: T): T {
  const next: Record<string, unknown> = { ...(a as object) };
  const fieldVersions: Record<string, number> = { ...a.fieldVersions };
  const theirs = b.fieldVersions;
  for (const field in theirs) {
    const v = theirs[field]!;
    if ((fieldVersions[field] ?? 0) >= v) continue;
    next[field] = (b as Record<string, unknown>)[field];
    fieldVersions[field] = v;
  }
  next.fieldVersions = fieldVersions;
  next.version = Math.max(a.version, b.version);
  return next as T;
}
