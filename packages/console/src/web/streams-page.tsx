import { useEffect, useRef, useState } from 'preact/hooks';
import type { StreamView } from '../streams';
import { json, time } from './format';
import { usePolling } from './hooks';

declare global {
  interface Window {
    mermaid: {
      initialize(config: Record<string, unknown>): void;
      render(id: string, definition: string): Promise<{ svg: string }>;
    };
  }
}

let charts = 0;

/** Mermaid draws the statechart the server generated from the machine (no user text in it). */
function Statechart({ definition }: { definition: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let cancelled = false;
    window.mermaid
      .render(`statechart-${++charts}`, definition)
      .then(({ svg }) => {
        if (!cancelled && ref.current) ref.current.innerHTML = svg;
      })
      .catch((err: Error) => setError(err.message));
    return () => {
      cancelled = true;
    };
  }, [definition]);
  return (
    <div>
      <div class="statechart" ref={ref} data-testid="statechart" />
      {error ? <p class="error">{error}</p> : null}
    </div>
  );
}

function stateLabel(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function StreamsPage({
  type,
  id,
  go,
}: {
  type: string;
  id: string;
  go: (type: string, id: string) => void;
}) {
  const types = usePolling<{ types: string[] }>('/api/aggregate-types', 0);
  const [formType, setFormType] = useState(type || 'reservation');
  const [formId, setFormId] = useState(id);
  useEffect(() => {
    if (type) setFormType(type);
    setFormId(id);
  }, [type, id]);
  const path =
    type && id ? `/api/streams/${encodeURIComponent(type)}/${encodeURIComponent(id)}` : null;
  const stream = usePolling<StreamView>(path, 0);
  return (
    <section>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          go(formType, formId.trim());
        }}
      >
        <select
          value={formType}
          onChange={(e) => setFormType((e.target as HTMLSelectElement).value)}
          name="type"
        >
          {(types.data?.types ?? [formType]).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <input
          name="id"
          placeholder="aggregate id"
          value={formId}
          onInput={(e) => setFormId((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Open</button>
      </form>
      {!path ? <p class="muted">Look up an aggregate by type and id.</p> : null}
      {path && stream.error ? <p class="error">{stream.error}</p> : null}
      {path && stream.data && !stream.error ? (
        <div>
          <h2>
            {stream.data.aggregateType} <code>{stream.data.aggregateId}</code> - version{' '}
            {stream.data.version}, state{' '}
            <span class="badge badge-state" data-testid="current-state">
              {stateLabel(stream.data.state)}
            </span>
          </h2>
          <div class="stream">
            <Statechart definition={stream.data.statechart} />
            <div>
              <h3>Current state (context)</h3>
              <pre data-testid="context">{json(stream.data.context)}</pre>
            </div>
          </div>
          <h3>Events</h3>
          <table data-testid="events">
            <thead>
              <tr>
                <th>v</th>
                <th>event</th>
                <th>data</th>
                <th>metadata</th>
              </tr>
            </thead>
            <tbody>
              {stream.data.events.map((e) => (
                <tr key={e.eventId}>
                  <td>{e.version}</td>
                  <td>
                    <strong>{e.type}</strong>
                    <br />
                    <span class="muted">{time(e.occurredAt)}</span>
                    <br />
                    <span class="muted">position {e.position}</span>
                    <br />
                    <span class="muted">trace {e.traceId ?? '-'}</span>
                  </td>
                  <td>
                    <pre class="data">{json(e.data)}</pre>
                  </td>
                  <td>
                    <pre>{json(e.metadata)}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
