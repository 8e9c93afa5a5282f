import type { InstanceView, QueueView, Section, SystemOverview } from '../system';
import { seconds, time } from './format';
import { usePolling } from './hooks';

function Failed({ what, error }: { what: string; error: string }) {
  return (
    <p class="error">
      {what}: {error}
    </p>
  );
}

function Health({ instance }: { instance: InstanceView }) {
  const h = instance.health;
  const failing = Object.entries(h.checks).filter(([, c]) => c.status !== 'ok');
  return (
    <span>
      <span class={`badge badge-${h.status}`} data-testid="health">
        {h.status}
      </span>
      {failing.map(([name, c]) => (
        <span class="check" key={name}>
          {name}: {c.detail ?? c.status}
        </span>
      ))}
      {h.detail && h.status !== 'ok' ? <span class="check">{h.detail}</span> : null}
    </span>
  );
}

function Instances({ instances }: { instances: readonly InstanceView[] }) {
  if (instances.length === 0) return <p>No instance has registered yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>app</th>
          <th>role</th>
          <th>health</th>
          <th>url</th>
          <th>host / pid</th>
          <th>started</th>
          <th>last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        {instances.map((i) => (
          <tr key={i.id} data-app={i.app}>
            <td>{i.app}</td>
            <td>{i.role ?? '-'}</td>
            <td>
              <Health instance={i} />
            </td>
            <td>{i.url ?? '-'}</td>
            <td>
              {i.host} / {i.pid}
            </td>
            <td>{time(i.startedAt)}</td>
            <td>{seconds(i.lastSeenSecondsAgo)} ago</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Relay({ instances }: { instances: readonly InstanceView[] }) {
  const relays = instances.filter((i) => i.app === 'outbox-relay');
  const leader = relays.find((i) => i.role === 'leader');
  const standbys = relays.filter((i) => i !== leader);
  return (
    <div class="card" data-testid="relay">
      <h3>Outbox relay</h3>
      <p>
        leader:{' '}
        <strong>
          {leader ? `${leader.host} pid ${leader.pid}` : 'none - nothing is publishing'}
        </strong>
      </p>
      <p>
        standby:{' '}
        {standbys.length === 0 ? 'none' : standbys.map((s) => `${s.host} pid ${s.pid}`).join(', ')}
      </p>
    </div>
  );
}

function Queues({ queues }: { queues: readonly QueueView[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>queue</th>
          <th>type</th>
          <th>consumers</th>
          <th>lag (events)</th>
          <th>lag (time)</th>
          <th>ready / unacked</th>
          <th>acks/s</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => (
          <tr key={q.name} data-queue={q.name}>
            <td>{q.name}</td>
            <td>{q.type ?? '-'}</td>
            <td class={q.consumers === 0 && !q.name.endsWith('.dlq') ? 'warn' : ''}>
              {q.consumers}
            </td>
            <td>{q.messages}</td>
            <td>{seconds(q.lagSeconds)}</td>
            <td>
              {q.ready} / {q.unacknowledged}
            </td>
            <td>{q.ackRate === null ? '-' : q.ackRate.toFixed(1)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function value<T>(s: Section<T> | undefined): T | undefined {
  return s && s.ok ? s.value : undefined;
}

export function SystemPage() {
  const { data, error, at } = usePolling<SystemOverview>('/api/system', 2000);
  if (!data) return error ? <Failed what="system" error={error} /> : <p>Loading...</p>;
  const instances = value(data.instances) ?? [];
  const outbox = value(data.outbox);
  const projector = value(data.projector);
  const deadlines = value(data.deadlines);
  const queues = value(data.queues);
  const deadLetters = queues
    ?.filter((q) => q.name.endsWith('.dlq'))
    .reduce((n, q) => n + q.messages, 0);
  return (
    <section>
      <p class="muted">
        refreshed {at ? at.toLocaleTimeString() : '-'} (every 2 s)
        {error ? ` - last refresh failed: ${error}` : ''}
      </p>
      <div class="cards">
        <div class="card" data-testid="outbox">
          <h3>Outbox</h3>
          {outbox ? (
            <p>
              <strong>{outbox.backlog}</strong> unpublished, oldest{' '}
              {seconds(outbox.oldestAgeSeconds)} old
            </p>
          ) : (
            <p class="error">{!data.outbox.ok && data.outbox.error}</p>
          )}
        </div>
        <Relay instances={instances} />
        <div class="card">
          <h3>Projector</h3>
          {projector ? (
            <p>
              checkpoint <strong>{projector.checkpoint}</strong> at {time(projector.checkpointAt)}
            </p>
          ) : (
            <p class="error">{!data.projector.ok && data.projector.error}</p>
          )}
          <p>
            dead letters: <strong>{deadLetters ?? '-'}</strong> (<a href="#/dead-letters">open</a>)
          </p>
        </div>
        <div class="card" data-testid="deadlines">
          <h3>Deadlines</h3>
          {!data.deadlines.ok ? (
            <p class="error">{data.deadlines.error}</p>
          ) : deadlines ? (
            <p>
              {deadlines.scheduled} scheduled, <strong>{deadlines.due}</strong> due,{' '}
              <strong class={deadlines.overdue > 0 ? 'warn' : ''}>{deadlines.overdue}</strong>{' '}
              overdue (&gt; {deadlines.overdueAfterSeconds} s)
            </p>
          ) : (
            <p class="muted">no durable deadlines in this event store</p>
          )}
        </div>
      </div>
      <h2>Instances</h2>
      {data.instances.ok ? (
        <Instances instances={instances} />
      ) : (
        <Failed what="instances" error={data.instances.error} />
      )}
      <h2>Queues (consumer lag)</h2>
      {data.queues.ok ? (
        <Queues queues={data.queues.value} />
      ) : (
        <Failed what="queues" error={data.queues.error} />
      )}
    </section>
  );
}
