import { DependencyUnavailableError } from '@cqrs/core';
import { errorHandler, type HttpServer } from '@cqrs/http';
import { errors } from '@elastic/elasticsearch';

/**
 * Elasticsearch errors carry HTTP status codes of their own, which must not leak as ours:
 * an unreachable or overloaded cluster is a 503; any other refusal is our bug (500, logged).
 */
export function elasticsearchErrors(app: HttpServer): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof errors.ResponseError) {
      const status = error.statusCode ?? 500;
      const mapped =
        status === 429 || status >= 500
          ? new DependencyUnavailableError('elasticsearch', `Elasticsearch answered ${status}`, {
              cause: error,
            })
          : new Error(`Elasticsearch refused a query: ${error.message}`, { cause: error });
      return errorHandler(mapped, request, reply);
    }
    if (error instanceof errors.ElasticsearchClientError) {
      return errorHandler(
        new DependencyUnavailableError('elasticsearch', error.message, { cause: error }),
        request,
        reply,
      );
    }
    return errorHandler(error, request, reply);
  });
}
