export { readModels } from './read-models';
