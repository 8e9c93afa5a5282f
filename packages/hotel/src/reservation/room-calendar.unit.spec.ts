import { AggregateRuntime, DeadlineWorker } from '@cqrs/aggregates';
import { InMemoryEventStore, aggregateTest, type GivenEvent } from '@cqrs/aggregates/testing';
import { DomainRejectionError } from '@cqrs/core';
import { customer } from '../customer/customer';
import { hotelAggregates } from '../index';
import { room } from '../room/room';
import { reservation } from './reservation';
import {
  checkedIn,
  confirmed,
  customerRegistered,
  placedAt,
  roomRegisteredAt,
} from './reservation.fixtures';
import { roomNights } from './room-nights';

/** The room calendar and the reservation hold (docs/room-calendar.md), on a fake clock. */
const NOW = new Date('2030-05-02T09:30:00.000Z');
const { given } = aggregateTest(reservation, { aggregateId: 'r-1', now: NOW });

const roomRegistered = roomRegisteredAt(10_000);
const placed = placedAt(10_000);
const place = (checkIn: string, checkOut: string) => ({
  type: 'PlaceReservation',
  data: { customerId: 'c-1', roomId: 'room-1', checkIn, checkOut, guests: 1 },
});
const withGuestAndRoom = (history: readonly GivenEvent[] = []) =>
  given(history).and(customer, 'c-1', [customerRegistered]).and(room, 'room-1', [roomRegistered]);
const nights = (...days: string[]) =>
  days.map((d) => ({ scope: 'room-night', key: `room-1/2030-05-0${d}` }));

describe('room calendar', () => {
  it('a placement holds every night of [checkIn, checkOut), not the day of departure', async () => {
    const decision = await withGuestAndRoom().when(place('2030-05-01', '2030-05-04')).decision();
    expect(decision.claims).toEqual({ acquire: nights('1', '2', '3'), release: [] });
  });

  it('a stay across a month end holds the nights of both months', () => {
    expect(roomNights('r', '2030-01-30', '2030-02-02').map((k) => k.key)).toEqual([
      'r/2030-01-30',
      'r/2030-01-31',
      'r/2030-02-01',
    ]);
  });

  it.each([
    ['cancelling', [placed], { type: 'CancelReservation', data: {} }],
    ['cancelling when confirmed', [placed, confirmed], { type: 'CancelReservation', data: {} }],
    ['expiring', [placed], { type: 'ExpireReservation', data: {} }],
  ])('%s frees every night', async (_what, history, command) => {
    const decision = await given(history).when(command).decision();
    expect(decision.claims).toEqual({ acquire: [], release: nights('1', '2', '3') });
  });

  it('checking out frees the nights from the day of departure on (an early departure)', async () => {
    const decision = await given([placed, confirmed, checkedIn])
      .when({ type: 'CheckOutGuest', data: {} })
      .decision();
    expect(decision.events).toEqual([
      { type: 'GuestCheckedOut', data: { checkedOutOn: '2030-05-02' }, schemaVersion: 1 },
    ]);
    expect(decision.claims).toEqual({ acquire: [], release: nights('2', '3') });
  });

  it('checking out on the last day frees nothing', async () => {
    const { given: late } = aggregateTest(reservation, {
      aggregateId: 'r-1',
      now: new Date('2030-05-04T10:00:00Z'),
    });
    const decision = await late([placed, confirmed, checkedIn])
      .when({ type: 'CheckOutGuest', data: {} })
      .decision();
    expect(decision.claims).toBeUndefined();
  });

  it('confirming and checking in touch no night', async () => {
    expect(
      (await given([placed]).when({ type: 'ConfirmReservation', data: {} }).decision()).claims,
    ).toBe(undefined);
  });

  it('accepts a stay of 365 nights and refuses 366 (400)', async () => {
    const decision = await withGuestAndRoom().when(place('2030-01-01', '2031-01-01')).decision();
    expect(decision.claims?.acquire).toHaveLength(365);
    const error = await withGuestAndRoom()
      .when(place('2030-01-01', '2031-01-02'))
      .thenInvalid(['data/checkOut']);
    expect(error.message).toMatch(/at most 365 nights/);
  });
});

describe('reservation hold', () => {
  it('a placement starts the hold, named after the state and the delay', async () => {
    const decision = await withGuestAndRoom().when(place('2030-05-01', '2030-05-02')).decision();
    expect(decision.deadlines).toEqual({
      cancel: [],
      start: [
        { name: 'pending/reservationHold', delay: 'reservationHold', command: 'ExpireReservation' },
      ],
    });
  });

  it.each([
    ['confirming', { type: 'ConfirmReservation', data: {} }],
    ['cancelling', { type: 'CancelReservation', data: {} }],
    ['expiring', { type: 'ExpireReservation', data: {} }],
  ])('%s stops it', async (_what, command) => {
    const decision = await given([placed]).when(command).decision();
    expect(decision.deadlines).toEqual({ cancel: ['pending/reservationHold'], start: [] });
  });

  it.each(['ConfirmReservation', 'CheckInGuest'])(
    '%s on an expired reservation is refused (422)',
    async (type) => {
      await given([placed, { type: 'ReservationExpired', data: {} }])
        .when({ type, data: {} })
        .thenRejects({ state: 'expired', rule: 'lifecycle' });
    },
  );
});

