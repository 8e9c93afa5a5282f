/** Calls the console's JSON API with the operator's token (a header, never a cookie). */
const TOKEN = 'cqrs-console.token';
const OPERATOR = 'cqrs-console.operator';

export interface Credentials {
  readonly token: string;
  readonly operator: string;
}

export function savedCredentials(): Credentials | null {
  const token = sessionStorage.getItem(TOKEN);
  const operator = sessionStorage.getItem(OPERATOR);
  return token && operator ? { token, operator } : null;
}

export function saveCredentials(c: Credentials | null): void {
  if (c) {
    sessionStorage.setItem(TOKEN, c.token);
    sessionStorage.setItem(OPERATOR, c.operator);
  } else {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(OPERATOR);
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
  const c = savedCredentials();
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${c?.token ?? ''}`,
      'x-operator': c?.operator ?? '',
    },
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const detail = (body as { detail?: string; title?: string } | null)?.detail;
    throw new ApiError(res.status, detail ?? `HTTP ${res.status}`);
  }
  return body as T;
}
