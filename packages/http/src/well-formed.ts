import type { FieldProblem } from '@cqrs/core';

/** With the `u` flag a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/** A value still to look at; its path is spelled out only for the one that fails. */
interface Pending {
  readonly value: unknown;
  readonly key: string;
  readonly parent: Pending | undefined;
}

/**
 * The first value in a parsed request part that no store downstream can hold, or undefined:
 * a string (value or key) that is not well-formed Unicode - a lone surrogate, which MariaDB's
 * JSON refuses - or a number that is not finite (`1e400` in JSON, `Infinity` coerced from a
 * query string), which JSON serialises as null. Iterative: a body nested thousands deep must
 * not overflow the stack here. Runs on every request: no path strings until one is needed.
 */
export function firstIllFormedValue(value: unknown, root: string): FieldProblem | undefined {
  const stack: Pending[] = [{ value, key: root, parent: undefined }];
  while (stack.length > 0) {
    const at = stack.pop()!;
    const v = at.value;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return { path: pathOf(at), message: NOT_UNICODE };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path: pathOf(at), message: 'must be a finite number' };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: v[i], key: String(i), parent: at });
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        if (LONE_SURROGATE.test(k)) {
          return {
            path: `${pathOf(at)}/${k.replace(LONE_SURROGATES, '\uFFFD')}`,
            message: NOT_UNICODE,
          };
        }
        stack.push({ value: (v as Record<string, unknown>)[k], key: k, parent: at });
      }
    }
  }
  return undefined;
}

function pathOf(at: Pending): string {
  const keys: string[] = [];
  for (let p: Pending | undefined = at; p; p = p.parent) keys.push(p.key);
  return keys.reverse().join('/');
}

const NOT_UNICODE = 'is not well-formed Unicode (it holds a lone surrogate)';
