export {
  defineAggregate,
  commandsFor,
  aggregateRegistry,
  currentSchemaVersion,
  reject,
  isRejection,
  type AggregateDefinition,
  type AggregateDefinitionInput,
  type AggregateRegistry,
  type AggregateState,
  type AnyAggregateDefinition,
  type ClaimChange,
  type ClaimRules,
  type CommandHandler,
  type CompiledCommand,
  type DecideDeps,
  type Decision,
  type EventUnion,
  type MachineEvent,
  type MachineOf,
  type Rejection,
  type Upcaster,
} from './definition';
export {
  activeDeadlines,
  deadlineDelta,
  delayMs,
  scheduleDeadlines,
  type DeadlineDelta,
  type DeadlineStart,
} from './deadlines';
export {
  DeadlineWorker,
  type DeadlineHooks,
  type DeadlineOutcome,
  type DeadlineWorkerOptions,
} from './runtime/deadline-worker';
export {
  parseCommand,
  decide,
  claimChanges,
  rejectionError,
  lifecycleRejection,
  type ValidCommand,
  type DecisionOutcome,
} from './decide';
export { initialState, applyEvent, replay } from './replay';
export { ProcessTablesBuilder, type DerivedClaim, type DerivedDeadline } from './process-tables';
export { upcast } from './upcasting';
export { toSnapshotRecord, fromSnapshotRecord, type PersistedAggregateState } from './snapshot';
export { toMermaid } from './mermaid';
export {
  AggregateRuntime,
  type AggregateRuntimeOptions,
  type AggregateView,
  type CommandObservation,
  type CommandOutcome,
  type ExecuteRequest,
  type ExecuteResult,
  type RuntimeHooks,
  type RuntimeStats,
} from './runtime/aggregate-runtime';
export {
  handleCommand,
  type CommandHandling,
  type CommandRequest,
  type EdgeOutcome,
  type HandledCommand,
} from './command-handling';
