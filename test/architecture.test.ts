/**
 * The shape of the code base, checked like behaviour:
 * - no import cycles among the sources (tests excluded), counting `import type` edges too: a cycle
 *   through types still means two modules that cannot be understood or moved one without the other;
 * - no source file over 500 lines, outside tests, test fixtures and generated code.
 *
 * Needs no services: it reads files only.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const MAX_LINES = 500;

interface Edge {
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}
type Graph = Record<string, Edge[]>;

/** The import graph from dependency-cruiser (test/import-graph.mjs, run as its own process). */
async function importGraph(): Promise<Graph> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'import-graph.mjs')], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Graph;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const { to } of graph[node] ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph[node] ?? []).some((e) => e.to === node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const node of Object.keys(graph).sort()) if (!index.has(node)) visit(node);
  return components;
}

/** One concrete loop through a component's first module (shortest, by breadth-first search), as text. */
function describeCycle(graph: Graph, component: string[]): string {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, { from: string; edge: Edge }>();
  const queue = [start];
  let closing: { from: string; edge: Edge } | undefined;
  while (queue.length && !closing) {
    const node = queue.shift()!;
    for (const edge of graph[node] ?? []) {
      if (!members.has(edge.to)) continue;
      if (edge.to === start) {
        closing = { from: node, edge };
        break;
      }
      if (!previous.has(edge.to)) {
        previous.set(edge.to, { from: node, edge });
        queue.push(edge.to);
      }
    }
  }
  const label = (e: Edge) => (e.typeOnly ? ' (import type)' : e.dynamic ? ' (dynamic import)' : '');
  const steps: string[] = [];
  for (let step = closing; step; step = step.from === start ? undefined : previous.get(step.from))
    steps.unshift(`→ ${step.edge.to}${label(step.edge)}`);
  const others =
    component.length > steps.length
      ? `\n    (all ${component.length} modules of this circle: ${component.join(', ')})`
      : '';
  return `  ${start}\n    ${steps.join('\n    ')}${others}`;
}

/** Source files of the project, outside dependencies, local state, tests, fixtures and generated code. */
function sourceFiles(dir = ROOT, rel = ''): string[] {
  const skipDirs = new Set([
    'node_modules',
    '.data',
    '.git',
    'coverage',
    'test-artifacts',
    'bench-results',
    '__fixtures__',
  ]);
  const skipPaths = new Set(['test', 'schema/migrations']);
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name) && !skipPaths.has(relPath))
        files.push(...sourceFiles(path.join(dir, entry.name), relPath));
    } else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
      files.push(relPath);
    }
  }
  return files;
}

const lineCount = (text: string) => (text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));

describe('architecture', () => {
  test('no import cycles (type-only imports count)', async () => {
    const graph = await importGraph();
    expect(Object.keys(graph)).toEqual(expect.arrayContaining(['workflows/index.ts', 'workers/worker.ts']));
    const found = cycles(graph);
    if (found.length)
      throw new Error(
        `${found.length} import cycle(s):\n${found.map((c) => describeCycle(graph, c)).join('\n')}\n` +
          'Break each by moving what both sides need into a module of its own (types included).',
      );
  });

  test(`no source file over ${MAX_LINES} lines (tests, test/, __fixtures__ and schema/migrations aside)`, () => {
    const files = sourceFiles();
    expect(files).toEqual(expect.arrayContaining(['workflows/index.ts', 'eslint.config.mjs']));
    const long = files
      .map((file) => ({ file, lines: lineCount(fs.readFileSync(path.join(ROOT, file), 'utf8')) }))
      .filter((f) => f.lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines);
    if (long.length)
      throw new Error(
        `${long.length} file(s) over ${MAX_LINES} lines — split them by what changes together:\n` +
          long.map((f) => `  ${f.file}: ${f.lines} lines`).join('\n'),
      );
  });

  test('the cycle finder finds cycles, type-only ones included', () => {
    const edge = (to: string, typeOnly = false): Edge => ({ to, typeOnly, dynamic: false });
    const graph: Graph = {
      'a.ts': [edge('b.ts')],
      'b.ts': [edge('c.ts'), edge('d.ts')],
      'c.ts': [edge('a.ts', true)],
      'd.ts': [edge('d.ts')],
      'e.ts': [edge('a.ts')],
    };
    expect(cycles(graph)).toEqual([['d.ts'], ['a.ts', 'b.ts', 'c.ts']]);
    expect(describeCycle(graph, ['a.ts', 'b.ts', 'c.ts'])).toBe(
      '  a.ts\n    → b.ts\n    → c.ts\n    → a.ts (import type)',
    );
    expect(cycles({ 'a.ts': [edge('b.ts')], 'b.ts': [] })).toEqual([]);
  });
});
