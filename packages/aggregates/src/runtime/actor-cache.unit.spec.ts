import { ticket } from '../__fixtures__/ticket';
import { ActorCache, AggregateActor } from './actor-cache';

function cache(maxSize: number) {
  const sizes: number[] = [];
  const c = new ActorCache(maxSize, (n) => sizes.push(n));
  const use = (id: string, now = 0) =>
    c.use(id, () => new AggregateActor(id, ticket, id, now), now);
  const keys = () => [...c.all()].map((a) => a.key).sort();
  return { c, use, keys, sizes };
}

describe('ActorCache', () => {
  it('evicts the least recently used actor, one per insert beyond the bound', () => {
    const { use, keys, sizes } = cache(3);
    for (const id of ['a', 'b', 'c']) use(id);
    use('a'); // a is now the newest
    use('d');
    expect(keys()).toEqual(['a', 'c', 'd']);
    use('e');
    expect(keys()).toEqual(['a', 'd', 'e']);
    expect(sizes.at(-1)).toBe(3);
    // Many inserts through a full cache keep it at its bound, in use order.
    for (let i = 0; i < 1000; i++) use(`n${i}`);
    expect(keys()).toEqual(['n997', 'n998', 'n999']);
  });

  it('never evicts a busy actor, and shrinks back once it is idle', async () => {
    const { c, use, keys } = cache(2);
    const a = use('a');
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const running = a.mailbox.run(() => gate);
    use('b');
    use('c');
    expect(keys()).toEqual(['a', 'c']);
    use('d'); // a is still busy: c goes
    expect(keys()).toEqual(['a', 'd']);
    finish();
    await running;
    use('e');
    expect(keys()).toEqual(['d', 'e']);
    expect(c.peek('a')).toBeUndefined();
  });

  it('passivates idle actors only, and forgets everything on clear', () => {
    const { c, use, keys, sizes } = cache(10);
    use('old', 1);
    use('new', 5);
    use('older', 0);
    use('old', 2);
    expect(c.passivateIdle(3)).toBe(2);
    expect(keys()).toEqual(['new']);
    use('again', 6);
    c.clear();
    expect(keys()).toEqual([]);
    expect(sizes.at(-1)).toBe(0);
    use('fresh', 7);
    expect(keys()).toEqual(['fresh']);
  });
});
