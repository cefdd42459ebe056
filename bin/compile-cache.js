// A V8 code cache for the dependencies' CommonJS files (Node 20 has no module.enableCompileCache):
// compiling the Temporal client, gRPC, protobufjs, drizzle and zod took about a quarter of
// `program status`'s start (BENCHMARKS.md). Each file's cache is kept after the process ran, so it
// holds the functions that ran too, and is used while the file's size, mtime, ctime and inode are
// unchanged (any rewrite changes its ctime; npm's fixed mtimes alone would not tell). The cache is
// one file in a directory of the user's own under the temporary directory; when it cannot be used
// (missing, read-only, owned by someone else, corrupt) the files compile as they would without it.
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
const DIR = path.join(os.tmpdir(), `judgeflow-compile-cache-${uid}`);
// Code caches are V8's own format, and V8 refuses one made under other flags: one file per Node
// version, architecture and set of Node flags (the worker's --max-semi-space-size would otherwise
// throw away the CLI's cache at each start, and the CLI the worker's).
// Node's options that leave V8's flags alone (loading, evaluating, profiling) do not count.
const NODE_ONLY =
  /^--(require|import|loader|experimental-loader|eval|print|cpu-prof|heap-prof|inspect|enable-source-maps|title)\b/;
const FLAGS = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  .filter((arg) => arg.startsWith('--') && !NODE_ONLY.test(arg))
  .sort()
  .join(' ');
/** The cache file of a set of files (`name`: one of its own for the status commands' bundle, bin/cli-bundle.js). */
const fileOf = (name) =>
  path.join(
    DIR,
    `${process.version}-${process.arch}${FLAGS ? `-${createHash('sha1').update(FLAGS).digest('hex').slice(0, 8)}` : ''}${name ? `-${name}` : ''}.cache`,
  );
/** The cache file in use (useCompileCache). */
let file;
/** Past this size, older entries (other versions of the dependencies, other commands' files) are dropped. */
const MAX_BYTES = 256 << 20;

/** The cache as read: filename → [key, offset, length] into `blob`. */
let index = {};
let blob = Buffer.alloc(0);
/** Files compiled without a usable cache in this process: filename → [key, script]. */
const produced = new Map();

/** Only a directory that is ours and that no one else may write to: a code cache is code. */
function ownDirectory(dir) {
  const st = fs.lstatSync(dir);
  return st.isDirectory() && (typeof uid !== 'number' || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** The cache directory, made if missing; false when it is not ours alone (a code cache is code). */
function ownCacheDirectory() {
  // Not { recursive: true }: on Node 20 it never returns under a directory such as /proc.
  if (!fs.existsSync(DIR)) fs.mkdirSync(DIR, { mode: 0o700 });
  return ownDirectory(DIR);
}

/** Writes `data` to `target` at once (concurrent writers: the last wins, and no reader sees half a file). */
function replaceFile(target, data) {
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(temporary, data, { mode: 0o600 });
    fs.renameSync(temporary, target);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

function read() {
  try {
    if (!ownDirectory(DIR)) return;
    const data = fs.readFileSync(file);
    const headerLength = data.readUInt32LE(0);
    index = JSON.parse(data.toString('utf8', 4, 4 + headerLength));
    blob = data.subarray(4 + headerLength);
  } catch {
    index = {};
  }
}

/** What a file's cache must match: any rewrite of the file changes it. */
function keyOf(filename) {
  const st = fs.statSync(filename, { bigint: true });
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
}

function cachedData(filename, key) {
  const entry = index[filename];
  return entry && entry[0] === key ? blob.subarray(entry[1], entry[1] + entry[2]) : undefined;
}

/** The `require` a module's code is given, as Node makes it (its internal makeRequireFunction). */
function requireFor(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

/**
 * Compiles and runs a dependency's file as Module.prototype._compile would, with its code cache;
 * false when it is left to Node (a shebang or byte order mark, which the wrapper would break; ESM
 * syntax, which Node itself retries as a module).
 */
function compileCached(module, content, filename) {
  if (content.startsWith('#!') || content.charCodeAt(0) === 0xfeff) return false;
  const key = keyOf(filename);
  let script;
  try {
    script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData: cachedData(filename, key),
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
  if (!index[filename] || index[filename][0] !== key || script.cachedDataRejected)
    produced.set(filename, [key, script]);
  const fn = script.runInThisContext({ displayErrors: true });
  fn.call(module.exports, module.exports, requireFor(module), module, filename, path.dirname(filename));
  return true;
}

/** Adds what this process compiled to the cache, replacing the file at once (concurrent writers: the last wins). */
function write() {
  if (!produced.size) return;
  try {
    if (!ownCacheDirectory()) return;
    const parts = [];
    const next = {};
    let offset = 0;
    const add = (filename, key, data) => {
      next[filename] = [key, offset, data.length];
      parts.push(data);
      offset += data.length;
    };
    for (const [filename, [key, script]] of produced) add(filename, key, script.createCachedData());
    for (const [filename, [key, start, length]] of Object.entries(index))
      if (!next[filename] && offset + length <= MAX_BYTES) add(filename, key, blob.subarray(start, start + length));
    const header = Buffer.from(JSON.stringify(next));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    replaceFile(file, Buffer.concat([length, header, ...parts]));
  } catch {
    // A cache that cannot be written is no cache: the next run compiles as this one did.
  }
}

/**
 * Sends the compilation of the files `isCached` accepts (the dependencies' files under node_modules)
 * through the cache; `name` keeps them in a cache file of their own.
 */
function useCompileCache(isCached, name) {
  file = fileOf(name);
  read();
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (isCached(filename) && compileCached(this, content, filename)) return undefined;
    return compile.call(this, content, filename);
  };
  process.once('exit', write);
}

module.exports = { useCompileCache, CACHE_DIR: DIR, keyOf, ownDirectory, ownCacheDirectory, replaceFile };
