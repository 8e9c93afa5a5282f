import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api } from './api';
import { json, time } from './format';
import { usePolling } from './hooks';

interface DeadLetter {
  readonly messageId: string | null;
  readonly routingKey: string | null;
  readonly reason: string | null;
  readonly failedAt: string | null;
  readonly attempts: number | null;
  readonly body: unknown;
}

/**
 * Listed on opening and after each action, not polled: listing takes the messages from the
 * dead-letter queue and returns them, and a quorum queue counts every return as a delivery.
 */
export function DeadLettersPage() {
  const { data, error, reload } = usePolling<{ total: number; deadLetters: DeadLetter[] }>(
    '/api/dead-letters?limit=100',
    0,
  );
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string>();
  const act = async (question: string, method: 'POST' | 'DELETE', path: string, done: string) => {
    if (!window.confirm(question)) return;
    try {
      await api(method, path);
      setNotice(done);
    } catch (err) {
      setNotice(`failed: ${(err as Error).message}`);
    }
    reload();
  };
  if (!data) return error ? <p class="error">{error}</p> : <p>Loading...</p>;
  return (
    <section>
      <div class="toolbar">
        <span data-testid="dead-letter-total">
          {data.total} dead letter{data.total === 1 ? '' : 's'}
        </span>
        <button onClick={reload}>Refresh</button>
        <button
          disabled={data.total === 0}
          onClick={() =>
            void act(
              `Send all ${data.total} dead letters back to the projector? Fix their cause first: a poison event fails again.`,
              'POST',
              '/api/dead-letters/replay',
              'all dead letters sent back to the projector',
            )
          }
        >
          Replay all
        </button>
        {notice ? <span class="notice">{notice}</span> : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      {data.deadLetters.length === 0 ? (
        <p>No dead letters.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>event</th>
              <th>reason</th>
              <th>attempts</th>
              <th>failed at</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.deadLetters.map((d, i) => {
              const id = d.messageId;
              const key = id ?? `#${i}`;
              return (
                <Fragment key={key}>
                  <tr data-message-id={id ?? ''}>
                    <td>
                      <code>{d.routingKey ?? '-'}</code>
                      <br />
                      <span class="muted">{id ?? 'no message id'}</span>
                    </td>
                    <td class="reason">{d.reason ?? '-'}</td>
                    <td>{d.attempts ?? '-'}</td>
                    <td>{time(d.failedAt)}</td>
                    <td class="actions">
                      <button onClick={() => setOpen(open === key ? null : key)}>
                        {open === key ? 'Hide' : 'Show'}
                      </button>
                      <button
                        disabled={!id}
                        onClick={() =>
                          void act(
                            `Send ${id} back to the projector?`,
                            'POST',
                            `/api/dead-letters/${encodeURIComponent(id!)}/replay`,
                            `${id} sent back to the projector`,
                          )
                        }
                      >
                        Replay
                      </button>
                      <button
                        class="danger"
                        disabled={!id}
                        onClick={() =>
                          void act(
                            `Discard ${id} for good? The event stays in the event store; only this delivery is dropped.`,
                            'DELETE',
                            `/api/dead-letters/${encodeURIComponent(id!)}`,
                            `${id} discarded`,
                          )
                        }
                      >
                        Discard
                      </button>
                    </td>
                  </tr>
                  {open === key ? (
                    <tr>
                      <td colSpan={5}>
                        <pre data-testid="dead-letter-body">{json(d.body)}</pre>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
