export * from './errors';
export * from './config';
export * from './ids';
export * from './messages';
export * from './event-store-port';
export * from './projection';
export * from './idempotency';
