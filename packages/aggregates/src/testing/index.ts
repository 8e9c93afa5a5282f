// Test helpers of aggregates (`@cqrs/aggregates/testing`): tests and tools only, never production.
export {
  aggregateTest,
  type AggregateTestOptions,
  type GivenEvent,
  type Outcome,
  type RejectionExpectation,
  type Scenario,
} from './given-when-then';
export { InMemoryEventStore } from './in-memory-event-store';
