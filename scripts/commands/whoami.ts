/**
 * `judgeflow whoami`: who your changes are recorded as, and the name a spec's owners list to let
 * you steer (docs/security.md).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../platform/config';
import { cliIdentity } from './context';

const SOURCES = {
  'api-key': 'the Temporal API key (TEMPORAL_API_KEY or the profile)',
  mtls: "the Temporal connection's mTLS client certificate",
  os: 'the OS user: no Temporal credential is configured, so anyone could claim it (unverified)',
};

export function registerWhoamiCommand(cli: Command): void {
  cli
    .command('whoami')
    .description(
      "Who your changes are recorded as: the Temporal connection's API key or mTLS certificate, else the OS user (unverified).",
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const identity = cliIdentity(loadConfig());
      if (opts.json) return console.log(JSON.stringify(identity));
      console.log(
        [
          `actor   ${identity.actor}`,
          `from    ${SOURCES[identity.source]}`,
          `owners  a spec lists "${identity.principal}" in owners to let you steer its program`,
        ].join('\n'),
      );
    });
}
