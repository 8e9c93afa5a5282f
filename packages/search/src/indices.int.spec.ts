import type { ReadModelProjection } from '@cqrs/core';
import { createTestIndexPrefix, type TestIndexPrefix } from '@cqrs/testing';
import { ensureReadModelIndices, resolveAlias } from './indices';
import { IndexNames, type ReadModel } from './read-model';

const model = (name: string): ReadModel => ({
  projection: {
    name,
    streamTypes: [name],
    targets: (e) => [{ id: e.streamId }],
    evolve: () => ({ id: 'x' }),
  } as ReadModelProjection<object>,
  mappings: { properties: { id: { type: 'keyword' } } },
});

describe('ensureReadModelIndices', () => {
  let es: TestIndexPrefix;
  beforeAll(async () => {
    es = await createTestIndexPrefix('indices');
  });
  afterAll(() => es.drop());

  // Instances of the query service start together and each runs it: in one millisecond
  // they used to pick the same index name, and the loser deleted the winner's index -
  // alias and all (seen as "no such index" in the scale-out e2e).
  it('leaves exactly one index behind each alias when many instances race', async () => {
    const names = new IndexNames(es.prefix);
    const models = ['rooms', 'customers', 'events'].map(model);
    // All in one millisecond, as two processes can be.
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_796_000_000_000);
    await Promise.all(
      Array.from({ length: 8 }, () => ensureReadModelIndices(es.client, names, models)),
    ).finally(() => now.mockRestore());
    for (const m of models) {
      const alias = names.alias(m.projection.name);
      const index = await resolveAlias(es.client, alias);
      expect(index).toBeDefined();
      const all = await es.client.indices.get({ index: names.pattern(m.projection.name) });
      expect(Object.keys(all)).toEqual([index]);
      await es.client.index({ index: alias, id: 'probe', document: { id: 'probe' } });
    }
  });
});
