/**
 * Prints the import graph of judgeflow's own sources as JSON, for test/architecture.test.ts:
 * `{ "<file>": [{ "to": "<file>", "typeOnly": bool, "dynamic": bool }, …], … }`.
 *
 * Built by dependency-cruiser with the TypeScript parser (the TypeScript 6 API that `typescript`
 * resolves to), so `import type` and `export type … from` edges are kept and marked. It runs as its
 * own process because dependency-cruiser is ES modules only, which jest's CommonJS module system
 * cannot load.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Not part of the graph: dependencies, local state, tests and recorded histories. */
const EXCLUDE = [
  '(^|/)node_modules/',
  '^\\.data/',
  '^\\.git/',
  '^(coverage|test-artifacts|bench-results)/',
  '^test/histories/',
  '\\.test\\.ts$',
];

const result = await cruise(['.'], {
  baseDir: root,
  tsPreCompilationDeps: true, // keep imports that only bring types
  exclude: { path: EXCLUDE.join('|') },
  doNotFollow: { path: '(^|/)node_modules/' },
  skipAnalysisNotInRules: true, // the test finds the cycles itself: skip dependency-cruiser's own graph analyses
});

const graph = {};
for (const module of result.output.modules) {
  if (module.coreModule || module.couldNotResolve || /(^|\/)node_modules\//.test(module.source)) continue;
  /** One edge per target: type-only when every import of it is, dynamic when every import of it is. */
  const edges = new Map();
  for (const dep of module.dependencies) {
    if (dep.coreModule || dep.couldNotResolve || /(^|\/)node_modules\//.test(dep.resolved)) continue;
    const typeOnly = dep.dependencyTypes.includes('type-only');
    const seen = edges.get(dep.resolved);
    edges.set(dep.resolved, {
      to: dep.resolved,
      typeOnly: typeOnly && (seen?.typeOnly ?? true),
      dynamic: dep.dynamic && (seen?.dynamic ?? true),
    });
  }
  graph[module.source] = [...edges.values()];
}
process.stdout.write(JSON.stringify(graph));
