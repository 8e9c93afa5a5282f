export {
  handleCommand,
  type CommandHandling,
  type CommandRequest,
  type EdgeOutcome,
  type HandledCommand,
} from './handle-command';
