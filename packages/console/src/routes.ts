import type { AggregateRegistry } from '@cqrs/aggregates';
import { requireAdmin, type HttpServer } from '@cqrs/http';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { CONTENT_SECURITY_POLICY, type PageAssets } from './page';
import type { AdminAnswer, QueryAdminClient } from './query-admin';
import { lookUpStream } from './streams';
import { systemOverview, type SystemSources } from './system';

export interface ConsoleContext {
  readonly page: PageAssets;
  readonly adminToken: string | undefined;
  readonly knex: Knex;
  readonly aggregates: AggregateRegistry;
  readonly queryAdmin: QueryAdminClient;
  readonly system: SystemSources;
}

const Name = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' }) });
const MessageId = Type.Object({ messageId: Type.String({ minLength: 1, maxLength: 255 }) });
const Stream = Type.Object({
  type: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }),
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
});
const Limit = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);

/** The page (public: it holds no data and no secret) and its assets. */
export function pageRoutes(page: PageAssets) {
  return async (app: HttpServer): Promise<void> => {
    const asset = (path: string, type: string, body: string) =>
      app.get(path, { schema: { hide: true } }, async (_request, reply) =>
        reply.type(type).header('cache-control', 'no-cache').send(body),
      );
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(page.html),
    );
    asset('/assets/console.js', 'text/javascript; charset=utf-8', page.js);
    asset('/assets/console.css', 'text/css; charset=utf-8', page.css);
    asset('/assets/mermaid.min.js', 'text/javascript; charset=utf-8', page.mermaid);
  };
}

/**
 * The console's JSON API, behind ADMIN_TOKEN like `/admin/*` (unset: 403). The token travels
 * in the Authorization header, never in a cookie, so another site cannot make a browser
 * send it (no CSRF). Actions are audited with the operator the page names (`X-Operator`).
 */
export function consoleApiRoutes(ctx: ConsoleContext) {
  return async (app: HttpServer): Promise<void> => {
    app.addHook('preHandler', requireAdmin(ctx.adminToken));
    const forward = async (reply: FastifyReply, answer: Promise<AdminAnswer>) => {
      const a = await answer;
      return reply.status(a.status).type(a.contentType).send(a.body);
    };
    const operatorOf = (request: FastifyRequest) => {
      const o = request.headers['x-operator'];
      return typeof o === 'string' && o.trim() !== '' ? o.trim().slice(0, 100) : 'unnamed operator';
    };
    const audit = (request: FastifyRequest, action: string, details: Record<string, unknown>) =>
      request.log.info(
        {
          audit: {
            action,
            operator: operatorOf(request),
            ip: request.ip,
            at: new Date().toISOString(),
            ...details,
          },
        },
        `audit: ${action}`,
      );
    const tags = ['console'];

    app.get('/api/system', { schema: { tags, summary: 'Instances, backlogs and lag' } }, () =>
      systemOverview(ctx.system),
    );
    app.get('/api/aggregate-types', { schema: { tags, summary: 'Aggregate types' } }, async () => ({
      types: [...ctx.aggregates.keys()],
    }));
    app.get(
      '/api/streams/:type/:id',
      { schema: { tags, summary: 'An aggregate: events, state, statechart', params: Stream } },
      (request) => lookUpStream(ctx.knex, ctx.aggregates, request.params.type, request.params.id),
    );
    app.get(
      '/api/projections',
      { schema: { tags, summary: 'Projections (query service)' } },
      (_r, reply) => forward(reply, ctx.queryAdmin.call('GET', '/admin/projections')),
    );
    app.post(
      '/api/projections/:name/rebuild',
      { schema: { tags, summary: 'Rebuild a projection', params: Name } },
      (request, reply) => {
        audit(request, 'rebuild', { projection: request.params.name });
        return forward(
          reply,
          ctx.queryAdmin.call(
            'POST',
            `/admin/projections/${request.params.name}/rebuild`,
            operatorOf(request),
          ),
        );
      },
    );
    app.get(
      '/api/dead-letters',
      { schema: { tags, summary: 'Dead letters', querystring: Limit } },
      (request, reply) =>
        forward(
          reply,
          ctx.queryAdmin.call('GET', `/admin/dead-letters?limit=${request.query.limit ?? 100}`),
        ),
    );
    app.post(
      '/api/dead-letters/replay',
      { schema: { tags, summary: 'Replay every dead letter', querystring: Limit } },
      (request, reply) => {
        audit(request, 'replay-all-dead-letters', {});
        return forward(
          reply,
          ctx.queryAdmin.call(
            'POST',
            `/admin/dead-letters/replay?limit=${request.query.limit ?? 1000}`,
            operatorOf(request),
          ),
        );
      },
    );
    app.post(
      '/api/dead-letters/:messageId/replay',
      { schema: { tags, summary: 'Replay one dead letter', params: MessageId } },
      (request, reply) => {
        audit(request, 'replay-dead-letter', { messageId: request.params.messageId });
        return forward(
          reply,
          ctx.queryAdmin.call(
            'POST',
            `/admin/dead-letters/${encodeURIComponent(request.params.messageId)}/replay`,
            operatorOf(request),
          ),
        );
      },
    );
    app.delete(
      '/api/dead-letters/:messageId',
      { schema: { tags, summary: 'Discard one dead letter', params: MessageId } },
      (request, reply) => {
        audit(request, 'discard-dead-letter', { messageId: request.params.messageId });
        return forward(
          reply,
          ctx.queryAdmin.call(
            'DELETE',
            `/admin/dead-letters/${encodeURIComponent(request.params.messageId)}`,
            operatorOf(request),
          ),
        );
      },
    );
  };
}
