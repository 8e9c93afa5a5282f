// Test fixtures of the outbox (`@cqrs/outbox/testing`): tests and tools only, never production.
export { seedOutbox, interleavedEvents, type SeedEvent } from './seed-outbox';
export { recordEvents, type Recorder, type RecordedMessage } from './test-recorder';
