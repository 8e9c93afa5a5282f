import { requireAdmin, type HttpServer } from '@cqrs/http';
import { listParkedRows, parkOutboxRow, requeueParkedRow, unpublishedHead } from '@cqrs/outbox';
import { Type } from '@sinclair/typebox';
import type { Knex } from 'knex';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,20}$' }) });
const Limit = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20 })) },
  { additionalProperties: false },
);
const ParkBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);

/**
 * The operator's way out of a poisoned outbox row (parking.ts), behind ADMIN_TOKEN: see the
 * head the relay is stuck at, park a row with a reason, list parked rows, re-queue one.
 */
export function relayAdminRoutes(knex: Knex, adminToken: string | undefined) {
  return async (app: HttpServer): Promise<void> => {
    app.addHook('preHandler', requireAdmin(adminToken));
    app.get(
      '/admin/outbox',
      {
        schema: {
          tags: ['admin'],
          summary: 'The oldest unpublished rows, with their failed attempts',
          querystring: Limit,
        },
      },
      async (request) => ({ head: await unpublishedHead(knex, request.query.limit ?? 20) }),
    );
    app.post(
      '/admin/outbox/:id/park',
      {
        schema: {
          tags: ['admin'],
          summary: 'Move an unpublished row out of the relay’s way (nothing is deleted)',
          params: IdParams,
          body: ParkBody,
        },
      },
      async (request) => {
        await parkOutboxRow(knex, request.params.id, request.body.reason);
        return { parked: request.params.id };
      },
    );
    app.get(
      '/admin/outbox/parked',
      { schema: { tags: ['admin'], summary: 'Parked rows', querystring: Limit } },
      async (request) => ({ parked: await listParkedRows(knex, request.query.limit ?? 20) }),
    );
    app.post(
      '/admin/outbox/parked/:id/requeue',
      {
        schema: {
          tags: ['admin'],
          summary: 'Put a parked row back under its own id: the relay publishes it next',
          params: IdParams,
        },
      },
      async (request) => {
        await requeueParkedRow(knex, request.params.id);
        return { requeued: request.params.id };
      },
    );
  };
}
