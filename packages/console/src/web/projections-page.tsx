import { useState } from 'preact/hooks';
import { api } from './api';
import { seconds, time } from './format';
import { usePolling } from './hooks';

interface RebuildProgress {
  readonly state: 'replaying' | 'catching-up' | 'swapping' | 'done' | 'failed';
  readonly index: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly processed: number;
  readonly fraction: number;
  readonly eventsPerSecond: number;
  readonly etaSeconds: number | null;
  readonly refused: number;
  readonly error: string | null;
}

interface Projection {
  readonly name: string;
  readonly alias: string;
  readonly index: string | null;
  readonly checkpoint: string;
  readonly checkpointAt: string | null;
  readonly lag: { readonly messages: number | null; readonly deadLetters: number | null };
  readonly rebuild: RebuildProgress | null;
}

function Rebuild({ p, before }: { p: Projection; before: string | undefined }) {
  const r = p.rebuild;
  if (!r) return <span class="muted">never rebuilt since the service started</span>;
  const running = r.state !== 'done' && r.state !== 'failed';
  return (
    <div class="rebuild" data-testid={`rebuild-${p.name}`} data-state={r.state}>
      <progress max={1} value={r.fraction} />
      <span>
        {(r.fraction * 100).toFixed(0)}% - {r.processed} events, {Math.round(r.eventsPerSecond)}/s
        {running ? `, ETA ${r.etaSeconds === null ? '?' : seconds(r.etaSeconds)}` : ''} -{' '}
        <strong>{r.state}</strong>
      </span>
      {r.state === 'done' ? (
        <div class="swap" data-testid={`swap-${p.name}`}>
          alias <code>{p.alias}</code> swapped{' '}
          {before && before !== r.index ? (
            <>
              from <code>{before}</code>{' '}
            </>
          ) : null}
          to <code>{r.index}</code> at {time(r.finishedAt)}
          {r.refused > 0 ? ` (${r.refused} events refused, see the logs)` : ''}
        </div>
      ) : null}
      {r.error ? <div class="error">{r.error}</div> : null}
    </div>
  );
}

export function ProjectionsPage() {
  const { data, error, reload } = usePolling<{ projections: Projection[] }>(
    '/api/projections',
    1000,
  );
  const [before, setBefore] = useState<Record<string, string>>({});
  const [actionError, setActionError] = useState<string>();
  const rebuild = async (p: Projection) => {
    if (
      !window.confirm(
        `Rebuild ${p.name} from the event store into a new index, then swap ${p.alias}?`,
      )
    )
      return;
    try {
      setBefore((b) => ({ ...b, [p.name]: p.index ?? '' }));
      await api('POST', `/api/projections/${encodeURIComponent(p.name)}/rebuild`);
      setActionError(undefined);
      reload();
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  if (!data) return error ? <p class="error">{error}</p> : <p>Loading...</p>;
  return (
    <section>
      {error ? <p class="error">last refresh failed: {error}</p> : null}
      {actionError ? <p class="error">{actionError}</p> : null}
      <table>
        <thead>
          <tr>
            <th>projection</th>
            <th>alias / index</th>
            <th>checkpoint</th>
            <th>lag (events)</th>
            <th>dead letters</th>
            <th>rebuild</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.projections.map((p) => {
            const running =
              p.rebuild !== null && p.rebuild.state !== 'done' && p.rebuild.state !== 'failed';
            return (
              <tr key={p.name} data-projection={p.name}>
                <td>{p.name}</td>
                <td>
                  <code>{p.alias}</code>
                  <br />
                  <code data-testid={`index-${p.name}`}>{p.index ?? '-'}</code>
                </td>
                <td>
                  {p.checkpoint}
                  <br />
                  <span class="muted">{time(p.checkpointAt)}</span>
                </td>
                <td>{p.lag.messages ?? '-'}</td>
                <td>{p.lag.deadLetters ?? '-'}</td>
                <td class="wide">
                  <Rebuild p={p} before={before[p.name]} />
                </td>
                <td>
                  <button
                    disabled={running}
                    onClick={() => void rebuild(p)}
                    data-testid={`rebuild-button-${p.name}`}
                  >
                    Rebuild
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
