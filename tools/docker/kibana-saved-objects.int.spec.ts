import { readModels } from '@cqrs/hotel-read-models';
import { ensureReadModelIndices, IndexNames } from '@cqrs/search';
import { createTestIndexPrefix, type TestIndexPrefix } from '@cqrs/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The Kibana saved objects (docker/kibana/hotel.ndjson) against what the query service
// really creates: its indices are ensured under a prefix of our own, their live mappings
// read back, and every name the saved objects use - data view titles, time fields,
// aggregated fields, fields in queries, references - must exist there and fit its use.
const file = join(__dirname, '..', '..', 'docker', 'kibana', 'hotel.ndjson');
const DEFAULT_PREFIX = 'cqrs';

interface SavedObject {
  type: string;
  id: string;
  attributes: {
    title: string;
    timeFieldName?: string;
    visState?: string;
    kibanaSavedObjectMeta?: { searchSourceJSON: string };
  };
  references: { name: string; type: string; id: string }[];
}

interface Property {
  type?: string;
  properties?: Record<string, Property>;
  fields?: Record<string, Property>;
}

/** Every field of a mapping by dotted name (multi-fields such as `name.keyword` included). */
function fieldsOf(properties: Record<string, Property>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, p] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    if (p.properties) for (const [k, v] of fieldsOf(p.properties, `${path}.`)) out.set(k, v);
    else out.set(path, p.type ?? 'object');
    for (const [sub, f] of Object.entries(p.fields ?? {})) out.set(`${path}.${sub}`, f.type ?? '');
  }
  return out;
}

const AGGREGATABLE = new Set([
  'keyword',
  'date',
  'long',
  'integer',
  'short',
  'double',
  'float',
  'boolean',
]);

describe('docker/kibana saved objects', () => {
  let es: TestIndexPrefix;
  const objects: SavedObject[] = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SavedObject);
  const fieldsByDataView = new Map<string, Map<string, string>>();

  beforeAll(async () => {
    es = await createTestIndexPrefix('kibana');
    const names = new IndexNames(es.prefix);
    await ensureReadModelIndices(es.client, names, readModels);
    for (const view of objects.filter((o) => o.type === 'index-pattern')) {
      // Each data view names an alias of the default prefix; ours stands for it here.
      const alias = view.attributes.title.replace(`${DEFAULT_PREFIX}-`, `${es.prefix}-`);
      expect({
        view: view.id,
        alias: await es.client.indices.existsAlias({ name: alias }),
      }).toEqual({ view: view.id, alias: true });
      const mapping = await es.client.indices.getMapping({ index: alias });
      const properties = Object.values(mapping)[0]!.mappings.properties as Record<string, Property>;
      fieldsByDataView.set(view.id, fieldsOf(properties));
    }
  }, 60_000);

  afterAll(() => es.drop());

  it('has a data view on the alias of every read model, each with a date time field', () => {
    const titles = objects.filter((o) => o.type === 'index-pattern').map((o) => o.attributes.title);
    expect(titles.sort()).toEqual(
      readModels.map((m) => `${DEFAULT_PREFIX}-${m.projection.name}`).sort(),
    );
    for (const view of objects.filter((o) => o.type === 'index-pattern')) {
      const time = view.attributes.timeFieldName!;
      expect({ view: view.id, time, type: fieldsByDataView.get(view.id)!.get(time) }).toEqual({
        view: view.id,
        time,
        type: 'date',
      });
    }
  });

  it('aggregates and queries only fields the referenced data view maps, aggregatable ones', () => {
    const visualizations = objects.filter((o) => o.type === 'visualization');
    expect(visualizations.length).toBeGreaterThan(0);
    for (const vis of visualizations) {
      const ref = vis.references.find((r) => r.type === 'index-pattern')!;
      const fields = fieldsByDataView.get(ref.id);
      expect({ vis: vis.id, dataView: ref.id, known: fields !== undefined }).toEqual({
        vis: vis.id,
        dataView: ref.id,
        known: true,
      });
      const aggs = (
        JSON.parse(vis.attributes.visState!) as {
          aggs: { params: { field?: string } }[];
        }
      ).aggs.flatMap((a) => (a.params.field ? [a.params.field] : []));
      const search = JSON.parse(vis.attributes.kibanaSavedObjectMeta!.searchSourceJSON) as {
        query: { query: string };
      };
      const queried = [...search.query.query.matchAll(/([\w.]+)\s*:/g)].map((m) => m[1]!);
      for (const field of [...aggs, ...queried]) {
        const type = fields!.get(field);
        expect({ vis: vis.id, field, mapped: type !== undefined }).toEqual({
          vis: vis.id,
          field,
          mapped: true,
        });
        if (aggs.includes(field)) {
          expect({ vis: vis.id, field, aggregatable: AGGREGATABLE.has(type!) }).toEqual({
            vis: vis.id,
            field,
            aggregatable: true,
          });
        }
      }
    }
  });

  it('references only saved objects the file holds', () => {
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    for (const o of objects) {
      for (const r of o.references) expect(ids.has(`${r.type}:${r.id}`)).toBe(true);
    }
  });
});
