import type { Client } from '@elastic/elasticsearch';
import { streamKey, type VersionLookup } from './consistency';
import type { IndexNames, ReadModel } from './read-model';

/**
 * The searchable version of each stream, read from the read model that owns the stream's
 * documents. A search (not a get) on purpose: it sees only refreshed documents, which is
 * what "reflected and searchable" means.
 */
export function searchableVersions(
  client: Client,
  names: IndexNames,
  models: readonly ReadModel[],
): VersionLookup {
  return async (streams) => {
    const found = new Map<string, number>();
    const byType = new Map<string, string[]>();
    for (const s of streams)
      byType.set(s.streamType, [...(byType.get(s.streamType) ?? []), s.streamId]);
    for (const [streamType, ids] of byType) {
      const owner = models.find((m) => m.projection.ownStreamType === streamType);
      if (!owner) continue;
      const res = await client.search<{ version?: number }>({
        index: names.alias(owner.projection.name),
        query: { ids: { values: ids } },
        _source: ['version'],
        size: ids.length,
      });
      for (const hit of res.hits.hits) {
        const version = hit._source?.version;
        if (typeof version === 'number')
          found.set(streamKey({ streamType, streamId: hit._id! }), version);
      }
    }
    return found;
  };
}
