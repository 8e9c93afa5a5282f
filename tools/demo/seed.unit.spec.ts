import { buildDataset } from './seed';

describe('demo dataset', () => {
  const phases = buildDataset(300, 600);
  const all = phases.flat();

  it('is deterministic', () => {
    expect(buildDataset(300, 600)).toEqual(phases);
  });

  it('registers customers and rooms before anything refers to them', () => {
    const registered = new Set(phases[0]!.map((c) => `${c.type}/${c.id}`));
    for (const c of phases[1]!) {
      expect(registered.has(`customer/${c.data.customerId as string}`)).toBe(true);
      expect(registered.has(`room/${c.data.roomId as string}`)).toBe(true);
    }
  });

  it('covers every reservation state and several cities and hotels', () => {
    const commands = new Set(all.map((c) => c.command));
    for (const c of [
      'PlaceReservation',
      'ConfirmReservation',
      'CancelReservation',
      'CheckInGuest',
      'CheckOutGuest',
      'RenameCustomer',
      'DeactivateCustomer',
      'RetireRoom',
    ]) {
      expect(commands.has(c)).toBe(true);
    }
    const rooms = all.filter((c) => c.command === 'RegisterRoom');
    expect(new Set(rooms.map((r) => r.data.city)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(rooms.map((r) => r.data.hotel)).size).toBeGreaterThanOrEqual(8);
  });

  it('never asks for more guests than the room holds, nor a checkout before the checkin', () => {
    const capacity = new Map(
      all.filter((c) => c.command === 'RegisterRoom').map((c) => [c.id, c.data.capacity as number]),
    );
    for (const c of phases[1]!) {
      expect(c.data.guests as number).toBeLessThanOrEqual(capacity.get(c.data.roomId as string)!);
      expect((c.data.checkOut as string) > (c.data.checkIn as string)).toBe(true);
    }
  });
});
