import { Client } from '@elastic/elasticsearch';
import { uniqueName } from './names';

export interface TestIndexPrefix {
  /** `INDEX_PREFIX` for this test file: every index, alias and template it creates starts with it. */
  readonly prefix: string;
  readonly url: string;
  readonly client: Client;
  drop(): Promise<void>;
}

/** Gives one test file an index prefix of its own; `drop()` deletes its indices and templates. */
export async function createTestIndexPrefix(label: string): Promise<TestIndexPrefix> {
  const prefix = uniqueName(label).replace(/_/g, '-');
  const url = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
  const client = new Client({ node: url });
  return {
    prefix,
    url,
    client,
    async drop() {
      // Deleting by wildcard needs action.destructive_requires_name=false; name them instead.
      const indices = await client.cat.indices(
        { index: `${prefix}*`, format: 'json', h: 'index' },
        { ignore: [404] },
      );
      const names = (Array.isArray(indices) ? indices : [])
        .map((i) => i.index)
        .filter((n): n is string => !!n);
      if (names.length > 0)
        await client.indices.delete({ index: names.join(','), ignore_unavailable: true });
      const templates = await client.indices.getIndexTemplate(
        { name: `${prefix}*` },
        { ignore: [404] },
      );
      for (const t of templates.index_templates ?? [])
        await client.indices.deleteIndexTemplate({ name: t.name });
      await client.close();
    },
  };
}
