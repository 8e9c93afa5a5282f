import { createTestIndexPrefix, type TestIndexPrefix } from '@cqrs/testing';

describe('Elasticsearch (smoke)', () => {
  let es: TestIndexPrefix;
  beforeAll(async () => {
    es = await createTestIndexPrefix('smoke_es');
  });
  afterAll(() => es.drop());

  it('indexes a document and finds it with a match query', async () => {
    const index = `${es.prefix}-smoke`;
    await es.client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { name: { type: 'text' }, city: { type: 'keyword' } } },
    });
    await es.client.index({
      index,
      id: '1',
      document: { name: 'Ada Lovelace', city: 'London' },
      refresh: 'wait_for',
    });
    const res = await es.client.search<{ name: string; city: string }>({
      index,
      query: { match: { name: 'lovelace' } },
    });
    const health = await es.client.cluster.health();
    console.log(
      `smoke: Elasticsearch cluster ${health.cluster_name} (${health.status}) at ${es.url}`,
    );
    expect(res.hits.hits.map((h) => h._source)).toEqual([{ name: 'Ada Lovelace', city: 'London' }]);
  });
});
