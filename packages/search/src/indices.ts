import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { IndexNames, newGeneration, type ReadModel } from './read-model';

const BASE_SETTINGS = { number_of_shards: 1, number_of_replicas: 0 } as const;

/**
 * Installs the index templates (so every generation of a read model gets its explicit
 * mapping) and, for each read model whose alias does not exist yet, a first index behind
 * the alias. Idempotent: every instance runs it at start.
 */
export async function ensureReadModelIndices(
  client: Client,
  names: IndexNames,
  models: readonly ReadModel[],
  log?: Logger,
): Promise<void> {
  for (const model of models) {
    const name = model.projection.name;
    await client.indices.putIndexTemplate({
      name: names.template(name),
      index_patterns: [names.pattern(name)],
      // Higher than the defaults of other tools, distinct per prefix length is not needed:
      // our patterns never overlap because the prefix and model name are both fixed.
      priority: 200,
      template: {
        settings: { ...BASE_SETTINGS, ...model.settings },
        mappings: { dynamic: 'strict', ...model.mappings },
      },
    });
    const alias = names.alias(name);
    if (await client.indices.existsAlias({ name: alias })) continue;
    const index = names.index(name, newGeneration());
    try {
      await client.indices.create({
        index,
        aliases: { [alias]: { is_write_index: true } },
      });
      log?.info({ index, alias }, 'created read-model index');
    } catch (err) {
      // Another instance created it first: fine as long as the alias now exists. Ours is
      // dropped only if it was created (a second write index is refused after creation);
      // an index that already existed under this name is someone else's.
      if (!(await client.indices.existsAlias({ name: alias }))) throw err;
      if (errorType(err) === 'resource_already_exists_exception') continue;
      const owners = await client.indices.getAlias({ index, name: alias }, { ignore: [404] });
      if (Object.keys(owners ?? {}).includes(index)) continue;
      await client.indices.delete({ index, ignore_unavailable: true }).catch(() => undefined);
    }
  }
}

/** The concrete index an alias points to (undefined when the alias does not exist). */
export async function resolveAlias(client: Client, alias: string): Promise<string | undefined> {
  const res = await client.indices.getAlias({ name: alias }, { ignore: [404] });
  const indices = Object.keys(res ?? {}).filter((k) => k !== 'error' && k !== 'status');
  return indices.sort().at(-1);
}

function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
