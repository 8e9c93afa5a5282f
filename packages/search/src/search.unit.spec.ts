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

  describe('with a refresh function (applied and searchable are two watermarks)', () => {
    const deferred = () => {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };

    it('refreshes only when a request waits for an applied version, once for all of them', async () => {
      const refresh = jest.fn(async () => undefined);
      const t = new ConsistencyTracker({ refresh });
      t.applied([
        { ...token, version: 3 },
        { streamType: 'room', streamId: 'r1', version: 1 },
      ]);
      expect(refresh).not.toHaveBeenCalled();
      const answers = await Promise.all([
        t.waitFor([token], 1000),
        t.waitFor([{ streamType: 'room', streamId: 'r1', version: 1 }], 1000),
        t.waitFor([token], 1000),
      ]);
      expect(answers).toEqual([[], [], []]);
      expect(refresh).toHaveBeenCalledTimes(1);
      // Searchable now: no further refresh.
      expect(await t.waitFor([token], 1000)).toEqual([]);
      expect(refresh).toHaveBeenCalledTimes(1);
    });

    it('does not count a refresh that started before the version was applied', async () => {
      const first = deferred();
      const refresh = jest
        .fn<Promise<void>, []>()
        .mockImplementationOnce(() => first.promise)
        .mockImplementation(async () => undefined);
      const t = new ConsistencyTracker({ refresh });
      t.applied([{ ...token, version: 1 }]);
      const early = t.waitFor([{ ...token, version: 1 }], 1000);
      await new Promise((r) => setImmediate(r));
      expect(refresh).toHaveBeenCalledTimes(1); // in flight
      t.applied([{ ...token, version: 2 }]);
      const late = t.waitFor([token], 1000);
      const late2 = t.waitFor([token], 1000);
      first.resolve();
      expect(await early).toEqual([]);
      expect(await late).toEqual([]);
      expect(await late2).toEqual([]);
      // The late waiters shared the one refresh queued behind the first.
      expect(refresh).toHaveBeenCalledTimes(2);
    });

    it('waits for the announcement first, then refreshes', async () => {
      const refresh = jest.fn(async () => undefined);
      const t = new ConsistencyTracker({ refresh });
      const waiting = t.waitFor([token], 60_000);
      t.applied([token]);
      expect(await waiting).toEqual([]);
      expect(refresh).toHaveBeenCalledTimes(1);
    });

    it('answers from an earlier refresh for a version it covered', async () => {
      const refresh = jest.fn(async () => undefined);
      const t = new ConsistencyTracker({ refresh });
      t.applied([{ ...token, version: 1 }]);
      await t.waitFor([{ ...token, version: 1 }], 1000);
      t.applied([token]); // version 2 applied, not refreshed
      expect(t.versionOf(token)).toBe(1);
      expect(await t.waitFor([{ ...token, version: 1 }], 1000)).toEqual([]);
      expect(refresh).toHaveBeenCalledTimes(1);
    });

    it('names the tokens when the refresh does not finish in time; fails when it fails', async () => {
      const never = deferred();
      const t = new ConsistencyTracker({ refresh: () => never.promise });
      t.applied([token]);
      expect(await t.waitFor([token], 20)).toEqual([token]);
      const failing = new ConsistencyTracker({
        refresh: async () => {
          throw new Error('elasticsearch down');
        },
      });
      failing.applied([token]);
      await expect(failing.waitFor([token], 1000)).rejects.toThrow('elasticsearch down');
    });

    it('lets a projector refresh what it applied, which waiting reads then need not repeat', async () => {
      const refresh = jest.fn(async () => undefined);
      const t = new ConsistencyTracker({ refresh });
      await t.refreshApplied(); // nothing applied yet
      t.applied([token]);
      await t.refreshApplied();
      expect(await t.waitFor([token], 1000)).toEqual([]);
      expect(refresh).toHaveBeenCalledTimes(1);
    });

    it('refreshes for versions the lookup found applied', async () => {
      const refresh = jest.fn(async () => undefined);
      const lookup = jest.fn(async () => new Map([['customer:c1', 2]]));
      const t = new ConsistencyTracker({ lookup, refresh });
      expect(await t.waitFor([token], 1000)).toEqual([]);
      expect(refresh).toHaveBeenCalledTimes(1);
    });
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
