import type { ClaimKey } from '@cqrs/core';
import { daysBetween } from '../shared/fields';

/**
 * The room calendar (docs/room-calendar.md): a reservation holds one key per night of its stay,
 * `room-night` `<roomId>/<YYYY-MM-DD>`, the night beginning that day. Nights are calendar days
 * (UTC), check-out day excluded: [checkIn, checkOut).
 */
export const ROOM_NIGHT = 'room-night';

/** The longest stay one reservation may hold. */
export const MAX_STAY_NIGHTS = 365;

/** Every night of [from, to), as `YYYY-MM-DD`; empty when `to` is not after `from`. */
export function nightsOf(from: string, to: string): string[] {
  const count = daysBetween(from, to);
  const start = Date.parse(`${from}T00:00:00Z`);
  const nights: string[] = [];
  for (let i = 0; i < count; i++) {
    nights.push(new Date(start + i * 86_400_000).toISOString().slice(0, 10));
  }
  return nights;
}

export function roomNights(roomId: string, from: string, to: string): ClaimKey[] {
  return nightsOf(from, to).map((night) => ({ scope: ROOM_NIGHT, key: `${roomId}/${night}` }));
}

/** The night a room-night key names. */
export function nightOf(key: ClaimKey): string {
  return key.key.slice(key.key.lastIndexOf('/') + 1);
}
