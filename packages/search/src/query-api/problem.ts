import { Type } from '@sinclair/typebox';

/** The problem+json body a query route may answer with (RFC 9457; extensions allowed). */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
  },
  { additionalProperties: true },
);

/** The error statuses of every query route: bad input, unknown id, no cluster, gate timeout. */
export const errorResponses = { 400: Problem, 404: Problem, 503: Problem, 504: Problem };
