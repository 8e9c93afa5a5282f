import { ValidationError } from '@cqrs/core';
import type { Knex } from 'knex';
import { fetchOutboxRows, markPublished } from './outbox-store';

describe('outbox-store id lists', () => {
  // Ids are written into the SQL unbound: anything but a decimal BIGINT must never get there.
  const unreachable = {} as Knex;

  it.each([['1 OR 1=1'], ['1,2'], [''], ['-1'], ['1e3']])('refuses %j as an id', async (id) => {
    await expect(markPublished(unreachable, ['7', id])).rejects.toBeInstanceOf(ValidationError);
    await expect(fetchOutboxRows(unreachable, [id])).rejects.toBeInstanceOf(ValidationError);
  });
});
