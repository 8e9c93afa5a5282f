// @ts-check
'use strict';
/**
 * The module boundaries of docs/architecture.md, enforced by ESLint from the projects' Nx tags
 * (`nx.tags` in each package.json). Every project has exactly one `type:` tag; a project may
 * import another only when its type allows the other's type (`allowed` below). Imports go
 * through a project's face (`@cqrs/<name>`): a relative path into another project's files, or
 * a deep path (`@cqrs/x/src/...`), is an error too (a relative path to the face itself is
 * allowed for loaders without the aliases, such as Jest's global setup). A package may have a
 * second face for its test fixtures, `@cqrs/<name>/testing` (`src/testing/index.ts`): only tests
 * and tools may import it. Tools (`tools/<name>/`) are projects of type
 * `tool`; `tools/testing` is `@cqrs/testing`, `tools/stack` is `@cqrs/stack`.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Which project types each project type may import. */
const allowed = {
  // Shared contracts: messages, errors, ports, config. Depends on nothing of ours.
  'type:kernel': [],
  // Aggregates and the domain: pure, no I/O libraries of ours.
  'type:domain': ['type:kernel', 'type:domain'],
  // MySQL, RabbitMQ, Elasticsearch, HTTP, tracing: never the domain, never an app.
  'type:infrastructure': ['type:kernel', 'type:infrastructure'],
  // Binds a domain to infrastructure (the hotel's read models on the search engine).
  'type:adapter': ['type:kernel', 'type:domain', 'type:infrastructure', 'type:adapter'],
  // Composition roots.
  'type:app': ['type:kernel', 'type:domain', 'type:infrastructure', 'type:adapter'],
  // The local stack, test harness, benchmarks, demo: anything but an app.
  'type:tool': ['type:kernel', 'type:domain', 'type:infrastructure', 'type:adapter', 'type:tool'],
};
/** Tests may also use the test harness (a tool). */
const allowedInTests = ['type:tool'];

const ROOT = path.resolve(__dirname, '../..');

/** Tools with a face (aliases in tsconfig.base.json and jest.config.js). */
/** @type {Record<string, string>} */
const toolFaces = { testing: '@cqrs/testing', stack: '@cqrs/stack' };

/** @typedef {{ name: string, root: string, type: string }} Project */

/** @returns {Project[]} */
function readProjects(root) {
  /** @type {Project[]} */
  const projects = [];
  for (const group of ['packages', 'apps', 'tools']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const projectRoot = path.join(dir, entry.name);
      const manifest = path.join(projectRoot, 'package.json');
      if (group === 'tools' && !fs.existsSync(manifest)) {
        const name = toolFaces[entry.name] ?? `tools/${entry.name}`;
        projects.push({ name, root: projectRoot, type: 'type:tool' });
        continue;
      }
      if (!fs.existsSync(manifest)) continue;
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      const types = (pkg.nx?.tags ?? []).filter((/** @type {string} */ t) => t.startsWith('type:'));
      if (types.length !== 1 || !(types[0] in allowed)) {
        throw new Error(
          `${manifest}: nx.tags needs exactly one of ${Object.keys(allowed).join(', ')}`,
        );
      }
      projects.push({ name: pkg.name, root: projectRoot, type: types[0] });
    }
  }
  return projects;
}

/** @type {Project[] | undefined} */
let cached;

/** A path naming a project's face (its root or its `index.ts`), where a loader knows no aliases. */
const isFace = (/** @type {Project} */ p, /** @type {string} */ target) =>
  [p.root, path.join(p.root, 'index'), path.join(p.root, 'src'), path.join(p.root, 'src/index')]
    .flatMap((f) => [f, `${f}.ts`])
    .includes(target);

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Imports respect the project types of the Nx tags (docs/architecture.md)',
    },
    schema: [],
    messages: {
      forbidden: '{{from}} ({{fromType}}) must not import {{to}} ({{toType}})',
      relative: 'Import {{to}} through its face, not by a relative path out of {{from}}',
      deep: 'Import {{to}} from its face "{{face}}", not a path inside it',
      testingFace: '{{to}} holds test fixtures: only tests and tools may import it',
    },
  },
  create(context) {
    const projects = (cached ??= readProjects(ROOT));
    const byPath = (/** @type {string} */ file) =>
      projects.find((p) => file === p.root || file.startsWith(p.root + path.sep));
    const faces = new Map(projects.map((p) => [p.name, p]));
    const file = path.resolve(context.cwd, context.filename);
    const from = byPath(file);
    if (!from) return {};
    const isTest = /\.spec\.ts$/.test(file);

    /** @param {import('estree').Node} node @param {unknown} source */
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      /** @type {Project | undefined} */
      let to;
      if (source.startsWith('.')) {
        const target = path.resolve(path.dirname(file), source);
        to = byPath(target);
        if (to && to !== from && !isFace(to, target)) {
          context.report({ node, messageId: 'relative', data: { to: to.name, from: from.name } });
          return;
        }
      } else if (source.startsWith('@cqrs/')) {
        const face = source.split('/').slice(0, 2).join('/');
        to = faces.get(face);
        const testingFace =
          to !== undefined &&
          source === `${face}/testing` &&
          fs.existsSync(path.join(to.root, 'src/testing/index.ts'));
        if (testingFace && to !== from && !isTest && from.type !== 'type:tool') {
          context.report({ node, messageId: 'testingFace', data: { to: source } });
          return;
        }
        if (to && source !== face && !testingFace) {
          context.report({ node, messageId: 'deep', data: { to: to.name, face } });
          return;
        }
      }
      if (!to || to === from) return;
      const ok = allowed[/** @type {keyof typeof allowed} */ (from.type)];
      if (ok.includes(to.type) || (isTest && allowedInTests.includes(to.type))) return;
      context.report({
        node,
        messageId: 'forbidden',
        data: { from: from.name, fromType: from.type, to: to.name, toType: to.type },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

module.exports = { rules: { 'module-boundaries': rule }, allowed };
