// The status commands start from one bundled file: what a program manager runs again and again
// while a run goes on. Loading the Temporal client, drizzle and zod as ~500 files through tsx and
// Node's resolver took ~half of `program status`'s start; from one file with its code cache the
// command takes ~40 % less CPU (BENCHMARKS.md, "The status commands from a bundle").
//
// The bundle is built with esbuild from the sources the first time a status command runs after any
// of its inputs changed (~1.5 s, once), and kept beside the dependencies' code cache, in the user's
// own 0700 directory, under a name of its checkout. It is used while every input it was built from
// (the sources, the dependencies' files, tsconfig.json, this file) has the size, mtime, ctime and
// inode it had. Other commands run from the sources: they start workers, servers and children whose
// files are found beside the sources, which a bundle would move.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { CACHE_DIR, keyOf, ownCacheDirectory, ownDirectory, replaceFile } = require('./compile-cache');

/** The commands run from the bundle, as their first words. */
const BUNDLED_COMMANDS = [
  ['program', 'status'],
  ['judge', 'status'],
];
/** The command modules those need (scripts/cli.ts's COMMANDS for `program` and `judge`); the others stay out. */
const BUNDLED_MODULES = new Set([
  './commands/program',
  './commands/disagreements',
  './commands/judge',
  './commands/judge-run',
  './commands/judge-status',
]);
/**
 * Packages loaded from node_modules as they are: the worker SDK (native code; the CLI requires it
 * only to run a worker) and the packages that find files of their own beside themselves at run time.
 */
const EXTERNAL = ['@temporalio/worker', '@temporalio/interceptors-opentelemetry', 'pino', 'thread-stream'];

const ROOT = path.resolve(__dirname, '..');
const ENTRY = path.join(ROOT, 'scripts', 'cli.ts');
const NAME = `cli-${createHash('sha1').update(ROOT).digest('hex').slice(0, 12)}`;
const BUNDLE = path.join(CACHE_DIR, `${NAME}.js`);
const MANIFEST = path.join(CACHE_DIR, `${NAME}.json`);
/** Inputs esbuild reads without listing them as the bundle's inputs. */
const ALSO_READ = [__filename, path.join(ROOT, 'tsconfig.json'), path.join(ROOT, 'package.json')];

/** Whether `argv` (process.argv) runs a command from the bundle: its first two words. */
function runsBundled(argv) {
  const words = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  return BUNDLED_COMMANDS.some((command) => command.every((word, i) => words[i] === word));
}

/** The bundle, when it exists and was built from the inputs as they are now. */
function freshBundle() {
  try {
    if (!ownDirectory(CACHE_DIR)) return undefined;
    const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
    if (manifest.node !== process.version || manifest.bundle !== keyOf(BUNDLE)) return undefined;
    for (const [file, key] of Object.entries(manifest.inputs)) if (keyOf(file) !== key) return undefined;
    return BUNDLE;
  } catch {
    return undefined;
  }
}

/**
 * esbuild's plugin for what a bundle would otherwise change: the sources' __dirname and
 * __filename stay their own (the migrations' folder, bin/judgeflow.js), external packages are
 * required by their path in this checkout (the bundle lives elsewhere), and the command modules
 * not run from the bundle are left out of it.
 */
const asInTheSources = {
  name: 'as-in-the-sources',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\// }, (args) =>
      args.importer === ENTRY && !BUNDLED_MODULES.has(args.path)
        ? { path: args.path, namespace: 'not-bundled' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'not-bundled' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`scripts/${args.path.slice(2)} is not in the status commands' bundle (bin/cli-bundle.js)`)});`,
      loader: 'js',
    }));
    const external = new RegExp(`^(${EXTERNAL.map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})(/|$)`);
    build.onResolve({ filter: external }, (args) => ({
      path: require.resolve(args.path, { paths: [args.resolveDir] }),
      external: true,
    }));
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const contents = fs
        .readFileSync(args.path, 'utf8')
        .replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path)))
        .replace(/\b__filename\b/g, JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * The Temporal API's descriptor without its two namespaces that no status command uses: the Cloud
 * Ops API and the worker's core SDK messages (182 of its 580 KB). The client builds a protobufjs type
 * for each message of the descriptor at every start; without them `judge status` took ~12 % less CPU
 * (BENCHMARKS.md, "The status commands from a bundle"). A descriptor of another shape is kept whole.
 */
const withoutUnusedApis = {
  name: 'without-unused-apis',
  setup(build) {
    build.onLoad({ filter: /[\\/]@temporalio[\\/]proto[\\/]protos[\\/]json-module\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const start = source.indexOf('.addJSON(') + '.addJSON('.length;
      const end = source.lastIndexOf('});') + 1;
      let descriptor;
      try {
        descriptor = JSON.parse(source.slice(start, end));
      } catch {
        return undefined;
      }
      const api = descriptor.temporal?.nested?.api?.nested;
      if (!descriptor.coresdk || !api?.cloud) return undefined;
      delete descriptor.coresdk;
      delete api.cloud;
      return { contents: source.slice(0, start) + JSON.stringify(descriptor) + source.slice(end), loader: 'js' };
    });
  },
};

async function build() {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    minifyWhitespace: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [asInTheSources, withoutUnusedApis],
  });
  if (!ownCacheDirectory()) return undefined;
  replaceFile(BUNDLE, result.outputFiles[0].contents);
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs).map((input) => path.resolve(ROOT, input)), ...ALSO_READ])
    if (fs.existsSync(file)) inputs[file] = keyOf(file);
  replaceFile(MANIFEST, JSON.stringify({ root: ROOT, node: process.version, bundle: keyOf(BUNDLE), inputs }));
  try {
    pruneGoneCheckouts();
  } catch {
    // What is left costs only space, until a later build removes it.
  }
  return BUNDLE;
}

/** Removes the bundles (with their manifests and code caches) of checkouts that no longer exist. */
function pruneGoneCheckouts() {
  const files = fs.readdirSync(CACHE_DIR);
  for (const manifest of files.filter((f) => /^cli-[0-9a-f]+\.json$/.test(f))) {
    let root;
    try {
      root = JSON.parse(fs.readFileSync(path.join(CACHE_DIR, manifest), 'utf8')).root;
    } catch {
      continue; // being written, or corrupt: its own checkout's next status command replaces it
    }
    if (typeof root !== 'string' || fs.existsSync(root)) continue;
    const name = manifest.slice(0, -'.json'.length);
    for (const file of files)
      if (file === `${name}.js` || file === manifest || file.endsWith(`-${name}.cache`))
        fs.rmSync(path.join(CACHE_DIR, file), { force: true });
  }
}

/**
 * The bundled CLI to run `argv` with: its path, built first if its inputs changed; undefined for a
 * command run from the sources, or when no bundle can be built or kept here (the command then runs
 * from the sources, as it would without it).
 */
async function bundledCli(argv) {
  if (!runsBundled(argv)) return undefined;
  try {
    return freshBundle() ?? (await build());
  } catch {
    return undefined;
  }
}

module.exports = { bundledCli };
