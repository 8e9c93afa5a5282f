import { assign, setup } from 'xstate';
import type { RoomEvent, RoomType } from './events';

export interface RoomContext {
  readonly hotel: string;
  readonly city: string;
  readonly number: string;
  readonly roomType: RoomType;
  readonly capacity: number;
  readonly ratePerNight: number;
}

/** nonexistent -> available -> retired. A retired room accepts nothing more. */
export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as RoomEvent,
  },
  guards: {
    rateIsPositive: ({ event }) => event.type === 'RoomRateChanged' && event.data.ratePerNight > 0,
  },
  actions: {
    recordRegistration: assign(({ event }) =>
      event.type === 'RoomRegistered' ? { ...event.data } : {},
    ),
    recordRate: assign(({ event }) =>
      event.type === 'RoomRateChanged' ? { ratePerNight: event.data.ratePerNight } : {},
    ),
  },
}).createMachine({
  id: 'room',
  context: { hotel: '', city: '', number: '', roomType: 'single', capacity: 0, ratePerNight: 0 },
  initial: 'nonexistent',
  states: {
    nonexistent: {
      on: { RoomRegistered: { target: 'available', actions: 'recordRegistration' } },
    },
    available: {
      on: {
        RoomRateChanged: { guard: 'rateIsPositive', actions: 'recordRate' },
        RoomRetired: { target: 'retired' },
      },
    },
    retired: { type: 'final' },
  },
});
