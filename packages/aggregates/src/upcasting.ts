import type { AnyAggregateDefinition } from './definition';
import { currentSchemaVersion } from './definition';

/**
 * Brings an event's data from the schema version it was written with to the current one,
 * one step at a time. Events written by newer code (a higher version) are refused: this
 * process cannot know their meaning.
 */
export function upcast(
  definition: AnyAggregateDefinition,
  eventType: string,
  schemaVersion: number,
  data: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const current = currentSchemaVersion(definition, eventType);
  if (schemaVersion === current) return data;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(
      `${definition.type} event ${eventType} has schema version ${schemaVersion}; ` +
        `this code knows versions 1-${current}`,
    );
  }
  const steps = definition.upcasters[eventType] ?? [];
  let upcasted = data;
  for (let v = schemaVersion; v < current; v++) upcasted = steps[v - 1]!(upcasted);
  return upcasted;
}
