import type { FieldProblem } from '@cqrs/core';

/** With the `u` flag a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/**
 * The first value in a parsed request part that no store downstream can hold, or undefined:
 * a string (value or key) that is not well-formed Unicode - a lone surrogate, which MariaDB's
 * JSON refuses - or a number that is not finite (`1e400` in JSON, `Infinity` coerced from a
 * query string), which JSON serialises as null. Iterative: a body nested thousands deep must
 * not overflow the stack here.
 */
export function firstIllFormedValue(value: unknown, root: string): FieldProblem | undefined {
  const stack: Array<readonly [unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return { path, message: NOT_UNICODE };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path, message: 'must be a finite number' };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) {
          return { path: `${path}/${k.replace(LONE_SURROGATES, '\uFFFD')}`, message: NOT_UNICODE };
        }
        stack.push([item, `${path}/${k}`]);
      }
    }
  }
  return undefined;
}

const NOT_UNICODE = 'is not well-formed Unicode (it holds a lone surrogate)';
