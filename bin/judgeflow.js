#!/usr/bin/env node
// The `judgeflow` command: TypeScript sources run through tsx, so there is no build step to forget;
// the status commands from a bundle of them that is rebuilt whenever they change (bin/cli-bundle.js).
const path = require('node:path');
const { bundledCli } = require('./cli-bundle');

async function cli() {
  const bundle = await bundledCli(process.argv);
  if (bundle) {
    // Its code cache in a file of its own: the dependencies' cache, read whole at each start, is ten
    // times its size. Not from a help run, whose cache would hold the help's functions and not the status's.
    if (!process.argv.some((arg) => arg === '--help' || arg === '-h'))
      require('./compile-cache').useCompileCache((filename) => filename === bundle, path.basename(bundle, '.js'));
    return require(bundle);
  }
  require('./sources');
  return require('../scripts/cli.ts');
}

cli()
  .then(({ main }) => main(process.argv))
  .catch((err) => {
    console.error(err && err.message ? err.message : err);
    process.exit(typeof err?.exitCode === 'number' ? err.exitCode : 1);
  });
