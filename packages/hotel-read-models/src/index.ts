export {
  readModels,
  eventsModel,
  customersModel,
  roomsModel,
  reservationsModel,
} from './read-models';
