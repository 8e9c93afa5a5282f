import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from './api';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly at: Date | undefined;
  readonly reload: () => void;
}

/** GETs `path` now and every `everyMs` (0: only on reload); the last good answer stays shown. */
export function usePolling<T>(path: string | null, everyMs: number): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [at, setAt] = useState<Date>();
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const value = await api<T>('GET', path);
        if (cancelled) return;
        setData(value);
        setError(undefined);
        setAt(new Date());
      } catch (err) {
        if (!cancelled) setError((err as Error).message);
      }
      if (!cancelled && everyMs > 0) timer = setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [path, everyMs, tick]);
  return { data, error, at, reload };
}
