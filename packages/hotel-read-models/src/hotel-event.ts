import type { EventEnvelope } from '@cqrs/core';
import {
  CustomerEvents,
  ReservationEvents,
  RoomEvents,
  type CustomerEvent,
  type ReservationEvent,
  type RoomEvent,
} from '@cqrs/hotel';

/** An event envelope whose `type` and `data` are one of the hotel's events `E`. */
export type Envelope<E extends { readonly type: string; readonly data: object }> = Omit<
  EventEnvelope,
  'type' | 'data'
> &
  E;

export type CustomerEnvelope = Envelope<CustomerEvent>;
export type RoomEnvelope = Envelope<RoomEvent>;
export type ReservationEnvelope = Envelope<ReservationEvent>;

/**
 * Narrows an envelope to one aggregate's event union by stream type and event name. The
 * data needs no second check: the aggregate validated it against these very schemas before
 * it was appended, and the projector validated the envelope when it arrived. An event this
 * domain does not know (yet) is no event of the union, and the read models skip it.
 */
function eventOf<E extends { readonly type: string; readonly data: object }>(
  streamType: string,
  schemas: object,
) {
  const types = new Set(Object.keys(schemas));
  return (event: EventEnvelope): event is EventEnvelope & Envelope<E> =>
    event.streamType === streamType && types.has(event.type);
}

export const isCustomerEvent = eventOf<CustomerEvent>('customer', CustomerEvents);
export const isRoomEvent = eventOf<RoomEvent>('room', RoomEvents);
export const isReservationEvent = eventOf<ReservationEvent>('reservation', ReservationEvents);
