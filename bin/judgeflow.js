#!/usr/bin/env node
// The `judgeflow` command: TypeScript sources run through tsx, so there is no build step to forget.
require('./sources');
require('../scripts/cli.ts')
  .main(process.argv)
  .catch((err) => {
    console.error(err && err.message ? err.message : err);
    process.exit(typeof err?.exitCode === 'number' ? err.exitCode : 1);
  });
