/**
 * `judgeflow rater list|pause|reinstate`: the raters QA watches. `list` shows each rater's vendor,
 * status, gold answers, gold accuracy with its 95% Wilson interval, drift flag and (with --program)
 * qualification; `pause` and `reinstate` record who and why (rater_actions). A reinstated rater is
 * judged only on gold answers given afterwards, so QA does not pause them again on old evidence.
 * rater-qa imports only what the CLI loads already (drizzle, the schema, stats/); a lazy import()
 * would not load under bin/judgeflow.js's CommonJS hook (see disagreements.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { listRaters, pauseRater, reinstateRater, type RaterListing } from '../../human-tasks/rater-qa';
import { CliError, withContext } from './context';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function formatRaters(rows: RaterListing[]): string[] {
  const head = `${'rater'.padEnd(26)}${'vendor'.padEnd(16)}${'status'.padEnd(9)}${'gold'.padStart(6)}${'accuracy (95% CI)'.padStart(24)}  drift  qualification`;
  return [
    head,
    ...rows.map((r) => {
      const accuracy = r.ci95 ? `${pct(r.accuracy!)} (${pct(r.ci95[0])}–${pct(r.ci95[1])})` : '—';
      const line = `${r.raterId.padEnd(26)}${r.vendorId.padEnd(16)}${r.status.padEnd(9)}${String(r.goldAnswers).padStart(6)}${accuracy.padStart(24)}  ${(r.driftReason ? 'FLAG' : '—').padEnd(5)}  ${r.qualification ?? '—'}`;
      const why =
        r.status !== 'active' ? `\n${''.padEnd(26)}paused by ${r.pausedBy ?? '?'}: ${r.pausedReason ?? ''}` : '';
      const drift = r.driftReason ? `\n${''.padEnd(26)}drift: ${r.driftReason}` : '';
      return line + why + drift;
    }),
  ];
}

export function registerRaterCommands(program: Command): void {
  const rater = program
    .command('rater')
    .description('Rater QA: gold accuracy with intervals, drift, pauses and reinstatements.');
  const actorOption = [
    '--actor <label>',
    'a label for who decides, taken only when your identity is the unverified OS user (judgeflow whoami)',
  ] as const;

  rater
    .command('list')
    .description('Each rater: vendor, status, gold answers, accuracy with its 95% Wilson interval, drift flag.')
    .option('--program <id>', "count only this program's gold answers, and show its qualification")
    .option('--vendor <id>', "only this vendor's raters")
    .option('--json', 'print JSON')
    .action(async (opts: { program?: string; vendor?: string; json?: boolean }) => {
      await withContext(
        async ({ database }) => {
          const rows = await listRaters(database.db, { programId: opts.program, vendorId: opts.vendor });
          if (opts.json) console.log(JSON.stringify(rows, null, 2));
          else if (!rows.length) console.log('no raters yet (they are read from each vendor when a batch opens)');
          else console.log(formatRaters(rows).join('\n'));
        },
        { temporal: false },
      );
    });

  const act = (name: 'pause' | 'reinstate', description: string) =>
    rater
      .command(name)
      .description(description)
      .argument('<raterId>', 'the rater as judgeflow names them: <vendorId>:<vendor rater id>')
      .requiredOption('--reason <text>', 'why (recorded with the action)')
      .option(...actorOption)
      .option('--request-id <id>', 'idempotency key, recorded in the audit log (default: a new one)')
      .action(async (raterId: string, opts: { reason: string; actor?: string; requestId?: string }) => {
        if (!opts.reason.trim()) throw new CliError('--reason must say why');
        await withContext(
          async ({ database, actor }) => {
            const by = {
              actor: actor(opts.actor),
              reason: opts.reason.trim(),
              requestId: opts.requestId ?? randomUUID(),
            };
            const done =
              name === 'pause'
                ? await pauseRater(database.db, raterId, by)
                : await reinstateRater(database.db, raterId, by);
            if (!done) {
              const vendorId = raterId.split(':')[0];
              const known = (await listRaters(database.db, { vendorId })).find((r) => r.raterId === raterId);
              if (!known)
                throw new CliError(`no rater "${raterId}" (judgeflow rater list shows them as <vendorId>:<rater id>)`);
              throw new CliError(`rater ${raterId} is ${known.status}: nothing to ${name}`);
            }
            console.log(`${raterId} ${name === 'pause' ? 'paused' : 'reinstated'} by ${by.actor}: ${by.reason}`);
          },
          { temporal: false },
        );
      });
  act(
    'pause',
    'Pause a rater: no new work, and the gateway refuses their answers (403 rater_paused); open tasks go to others.',
  );
  act('reinstate', 'Make a paused rater active again; QA judges them only on gold answers given from now on.');
}
