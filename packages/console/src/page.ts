import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PageAssets {
  readonly html: string;
  readonly js: string;
  readonly css: string;
  readonly mermaid: string;
}

/**
 * The console's front end: a Preact app (src/web) bundled by esbuild when the console starts
 * (well under a second), its stylesheet, and Mermaid's browser build straight from
 * node_modules - nothing is fetched from a CDN, the page works offline.
 */
export async function buildPage(): Promise<PageAssets> {
  const web = join(__dirname, 'web');
  const bundle = await build({
    entryPoints: [join(web, 'main.tsx')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [css, mermaid] = await Promise.all([
    readFile(join(web, 'console.css'), 'utf8'),
    readFile(require.resolve('mermaid/dist/mermaid.min.js'), 'utf8'),
  ]);
  return { html: HTML, js: bundle.outputFiles[0]!.text, css, mermaid };
}

// No inline script or style: the Content-Security-Policy below allows only our own files
// (Mermaid writes style attributes into its SVG, hence 'unsafe-inline' for styles alone).
const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cqrs-platform console</title>
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<div id="app"></div>
<script src="/assets/mermaid.min.js"></script>
<script src="/assets/console.js"></script>
</body>
</html>
`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
