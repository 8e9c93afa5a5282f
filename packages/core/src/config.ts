import { ConfigError } from './errors';

/**
 * Reads environment variables through small typed parsers and reports every problem at
 * once, so a misconfigured process says all that is wrong in one message.
 */
export interface EnvVar<T> {
  readonly name: string;
  readonly default?: T;
  readonly parse: (raw: string, name: string) => T;
  readonly optional?: boolean;
}

type Spec = Record<string, EnvVar<unknown>>;
export type ConfigOf<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends EnvVar<infer T>
    ? S[K]['optional'] extends true
      ? T | undefined
      : T
    : never;
};

export function readConfig<S extends Spec>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec)) {
    const raw = env[v.name];
    if (raw === undefined || raw === '') {
      if (v.default !== undefined) out[key] = v.default;
      else if (v.optional) out[key] = undefined;
      else problems.push(`${v.name} is required`);
      continue;
    }
    try {
      out[key] = v.parse(raw, v.name);
    } catch (err) {
      problems.push(`${v.name}=${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

export const str = (name: string, def?: string): EnvVar<string> => ({
  name,
  ...(def !== undefined ? { default: def } : {}),
  parse: (raw) => raw,
});

export const optionalStr = (name: string): EnvVar<string> & { optional: true } => ({
  name,
  optional: true,
  parse: (raw) => raw,
});

export const int = (
  name: string,
  def: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): EnvVar<number> => ({
  name,
  default: def,
  parse: (raw) => {
    if (!/^\d+$/.test(raw)) throw new Error('must be a whole number');
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
    return n;
  },
});

export const port = (name: string, def: number): EnvVar<number> => int(name, def, 0, 65535);

export const url = (name: string, def: string, protocols: readonly string[]): EnvVar<string> => ({
  name,
  default: def,
  parse: (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`is not a URL (expected e.g. ${def})`);
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(
        `must use ${protocols.map((p) => `${p}://`).join(' or ')} (got ${u.protocol}//)`,
      );
    }
    return raw;
  },
});

export const oneOf = <T extends string>(name: string, def: T, values: readonly T[]): EnvVar<T> => ({
  name,
  default: def,
  parse: (raw) => {
    if (!(values as readonly string[]).includes(raw))
      throw new Error(`must be one of ${values.join(', ')}`);
    return raw as T;
  },
});

export const indexPrefix = (name: string, def: string): EnvVar<string> => ({
  name,
  default: def,
  parse: (raw) => {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(raw)) {
      throw new Error(
        'must be 1-64 lowercase letters, digits, "_" or "-", starting with a letter or digit',
      );
    }
    return raw;
  },
});

/** The variables of docs/api.md shared by every app, with their documented defaults. */
export const commonEnv = {
  mysqlUrl: url('MYSQL_URL', 'mysql://root@127.0.0.1:3306/cqrs', ['mysql', 'mariadb']),
  amqpUrl: url('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp', 'amqps']),
  elasticsearchUrl: url('ELASTICSEARCH_URL', 'http://127.0.0.1:9200', ['http', 'https']),
  indexPrefix: indexPrefix('INDEX_PREFIX', 'cqrs'),
  eventsExchange: str('EVENTS_EXCHANGE', 'events'),
  /** Address the HTTP servers listen on: loopback unless deployed (the compose file and Dockerfile set 0.0.0.0). */
  host: str('HOST', '127.0.0.1'),
  logLevel: oneOf('LOG_LEVEL', 'info', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ]),
} as const;

/** Where a `mysql://user:pass@host:port/db` URL points (the one parser of such URLs). */
export interface MysqlUrlParts {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Empty when the URL names no database. */
  readonly database: string;
}

/** Splits a MySQL URL into mysql2's connection fields: user `root` and port 3306 by default. */
export function parseMysqlUrl(url: string): MysqlUrlParts {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}
