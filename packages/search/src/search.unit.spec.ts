import { ValidationError } from '@cqrs/core';
import { classifyItem } from './bulk-errors';
import { ConsistencyTracker } from './consistency';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor';

describe('cursor', () => {
  const f = queryFingerprint({ q: 'ada', status: 'pending' });

  it('round-trips search_after values for the same query and sort', () => {
    const c = encodeCursor('-checkIn', f, [1767225600000, 'r-1']);
    expect(decodeCursor(c, '-checkIn', f)).toEqual([1767225600000, 'r-1']);
  });

  it.each(['', 'abc', '!!!', Buffer.from('{"v":1}').toString('base64url'), 'x'.repeat(3000)])(
    'rejects malformed cursor #%# as a 400',
    (c) => {
      expect(() => decodeCursor(c, '-checkIn', f)).toThrow(ValidationError);
    },
  );

  it('rejects a cursor of another query or sort', () => {
    const c = encodeCursor('-checkIn', f, [1, 'r-1']);
    expect(() => decodeCursor(c, 'checkIn', f)).toThrow(/another query/);
    expect(() => decodeCursor(c, '-checkIn', queryFingerprint({ q: 'bob' }))).toThrow(
      /another query/,
    );
  });
});

describe('ConsistencyTracker', () => {
  const token = { streamType: 'customer', streamId: 'c1', version: 2 };

  it('answers at once when the version was announced', async () => {
    const t = new ConsistencyTracker();
    t.applied([{ ...token, version: 3 }]);
    expect(await t.waitFor([token], 1000)).toEqual([]);
  });

  it('waits for the announcement, not for a timer', async () => {
    const t = new ConsistencyTracker();
    const waiting = t.waitFor([token], 60_000);
    t.applied([{ ...token, version: 1 }]);
    t.applied([{ ...token, version: 2 }]);
    expect(await waiting).toEqual([]);
  });

  it('names the tokens not reached in time', async () => {
    const t = new ConsistencyTracker();
    const other = { streamType: 'room', streamId: 'r1', version: 1 };
    t.applied([other]);
    expect(await t.waitFor([token, other], 10)).toEqual([token]);
  });

  it('asks the lookup once for streams it has not heard of', async () => {
    const lookup = jest.fn(async () => new Map([['customer:c1', 5]]));
    const t = new ConsistencyTracker({ lookup });
    expect(await t.waitFor([token], 1000)).toEqual([]);
    expect(await t.waitFor([token], 1000)).toEqual([]);
    expect(lookup).toHaveBeenCalledTimes(1);
  });
});

describe('classifyItem', () => {
  const item = (status: number, type?: string) => ({
    _index: 'i',
    status,
    ...(type ? { error: { type, reason: 'x' } } : {}),
  });
  it('tells conflicts, overload and refusals apart', () => {
    expect(classifyItem(item(201))).toBe('ok');
    expect(classifyItem(item(409, 'version_conflict_engine_exception'))).toBe('conflict');
    expect(classifyItem(item(429, 'es_rejected_execution_exception'))).toBe('retryable');
    expect(classifyItem(item(400, 'document_parsing_exception'))).toBe('permanent');
  });
});
