export { IndexNames, newGeneration, type ReadModel } from './read-model';
export { assignNewer, mergeNewer, type Versioned } from './versioned';
export { Mapping, versionedProperties } from './mapping';
export * from './query-api';
export { ensureReadModelIndices, resolveAlias } from './indices';
export { ProjectionEngine, type ProjectionTarget, type BatchResult } from './engine';
export { fieldValue } from './coalesce';
export { classifyItem, type ItemOutcome } from './bulk-errors';
export { Projector, type ProjectorOptions, type AppliedEvent } from './projector';
export { ProgressBus, toProgress, fromProgress, type ProgressMessage } from './progress';
export {
  ConsistencyTracker,
  describeTokens,
  type VersionLookup,
  type ConsistencyTrackerOptions,
} from './consistency';
export { appliedVersions } from './versions';
export { encodeCursor, decodeCursor, queryFingerprint, type SortValue } from './cursor';
export { searchText, freeText, byRelevance, byKeyword } from './query-dsl';
export { searchPage, termsFacet, type Page, type PageRequest, type PageQuery } from './page';
export {
  Rebuilder,
  type RebuilderOptions,
  type RebuildProgress,
  type RebuildState,
  type EventSource,
} from './rebuild';
export { listDeadLetters, type DeadLetter } from './dead-letters';
