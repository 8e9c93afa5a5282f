import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { machineDocs } from './machine-docs';

/** `npm run docs:machines`: writes docs/machines/<type>.md for every hotel aggregate. */
const MACHINE_DOCS_DIR = resolve(__dirname, '../../../../docs/machines');

mkdirSync(MACHINE_DOCS_DIR, { recursive: true });
for (const [file, content] of machineDocs()) {
  writeFileSync(join(MACHINE_DOCS_DIR, file), content);
  process.stdout.write(`wrote docs/machines/${file}\n`);
}
