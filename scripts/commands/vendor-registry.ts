/**
 * `judgeflow vendor add|list|show|rotate-secret|remove`: the vendor records programs reference
 * (vendors/registry.ts). A secret is given as `--secret-env NAME` (the variable's name is stored)
 * or read from stdin (sealed with JUDGEFLOW_SECRET_KEY); never on the command line, where `ps` and
 * shell history would keep it. Nothing here prints a stored secret.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { vendorSpecSchema, vendorEntryProblems } from '../../schema/vendor-spec';
import {
  addVendor,
  describeVendors,
  removeVendor,
  rotateVendorSecret,
  type SecretInput,
  type VendorFields,
} from '../../vendors/registry';
import { newSecret } from '../../vendors/signing';
import { durationMs } from '../../schema/program-spec';
import { CliError, withContext, type CliContext } from './context';

const DEFAULT_GRACE = '24h';
const actorOption = [
  '--actor <label>',
  'a label for who acts, taken only when your identity is the unverified OS user (judgeflow whoami)',
] as const;

interface SecretOptions {
  secretEnv?: string;
  secretStdin?: boolean;
  generateSecret?: boolean;
}

export function registerVendorRegistryCommands(vendor: Command): void {
  vendor
    .command('add <vendorId>')
    .description(
      'Register a vendor. Its signing secret: --secret-env NAME (the name is stored), --secret-stdin (the value, sealed with JUDGEFLOW_SECRET_KEY) or --generate-secret (printed once, to give the vendor).',
    )
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--kind <kind>', 'http | label-studio')
    .requiredOption('--endpoint <url>', 'where tasks are POSTed (http) or the Label Studio base URL')
    .requiredOption('--rate-card <card>', 'USD per task kind: rate=0.5,review=1.2,write=8')
    .option('--roles <roles>', 'task kinds it takes (default rate,review)', 'rate,review')
    .option('--config <json>', 'adapter config as JSON (Label Studio: {"projectId": 3})', '{}')
    .option('--secret-env <name>', 'environment variable holding the signing secret(s), comma-separated')
    .option('--secret-stdin', 'read the signing secret from stdin')
    .option('--generate-secret', 'generate a whsec_ signing secret, seal it and print it once')
    .option('--api-token-env <name>', 'Label Studio: environment variable holding the API token')
    .option('--api-token-stdin', 'Label Studio: read the API token from stdin')
    .option(...actorOption)
    .option('--request-id <id>', 'idempotency key of the audit row')
    .action(async (vendorId: string, opts: AddOptions) => {
      const fields = vendorFields(vendorId, opts);
      if (opts.secretStdin && opts.apiTokenStdin)
        throw new CliError('stdin holds one value: give the signing secret or the API token with its -env option');
      if (opts.apiTokenStdin && fields.kind !== 'label-studio')
        throw new CliError('--api-token-stdin: only a label-studio vendor has an API token');
      const { secret: signing, generated } = await secretInput(opts, 'signing secret');
      const apiToken: SecretInput | undefined = opts.apiTokenEnv
        ? { env: opts.apiTokenEnv }
        : opts.apiTokenStdin
          ? { value: await readStdin('API token') }
          : undefined;
      await run(async ({ config, database, actor }) => {
        await addVendor(database.db, fields, { signing, apiToken }, config, by(actor, opts));
        console.log(`vendor ${vendorId} added (${fields.kind}, ${fields.endpoint}; secret ${source(signing)})`);
        if (generated) console.log(`signing secret (shown once; give it to the vendor): ${generated}`);
      });
    });

  vendor
    .command('list')
    .description('The vendors: kind, endpoint, roles, where their secrets come from, the programs using them.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await run(async ({ database }) => {
        const rows = await describeVendors(database.db);
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length) return console.log('no vendors (judgeflow vendor add)');
        console.log(`${'vendor'.padEnd(24)}${'kind'.padEnd(14)}${'roles'.padEnd(20)}${'secrets'.padEnd(30)}programs`);
        for (const v of rows)
          console.log(
            `${v.id.padEnd(24)}${v.kind.padEnd(14)}${v.roles.join(',').padEnd(20)}${v.secrets
              .map((s) => s.source)
              .join(', ')
              .padEnd(30)}${v.programs.join(', ') || '—'}`,
          );
      });
    });

  vendor
    .command('show <vendorId>')
    .description(
      'One vendor: its record, where each valid secret comes from and until when (never the secret), the programs using it.',
    )
    .option('--json', 'print JSON')
    .action(async (vendorId: string, opts: { json?: boolean }) => {
      await run(async ({ database }) => {
        const [v] = await describeVendors(database.db, vendorId);
        if (opts.json) return console.log(JSON.stringify(v, null, 2));
        console.log(
          [
            `vendor    ${v.id}${v.removedAt ? ` (removed ${v.removedAt.toISOString()})` : ''}`,
            `name      ${v.name}`,
            `kind      ${v.kind}`,
            `endpoint  ${v.endpoint ?? '—'}`,
            `roles     ${v.roles.join(', ')}`,
            `rate card ${JSON.stringify(v.rateCard)}`,
            `config    ${JSON.stringify(v.config)}`,
            `secrets   ${v.secrets.map((s, i) => `${s.purpose} ${s.source}${i === 0 && s.purpose === 'signing' ? ' (primary)' : ''}${s.expiresAt ? ` valid until ${s.expiresAt.toISOString()}` : ''}`).join('; ') || 'none'}`,
            `programs  ${v.programs.join(', ') || '—'}`,
          ].join('\n'),
        );
      });
    });

  vendor
    .command('rotate-secret <vendorId>')
    .description(
      'Replace the signing secret: the new one becomes the primary (judgeflow signs with it), the previous ones are still accepted for --grace.',
    )
    .option('--secret-env <name>', 'environment variable holding the new secret')
    .option('--secret-stdin', 'read the new secret from stdin')
    .option('--generate-secret', 'generate a whsec_ secret, seal it and print it once')
    .option('--grace <duration>', 'how long the previous secrets stay valid (0s: not at all)', DEFAULT_GRACE)
    .option('--note <text>', 'why (audit log)')
    .option(...actorOption)
    .option('--request-id <id>', 'idempotency key of the audit row')
    .action(async (vendorId: string, opts: SecretOptions & ChangeOptions & { grace: string }) => {
      const graceMs = parseGrace(opts.grace);
      const { secret, generated } = await secretInput(opts, 'new signing secret');
      await run(async ({ config, database, actor }) => {
        const until = await rotateVendorSecret(database.db, vendorId, secret, graceMs, config, by(actor, opts));
        console.log(
          `vendor ${vendorId}: the new secret (${source(secret)}) is the primary; the previous ones are accepted until ${until.toISOString()}`,
        );
        if (generated) console.log(`signing secret (shown once; give it to the vendor): ${generated}`);
      });
    });

  vendor
    .command('remove <vendorId>')
    .description(
      'Remove a vendor no program still running uses: its secrets are deleted, its record kept for its tasks.',
    )
    .option('--note <text>', 'why (audit log)')
    .option(...actorOption)
    .option('--request-id <id>', 'idempotency key of the audit row')
    .action(async (vendorId: string, opts: ChangeOptions) => {
      await run(async ({ database, actor }) => {
        await removeVendor(database.db, vendorId, by(actor, opts));
        console.log(`vendor ${vendorId} removed`);
      });
    });
}

interface ChangeOptions {
  note?: string;
  actor?: string;
  requestId?: string;
}

interface AddOptions extends SecretOptions, ChangeOptions {
  name: string;
  kind: string;
  endpoint: string;
  rateCard: string;
  roles: string;
  config: string;
  apiTokenEnv?: string;
  apiTokenStdin?: boolean;
}

/** The record's fields from the flags, checked as a spec's inline vendor is; every problem listed. */
function vendorFields(id: string, opts: AddOptions): VendorFields {
  let config: unknown;
  try {
    config = JSON.parse(opts.config);
  } catch {
    throw new CliError(`--config: not JSON: ${opts.config}`);
  }
  const rateCard = Object.fromEntries(
    opts.rateCard.split(',').map((part) => {
      const [kind, usd] = part.split('=').map((s) => s.trim());
      return [kind, usd === undefined || usd === '' ? NaN : Number(usd)];
    }),
  );
  const input = {
    id,
    name: opts.name,
    kind: opts.kind,
    endpoint: opts.endpoint,
    rateCard,
    roles: opts.roles.split(',').map((r) => r.trim()),
    config,
    secretEnv: opts.secretEnv,
  };
  const parsed = vendorSpecSchema.safeParse(input);
  const problems = parsed.success
    ? vendorEntryProblems({ ...input, secretEnv: 'GIVEN' }, [input], 0).map((p) => p.message)
    : parsed.error.issues.map((i) => `${flag(i.path)}: ${i.message}`);
  if (!parsed.success || problems.length)
    throw new CliError(`vendor ${id} cannot be added:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const { secretEnv: _secretEnv, secret: _secret, ...fields } = parsed.data;
  // Complete: vendorEntryProblems found no missing field.
  return fields as VendorFields;
}

/** The flag an issue's path came from, with the part of its value: `--rate-card (rate)`. */
const flag = (path: PropertyKey[]) =>
  `${{ id: '<vendorId>', rateCard: '--rate-card', secretEnv: '--secret-env' }[String(path[0])] ?? `--${String(path[0])}`}${
    path.length > 1 ? ` (${path.slice(1).map(String).join('.')})` : ''
  }`;

/** The one secret the options give; a generated one is returned to be shown once. */
async function secretInput(opts: SecretOptions, what: string): Promise<{ secret: SecretInput; generated?: string }> {
  const given = [opts.secretEnv, opts.secretStdin, opts.generateSecret].filter(Boolean).length;
  if (given !== 1)
    throw new CliError(`the ${what}: give one of --secret-env NAME, --secret-stdin or --generate-secret`);
  if (opts.generateSecret) {
    const generated = newSecret();
    return { secret: { value: generated }, generated };
  }
  return { secret: opts.secretEnv ? { env: opts.secretEnv } : { value: await readStdin(what) } };
}

/** One value from stdin (a pipe, or typed and ended with Ctrl-D); its surrounding whitespace is not part of it. */
async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what} (then Enter and Ctrl-D): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks).toString('utf8').trim();
  if (!value) throw new CliError(`no ${what} on stdin`);
  return value;
}

function parseGrace(grace: string): number {
  try {
    return durationMs(grace);
  } catch {
    throw new CliError(`--grace: expected a duration like 90s, 30m, 24h or 3d, got "${grace}"`);
  }
}

const source = (s: SecretInput) => ('env' in s ? `env ${s.env}` : 'sealed');

const by = (actor: CliContext['actor'], opts: ChangeOptions) => ({
  actor: actor(opts.actor),
  requestId: opts.requestId ?? randomUUID(),
  note: opts.note,
});

/** Registry refusals and unreadable secrets carry exit code 2 and their message (bin/judgeflow.js prints it). */
const run = (fn: (ctx: CliContext) => Promise<void>) => withContext(fn, { temporal: false });
