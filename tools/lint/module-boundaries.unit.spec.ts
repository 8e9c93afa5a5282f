import { Linter } from 'eslint';
import { join } from 'node:path';
import tseslint from 'typescript-eslint';

// The rule as eslint.config.mjs enables it, run by ESLint's Linter on virtual files.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const boundaries = require('./module-boundaries.cjs') as Linter.Config['plugins'] & object;

const root = join(__dirname, '../..');
const linter = new Linter({ cwd: root });
const config: Linter.Config[] = [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser as Linter.Parser },
    plugins: { boundaries },
    rules: { 'boundaries/module-boundaries': 'error' },
  },
];

/** The rule's messages for `code` as if it were the file at `path` (relative to the repo). */
function lint(path: string, code: string): string[] {
  return linter
    .verify(code, config, { filename: join(root, path) })
    .map((m) => `${m.ruleId ?? 'parser'}: ${m.message}`);
}

describe('module boundaries (Nx type tags)', () => {
  it('fails on a domain package importing infrastructure', () => {
    expect(
      lint('packages/hotel/src/x.ts', "import { createKnex } from '@cqrs/event-store';"),
    ).toEqual([
      'boundaries/module-boundaries: @cqrs/hotel (type:domain) must not import @cqrs/event-store (type:infrastructure)',
    ]);
  });

  it('fails on anything importing an app', () => {
    expect(
      lint('packages/search/src/x.ts', "export { buildCommandApp } from '@cqrs/command-service';"),
    ).toEqual([
      'boundaries/module-boundaries: @cqrs/search (type:infrastructure) must not import @cqrs/command-service (type:app)',
    ]);
    expect(lint('tools/bench/x.ts', "import '@cqrs/query-service';")).toEqual([
      'boundaries/module-boundaries: tools/bench (type:tool) must not import @cqrs/query-service (type:app)',
    ]);
  });

  it('fails on relative paths into another project and on deep imports', () => {
    expect(lint('tools/bench/x.ts', "import { stackUp } from '../stack/stack';")).toEqual([
      'boundaries/module-boundaries: Import @cqrs/stack through its face, not by a relative path out of tools/bench',
    ]);
    expect(
      lint('apps/query-service/src/x.ts', "import { x } from '@cqrs/search/src/engine';"),
    ).toEqual([
      'boundaries/module-boundaries: Import @cqrs/search from its face "@cqrs/search", not a path inside it',
    ]);
  });

  it('lets only tests and tools import the test fixtures face of a package', () => {
    expect(
      lint('apps/outbox-relay/src/x.ts', "import { seedOutbox } from '@cqrs/outbox/testing';"),
    ).toEqual([
      'boundaries/module-boundaries: @cqrs/outbox/testing holds test fixtures: only tests and tools may import it',
    ]);
    expect(
      lint(
        'apps/outbox-relay/src/x.e2e.spec.ts',
        "import { seedOutbox } from '@cqrs/outbox/testing';",
      ),
    ).toEqual([]);
    expect(lint('tools/bench/x.ts', "import { seedOutbox } from '@cqrs/outbox/testing';")).toEqual(
      [],
    );
    expect(
      lint('apps/query-service/src/x.ts', "import { x } from '@cqrs/search/testing';"),
    ).toEqual([
      'boundaries/module-boundaries: Import @cqrs/search from its face "@cqrs/search", not a path inside it',
    ]);
  });

  it('passes the imports the layering allows', () => {
    expect(
      lint('packages/hotel/src/x.ts', "import { defineAggregate } from '@cqrs/aggregates';"),
    ).toEqual([]);
    expect(
      lint('apps/command-service/src/x.ts', "import { hotelAggregates } from '@cqrs/hotel';"),
    ).toEqual([]);
    expect(
      lint('packages/amqp/src/x.int.spec.ts', "import { createTestVhost } from '@cqrs/testing';"),
    ).toEqual([]);
    expect(
      lint('packages/hotel/src/room/x.ts', "import { Label } from '../shared/fields';"),
    ).toEqual([]);
  });
});
