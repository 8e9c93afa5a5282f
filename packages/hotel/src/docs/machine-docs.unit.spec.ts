import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { machineDocs } from './machine-docs';

const dir = resolve(__dirname, '../../../../docs/machines');

describe('docs/machines', () => {
  it.each([...machineDocs()])('%s is up to date (run npm run docs:machines)', (file, content) => {
    expect(readFileSync(join(dir, file), 'utf8')).toBe(content);
  });

  it('pictures every state of the reservation lifecycle', () => {
    const doc = machineDocs().get('reservation.md') ?? '';
    for (const line of [
      'pending --> confirmed : ReservationConfirmed',
      'pending --> cancelled : ReservationCancelled',
      'confirmed --> cancelled : ReservationCancelled',
      'confirmed --> checkedIn : GuestCheckedIn',
      'checkedIn --> checkedOut : GuestCheckedOut',
    ]) {
      expect(doc).toContain(line);
    }
  });
});
