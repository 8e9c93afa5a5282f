import { DependencyUnavailableError } from '@cqrs/core';

export interface AdminAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
}

/**
 * The query service's `/admin/*` API, called with the platform's ADMIN_TOKEN. Answers come
 * back as they are (status and problem+json included), so the console shows the service's
 * own reasons; only an unreachable service becomes a 503.
 */
export class QueryAdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminToken: string | undefined,
  ) {}

  async call(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    operator?: string,
  ): Promise<AdminAnswer> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.adminToken ?? ''}`,
          ...(operator ? { 'x-operator': operator } : {}),
        },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new DependencyUnavailableError('query-service', (err as Error).message);
    }
    const contentType = res.headers.get('content-type') ?? 'application/json';
    const text = await res.text();
    return { status: res.status, contentType, body: text === '' ? null : JSON.parse(text) };
  }

  /** A successful answer's body, or a DependencyUnavailableError naming the status. */
  async get<T>(path: string): Promise<T> {
    const answer = await this.call('GET', path);
    if (answer.status !== 200) {
      throw new DependencyUnavailableError('query-service', `GET ${path}: HTTP ${answer.status}`);
    }
    return answer.body as T;
  }
}
