import { createTestDatabase, waitUntil, type TestDatabase } from '@cqrs/testing';
import pino from 'pino';
import { defaultLockName, MySqlLeaderLock } from './leader-lock';

jest.setTimeout(20_000);
const logger = pino({ level: 'silent' });

describe('MySqlLeaderLock (GET_LOCK on a dedicated connection)', () => {
  let db: TestDatabase;
  const locks: MySqlLeaderLock[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('lock');
  });
  afterAll(async () => {
    for (const l of locks) await l.stop();
    await db.drop();
  });
  const newLock = () => {
    const l = new MySqlLeaderLock({ url: db.url, logger, reconnectDelayMs: 200 });
    locks.push(l);
    l.start();
    return l;
  };

  it('elects one leader; a killed lock connection ends its term at once and the standby takes over', async () => {
    const a = newLock();
    const b = newLock();
    await waitUntil('one leader', () => a.isLeader !== b.isLeader && a.canLead && b.canLead);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    const term = leader.term!;
    const ended = new Promise<void>((r) => term.addEventListener('abort', () => r()));

    const [rows] = (await db.knex.raw('SELECT IS_USED_LOCK(?) AS holder', [
      defaultLockName(db.url),
    ])) as [{ holder: number }[]];
    await db.knex.raw(`KILL CONNECTION ${Number(rows[0]!.holder)}`);

    await ended;
    expect(leader.isLeader).toBe(false);
    await waitUntil('standby leads', () => standby.isLeader, 5000);
  });

  it('hands the lock over immediately on stop()', async () => {
    const leader = locks.find((l) => l.isLeader)!;
    const other = locks.find((l) => l !== leader)!;
    await leader.stop();
    await waitUntil('the other leads', () => other.isLeader, 3000);
  });
});
