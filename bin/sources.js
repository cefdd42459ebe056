// Runs the TypeScript sources through tsx's CommonJS hook and loads the dependencies as Node does.
// tsx's hook would also scan every dependency's .js file for ESM syntax (with its JavaScript lexer:
// its WebAssembly one is not ready at start-up) and resolve each of their requires through its own
// resolver, and Node would read and index every dependency's source map: together about half of
// the time `program status` took to load the Temporal client, drizzle and zod (BENCHMARKS.md).
const Module = require('node:module');
const path = require('node:path');
const { useCompileCache } = require('./compile-cache');

const DEPENDENCY = `${path.sep}node_modules${path.sep}`;
const nodeLoadJs = Module._extensions['.js'];
const nodeResolve = Module._resolveFilename;
useCompileCache((filename) => filename.includes(DEPENDENCY));
require('tsx/cjs');
const tsxLoadJs = Module._extensions['.js'];
const tsxResolve = Module._resolveFilename;

Module._extensions['.js'] = function loadJs(module, filename) {
  if (!filename.includes(DEPENDENCY)) return tsxLoadJs.call(this, module, filename);
  const maps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    return nodeLoadJs.call(this, module, filename);
  } finally {
    process.setSourceMapsEnabled(maps);
  }
};

// A dependency requires only JavaScript, as it would without tsx.
Module._resolveFilename = function resolveFilename(request, parent, ...rest) {
  return (parent?.filename?.includes(DEPENDENCY) ? nodeResolve : tsxResolve).call(this, request, parent, ...rest);
};
