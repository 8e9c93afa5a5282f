import { commandsFor, defineAggregate } from '@cqrs/aggregates';
import { Type } from '@sinclair/typebox';
import { RatePerNight, Label } from '../shared/fields';
import { RoomEvents, RoomTypes } from './events';
import { roomMachine } from './machine';

export const RoomCommands = {
  RegisterRoom: Type.Object(
    {
      hotel: Label(200, 'a hotel name'),
      city: Label(200, 'a city'),
      number: Type.Union(
        [
          Label(20, 'a room number'),
          Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
        ],
        {
          description: 'a room number (a string of 1-20 characters or a whole number)',
        },
      ),
      roomType: Type.Union(
        RoomTypes.map((t) => Type.Literal(t)),
        { description: `one of ${RoomTypes.join(', ')}` },
      ),
      capacity: Type.Integer({ minimum: 1, maximum: 10 }),
      ratePerNight: RatePerNight,
    },
    { additionalProperties: false },
  ),
  ChangeRoomRate: Type.Object({ ratePerNight: RatePerNight }, { additionalProperties: false }),
  RetireRoom: Type.Object({}, { additionalProperties: false }),
};

const command = commandsFor(roomMachine);

export const room = defineAggregate({
  type: 'room',
  machine: roomMachine,
  events: RoomEvents,
  commands: {
    RegisterRoom: command(RoomCommands.RegisterRoom, {
      decide: (_state, { data }) => ({
        type: 'RoomRegistered',
        data: { ...data, number: String(data.number) },
      }),
    }),
    ChangeRoomRate: command(RoomCommands.ChangeRoomRate, {
      decide: (_state, { data }) => ({
        type: 'RoomRateChanged',
        data: { ratePerNight: data.ratePerNight },
      }),
    }),
    RetireRoom: command(RoomCommands.RetireRoom, {
      decide: () => ({ type: 'RoomRetired', data: {} }),
    }),
  },
});