describe('room calendar through the runtime (in-memory store, fake clock)', () => {
  let now = new Date('2030-05-01T12:00:00.000Z');
  const clock = { now: () => now };
  const setup = () => {
    const store = new InMemoryEventStore({ now: clock.now });
    const runtime = new AggregateRuntime({
      store,
      aggregates: hotelAggregates,
      clock,
      idlePassivationMs: 0,
      delays: { reservationHold: 60_000 },
    });
    const send = (type: string, id: string, command: string, data: Record<string, unknown> = {}) =>
      runtime.execute({
        aggregateType: type,
        aggregateId: id,
        command: { type: command, data },
        metadata: {},
      });
    return { store, runtime, send };
  };
  const book = (id: string, checkIn: string, checkOut: string) => ({
    customerId: 'c-1',
    roomId: 'room-1',
    checkIn,
    checkOut,
    guests: 1,
  });
  const seed = async (send: ReturnType<typeof setup>['send']) => {
    await send('customer', 'c-1', 'RegisterCustomer', { name: 'Ada', email: 'ada@example.com' });
    await send('room', 'room-1', 'RegisterRoom', roomRegistered.data);
  };

  beforeEach(() => {
    now = new Date('2030-05-01T12:00:00.000Z');
  });

  it('refuses an overlapping stay with room-available, naming only the nights in conflict', async () => {
    const { send, runtime } = setup();
    await seed(send);
    await send('reservation', 'r-1', 'PlaceReservation', book('r-1', '2030-05-01', '2030-05-05'));
    const error = await send(
      'reservation',
      'r-2',
      'PlaceReservation',
      book('r-2', '2030-05-03', '2030-05-07'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainRejectionError);
    expect((error as DomainRejectionError).rule).toBe('room-available');
    expect((error as DomainRejectionError).extensions.nights).toEqual(['2030-05-03', '2030-05-04']);
    // The refused reservation does not exist: it can be placed later on free nights.
    await send('reservation', 'r-2', 'PlaceReservation', book('r-2', '2030-05-05', '2030-05-07'));
    await runtime.close();
  });

  it('a cancelled stay can be booked again at once', async () => {
    const { send, runtime } = setup();
    await seed(send);
    await send('reservation', 'r-1', 'PlaceReservation', book('r-1', '2030-05-01', '2030-05-03'));
    await send('reservation', 'r-1', 'CancelReservation');
    await send('reservation', 'r-2', 'PlaceReservation', book('r-2', '2030-05-01', '2030-05-03'));
    await runtime.close();
  });

  it('the hold expires a pending reservation when due, frees its nights, and never fires twice', async () => {
    const { send, store, runtime } = setup();
    await seed(send);
    await send('reservation', 'r-1', 'PlaceReservation', book('r-1', '2030-05-01', '2030-05-03'));
    await send('reservation', 'r-2', 'PlaceReservation', book('r-2', '2030-05-03', '2030-05-04'));
    await send('reservation', 'r-2', 'ConfirmReservation');
    expect(store.deadlines().map((d) => d.streamId)).toEqual(['r-1']);
    const fired: string[] = [];
    const worker = new DeadlineWorker({
      store,
      runtime,
      hooks: { onDeadline: (d, outcome) => fired.push(`${d.streamId}:${outcome}`) },
    });

    now = new Date(now.getTime() + 59_999);
    expect(await worker.fireDue()).toBe(0);
    now = new Date(now.getTime() + 1);
    expect(await worker.fireDue()).toBe(1);
    expect(fired).toEqual(['r-1:fired']);
    expect(store.events('reservation', 'r-1').map((e) => e.type)).toEqual([
      'ReservationPlaced',
      'ReservationExpired',
    ]);
    expect(store.deadlines()).toEqual([]);
    now = new Date(now.getTime() + 3_600_000);
    expect(await worker.fireDue()).toBe(0);
    await send('reservation', 'r-3', 'PlaceReservation', book('r-3', '2030-05-01', '2030-05-03'));
    await runtime.close();
  });

  it('a deadline whose stream moved on is dropped as moot', async () => {
    const { send, store, runtime } = setup();
    await seed(send);
    await send('reservation', 'r-1', 'PlaceReservation', book('r-1', '2030-05-01', '2030-05-03'));
    // A reservation confirmed by a writer that did not know the deadline (e.g. a rebuilt table).
    await store.appendToStream({
      streamType: 'reservation',
      streamId: 'r-1',
      expectedVersion: 1,
      events: [{ type: 'ReservationConfirmed', data: {} }],
      metadata: {},
    });
    const outcomes: string[] = [];
    const worker = new DeadlineWorker({
      store,
      runtime,
      hooks: { onDeadline: (_d, outcome) => outcomes.push(outcome) },
    });
    now = new Date(now.getTime() + 60_000);
    expect(await worker.fireDue()).toBe(1);
    expect(outcomes).toEqual(['moot']);
    expect(store.deadlines()).toEqual([]);
    await runtime.close();
  });
});
