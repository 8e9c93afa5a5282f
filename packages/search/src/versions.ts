import type { Client } from '@elastic/elasticsearch';
import { streamKey } from '@cqrs/core';
import type { VersionLookup } from './consistency';
import type { IndexNames, ReadModel } from './read-model';

/**
 * The applied version of each stream, read in real time (`mget`) from the read model that
 * owns the stream's documents. Applied, not necessarily searchable: the tracker refreshes
 * before it answers (see docs/read-your-writes.md).
 */
export function appliedVersions(
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
      const res = await client.mget<{ version?: number }>({
        index: names.alias(owner.projection.name),
        ids,
        _source: ['version'],
        realtime: true,
      });
      for (const d of res.docs) {
        const version = 'found' in d && d.found ? d._source?.version : undefined;
        if (typeof version === 'number')
          found.set(streamKey({ streamType, streamId: d._id }), version);
      }
    }
    return found;
  };
}
