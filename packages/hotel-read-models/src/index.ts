export { readModels } from './read-models';
export * from './customers';
export * from './event-log';
export * from './reservations';
export * from './rooms';
