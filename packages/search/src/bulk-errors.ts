import type { estypes } from '@elastic/elasticsearch';

export type ItemOutcome = 'ok' | 'conflict' | 'retryable' | 'permanent';

const RETRYABLE_TYPES = new Set([
  'es_rejected_execution_exception',
  'unavailable_shards_exception',
  'cluster_block_exception',
  'circuit_breaking_exception',
  'index_not_found_exception', // an alias swapped under us: the next attempt resolves again
  'no_shard_available_action_exception',
]);

/**
 * Classifies one `_bulk` item: a version conflict means someone wrote the document since
 * we read it (reload and evolve again); overload and availability problems are retried;
 * anything else (a mapping rejects the document, a malformed value) will fail again on
 * every retry, so the events behind it are dead-lettered with the reason.
 */
export function classifyItem(item: estypes.BulkResponseItem): ItemOutcome {
  if (!item.error) return 'ok';
  if (item.status === 409) return 'conflict';
  if (item.status === 429 || item.status >= 500 || RETRYABLE_TYPES.has(item.error.type)) {
    return 'retryable';
  }
  return 'permanent';
}

export function describeItemError(item: estypes.BulkResponseItem): string {
  const e = item.error;
  if (!e) return 'ok';
  const cause = e.caused_by ? ` (${e.caused_by.type}: ${e.caused_by.reason ?? ''})` : '';
  return `${e.type}: ${e.reason ?? ''}${cause}`;
}
