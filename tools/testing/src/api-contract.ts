import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `docs/api.md`: the public interface, the page the OpenAPI documents must agree with. */
export const API_DOC = join(__dirname, '../../../docs/api.md');

/** One row of a route table in docs/api.md: `METHOD /path` and the status codes it answers. */
export interface ContractRoute {
  readonly route: string;
  readonly statuses: readonly number[];
  /** Marked *(being built: issue N)*: an open issue adds it; the app may not serve it yet. */
  readonly beingBuilt: boolean;
}

/** The part of an OpenAPI 3 document this check reads: paths -> method -> responses. */
export interface OpenApiDocument {
  readonly paths?: Readonly<Record<string, object | undefined>>;
}

interface Operation {
  readonly responses?: Readonly<Record<string, { readonly description?: string }>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const ROW = /^\|\s*`([A-Z]+ \/[^`]*)`([^|]*)\|\s*([\d,\s]+)\|\s*$/;

/** The route table of one `## <section>` of docs/api.md (e.g. "Command service"). */
export function contractRoutes(
  section: string,
  text = readFileSync(API_DOC, 'utf8'),
): ContractRoute[] {
  const start = text.indexOf(`\n## ${section}`);
  if (start < 0) throw new Error(`docs/api.md has no section "## ${section}"`);
  const end = text.indexOf('\n## ', start + 1);
  const body = text.slice(start, end < 0 ? undefined : end);
  return body.split('\n').flatMap((line) => {
    const m = ROW.exec(line);
    if (!m) return [];
    return [
      {
        route: m[1]!,
        statuses: m[3]!.split(',').map((s) => Number(s.trim())),
        beingBuilt: /being built/.test(m[2]!),
      },
    ];
  });
}

/**
 * What stands in one and not the other: routes, and status codes of routes whose OpenAPI
 * operation declares its responses (an operation without any gets Fastify swagger's default
 * "200 Default Response", which says nothing). Routes hidden from the document (`/metrics`,
 * `/docs`) are not part of the comparison. Empty when they agree.
 */
export function contractDifferences(
  doc: OpenApiDocument,
  contract: readonly ContractRoute[],
): string[] {
  const served = new Map<string, number[] | undefined>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries((ops ?? {}) as Record<string, Operation>)) {
      if (!METHODS.includes(method)) continue;
      const responses = op.responses ?? {};
      const declared = !Object.values(responses).every((r) => r.description === 'Default Response');
      served.set(
        `${method.toUpperCase()} ${path}`,
        declared ? Object.keys(responses).map(Number) : undefined,
      );
    }
  }
  const documented = new Map(contract.map((r) => [r.route, r]));
  const differences: string[] = [];
  for (const route of served.keys()) {
    if (!documented.has(route)) differences.push(`${route} is served but not in docs/api.md`);
  }
  for (const { route, statuses, beingBuilt } of contract) {
    if (!served.has(route)) {
      if (!beingBuilt) differences.push(`${route} is in docs/api.md but not served`);
      continue;
    }
    const actual = served.get(route);
    if (actual === undefined) continue;
    const want = [...statuses].sort((a, b) => a - b).join(', ');
    const have = [...actual].sort((a, b) => a - b).join(', ');
    if (want !== have) {
      differences.push(`${route}: docs/api.md lists ${want}, the OpenAPI document ${have}`);
    }
  }
  return differences;
}
