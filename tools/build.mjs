#!/usr/bin/env node
// `npm run build`: bundles each app into dist/apps/<app>/main.js for production images.
// Our packages (@cqrs/*, resolved through tsconfig paths) are bundled in; npm dependencies
// stay external and come from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const apps = readdirSync('apps').filter((a) => existsSync(join('apps', a, 'src', 'main.ts')));
for (const app of apps) {
  const entryPoints = readdirSync(join('apps', app, 'src'))
    .filter((f) => /^(main|cli)\.ts$/.test(f))
    .map((f) => join('apps', app, 'src', f));
  await build({
    entryPoints,
    outdir: join('dist', 'apps', app),
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  console.log(
    `build: dist/apps/${app}/ (${entryPoints.map((e) => e.split('/').pop()).join(', ')})`,
  );
}
