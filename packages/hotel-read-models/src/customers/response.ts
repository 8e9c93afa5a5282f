import { ListResponse, Nullable } from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';
import type { CustomerView } from './projection';

const S = Nullable(Type.String());

export const CustomerResponse = Type.Object({
  id: Type.String(),
  name: S,
  email: S,
  phone: S,
  status: S,
  registeredAt: S,
  version: Type.Integer(),
  updatedAt: S,
});
export type CustomerResponse = Static<typeof CustomerResponse>;

export const CustomerListResponse = ListResponse(CustomerResponse);

export const customerResponse = (d: CustomerView): CustomerResponse => ({
  id: d.id,
  name: d.name,
  email: d.email,
  phone: d.phone,
  status: d.status,
  registeredAt: d.registeredAt,
  version: d.version,
  updatedAt: d.updatedAt,
});
