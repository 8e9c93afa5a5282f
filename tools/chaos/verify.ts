import type { Client } from '@elastic/elasticsearch';
import mysql from 'mysql2/promise';
import type { Acked } from './load';

export interface Discrepancies {
  /** Acknowledged events not in MySQL at their version (with their type). */
  lost: number;
  /** Streams whose versions are not exactly 1..n. */
  gappedStreams: number;
  /** |events index documents - MySQL events|. */
  eventsIndexOff: number;
  /** Read-model documents not at their stream's last version. */
  staleReadModels: number;
  /** Reservations not showing their guest's latest name. */
  staleJoins: number;
  /** Outbox rows not published. */
  outbox: number;
}

export const total = (d: Discrepancies) => Object.values(d).reduce((a, b) => a + b, 0);

const MODELS: Record<string, string> = {
  customer: 'customers',
  room: 'rooms',
  reservation: 'reservations',
};

/**
 * Compares MySQL (the truth) with what was acknowledged, with the events index and with the
 * read models. MySQL-only checks (lost, gaps) must be zero at once; the others converge.
 */
export async function verify(
  mysqlUrl: string,
  es: Client,
  prefix: string,
  acked: readonly Acked[],
): Promise<Discrepancies> {
  const db = await mysql.createConnection(mysqlUrl);
  try {
    const [events] = (await db.query(
      'SELECT stream_type, stream_id, version, event_type FROM events',
    )) as unknown as [
      { stream_type: string; stream_id: string; version: number; event_type: string }[],
    ];
    const stored = new Map(
      events.map((e) => [`${e.stream_type}:${e.stream_id}@${e.version}`, e.event_type]),
    );
    let lost = 0;
    for (const a of acked) {
      a.events.forEach((type, i) => {
        const version = a.version - (a.events.length - 1) + i;
        if (stored.get(`${a.streamType}:${a.streamId}@${version}`) !== type) lost++;
      });
    }
    const [gaps] = (await db.query(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM events GROUP BY stream_type, stream_id
        HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*) OR COUNT(DISTINCT version) <> COUNT(*)) s`,
    )) as unknown as [{ n: number }[]];
    const [outbox] = (await db.query(
      'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
    )) as unknown as [{ n: number }[]];
    const last = new Map<string, number>();
    for (const e of events) {
      const k = `${e.stream_type}:${e.stream_id}`;
      last.set(k, Math.max(last.get(k) ?? 0, e.version));
    }
    const [names] = (await db.query(
      `SELECT stream_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.name')) AS name FROM events
        WHERE stream_type = 'customer' AND event_type IN ('CustomerRegistered', 'CustomerRenamed')
        ORDER BY stream_id, version`,
    )) as unknown as [{ stream_id: string; name: string }[]];
    const latestName = new Map(names.map((n) => [n.stream_id, n.name]));

    await es.indices.refresh({ index: `${prefix}-*` }, { ignore: [404] });
    const indexed = await es.count({ index: `${prefix}-events` }, { ignore: [404] });
    const eventsIndexOff = Math.abs((indexed.count ?? 0) - events.length);

    let staleReadModels = 0;
    let staleJoins = 0;
    for (const [streamType, model] of Object.entries(MODELS)) {
      // By id, in chunks: a search answers at most 10 000 hits, and a full run has more streams.
      const docs = new Map<string, Record<string, unknown>>();
      const ids = [...last.keys()]
        .filter((key) => key.startsWith(`${streamType}:`))
        .map((key) => key.slice(streamType.length + 1));
      for (let i = 0; i < ids.length; i += 1000) {
        const res = await es.mget<Record<string, unknown>>(
          { index: `${prefix}-${model}`, ids: ids.slice(i, i + 1000) },
          { ignore: [404] },
        );
        for (const doc of res.docs ?? []) {
          if ('found' in doc && doc.found) docs.set(doc._id, doc._source ?? {});
        }
      }
      for (const [key, version] of last) {
        const [type, id] = key.split(':') as [string, string];
        if (type !== streamType) continue;
        const doc = docs.get(id);
        if (!doc || doc.version !== version) staleReadModels++;
        if (streamType === 'reservation' && doc) {
          const guest = doc.customer as { id?: string; name?: string } | undefined;
          if (guest?.id && guest.name !== latestName.get(guest.id)) staleJoins++;
        }
      }
    }
    return {
      lost,
      gappedStreams: Number(gaps[0]!.n),
      eventsIndexOff,
      staleReadModels,
      staleJoins,
      outbox: Number(outbox[0]!.n),
    };
  } finally {
    await db.end();
  }
}
