/**
 * The program manager's commands. Exit codes a script can rely on: 0 done, 1 failed, 2 refused
 * (bad spec, unknown program, a steering request the workflow's validator refused — the message says why).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { desc, eq } from 'drizzle-orm';
import { decisionLog, programs, vendors } from '../../schema/tables';
import {
  approveGateUpdate,
  changeBudgetUpdate,
  changeTargetsUpdate,
  pauseUpdate,
  publishGuidelinesUpdate,
  requestCancelUpdate,
  resumeUpdate,
  type SteeringResult,
} from '../../workflows/messages';
import { CliError, withContext } from './context';
import { programWorkflowId } from '../../workflows/ids';
import { steeringRefusal, type ProgramAccess } from '../../workflows/program-access';
import { formatRetrying, formatStatus, programStatus } from './program-status';
import { programFailure } from './failure';
import type { StartOptions } from './program-start';

/** How often `program watch` looks for retrying activities. */
const RETRYING_SCAN_MS = 30_000;

export { formatStatus, programStatus, UnknownProgramError } from './program-status';

async function steer<Req extends { requestId: string; actor: string }>(
  client: Client,
  programId: string,
  update: UpdateDefinition<SteeringResult, [Req]>,
  request: Req,
): Promise<SteeringResult> {
  try {
    return await client.workflow.getHandle(programWorkflowId(programId)).executeUpdate(update, { args: [request] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no running program "${programId}"`);
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

function bar(done: number, total: number, width = 30): string {
  const share = total ? Math.min(1, done / total) : 0;
  return `[${'█'.repeat(Math.round(share * width)).padEnd(width, '·')}] ${Math.round(share * 100)}%`;
}

export function registerProgramCommands(cli: Command) {
  const program = cli.command('program').description('Start and steer evaluation programs.');
  const requestOption = ['--request-id <id>', 'idempotency key (a retried call with the same id is a no-op)'] as const;
  const actorOption = [
    '--actor <label>',
    'a label for who decides, taken only when your identity is the unverified OS user (judgeflow whoami)',
  ] as const;

  program
    .command('start <spec>')
    .description('Validate a program spec (YAML/JSON), print the estimate, and start the program.')
    .option('--yes', 'start without asking for confirmation')
    .option('--json', 'print the result as JSON')
    // Its modules (the spec schema, registration, the catalog import) load only when a program starts.
    .action((file: string, opts: StartOptions) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('./program-start') as typeof import('./program-start')).startProgram(file, opts),
    );

  program
    .command('list')
    .description('Programs and their phase and status.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withContext(
        async ({ database }) => {
          const rows = await database.db
            .select({
              id: programs.id,
              name: programs.name,
              status: programs.status,
              phase: programs.phase,
              budgetUsd: programs.budgetUsd,
              createdAt: programs.createdAt,
            })
            .from(programs)
            .orderBy(desc(programs.createdAt));
          if (opts.json) return console.log(JSON.stringify(rows));
          if (!rows.length) return console.log('no programs yet: judgeflow program start <spec>');
          for (const r of rows)
            console.log(`${r.id.padEnd(28)}${r.status.padEnd(14)}${r.phase.padEnd(14)}$${r.budgetUsd}  ${r.name}`);
        },
        { temporal: false },
      );
    });

  program
    .command('status <programId>')
    .description(
      'Phase, round, agreement per criterion with intervals, tasks, spend, ETA, verdicts and errors per criterion, fix cycles, and activities being retried.',
    )
    .option('--json', 'print JSON')
    .action(async (programId: string, opts: { json?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const status = await programStatus(client, programId, database.db);
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        if (status.status === 'failed') throw new CliError(`FAILED    ${await programFailure(client, programId)}`, 1);
      });
    });

  program
    .command('watch <programId>')
    .description(
      'Live progress until the program completes, is cancelled, or waits at a gate (with --until-gate); activities being retried are printed as they change.',
    )
    .option('--interval <ms>', 'refresh interval', (v) => Number.parseInt(v, 10), 2000)
    .option('--until-gate', 'return when the program waits at a gate')
    .option('--json', 'print the full status as one JSON line per refresh')
    .action(async (programId: string, opts: { interval: number; untilGate?: boolean; json?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const phases = ['scoping', 'pilot', 'calibration', 'golden-set', 'judges', 'production', 'completed'];
        let shown = '';
        // Retrying activities cost a describe per open workflow: scanned at most every RETRYING_SCAN_MS,
        // the last scan shown in between (a refresh every second would load the Temporal server).
        let scannedAt = -Infinity;
        let lastScan: Pick<Awaited<ReturnType<typeof programStatus>>, 'retrying' | 'inspected'> = {};
        for (;;) {
          const scan = Date.now() - scannedAt >= RETRYING_SCAN_MS;
          const fresh = await programStatus(client, programId, database.db, { retrying: scan });
          if (scan) {
            scannedAt = Date.now();
            lastScan = { retrying: fresh.retrying, inspected: fresh.inspected };
          }
          const s = { ...fresh, ...lastScan };
          if (opts.json) console.log(JSON.stringify(s));
          else {
            const production = s.production
              ? `  production ${bar(s.production.judged, s.production.total)}${s.production.errors ? ` ${s.production.errors} with errors` : ''}`
              : '';
            const retrying = s.retrying?.length ? `  RETRYING ${s.retrying.length}` : '';
            const line = `${bar(phases.indexOf(s.phase), phases.length - 1)} ${s.phase}${s.phase === 'calibration' ? ` r${s.round}` : ''} ${s.status}${s.gate ? ` (gate ${s.gate.name})` : ''}  tasks ${s.tasks.completed}  $${s.spendUsd.toFixed(2)}/${s.budgetUsd}${production}${retrying}`;
            // What is failing gets its own lines, printed when it changes (a new error, the next attempt).
            const failing = [
              ...(s.retrying ?? []).map((r) => `RETRYING  ${formatRetrying(r)}`),
              ...(s.gate ? [`GATE      ${s.gate.name}: ${s.gate.reason}`] : []),
            ].join('\n');
            if (failing !== shown) {
              if (failing) process.stdout.write(`${process.stdout.isTTY ? '\r\x1b[K' : ''}${failing}\n`);
              shown = failing;
            }
            process.stdout.write(
              process.stdout.isTTY ? `\r${line.padEnd(process.stdout.columns ?? 120)}` : `${line}\n`,
            );
          }
          if (
            ['completed', 'cancelled', 'failed'].includes(s.status) ||
            (opts.untilGate && s.status === 'waiting_gate')
          ) {
            if (process.stdout.isTTY) process.stdout.write('\n');
            if (s.status === 'failed')
              throw new CliError(`program ${programId} failed: ${await programFailure(client, programId)}`, 1);
            return;
          }
          await new Promise((r) => setTimeout(r, opts.interval));
        }
      });
    });

  program
    .command('approve <programId>')
    .description('Approve the gate the program waits at.')
    .option('--gate <name>', 'the gate to approve (default: the one waiting)')
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(async (programId: string, opts: { gate?: string; note?: string; requestId?: string; actor?: string }) => {
      await withContext(async ({ client, actor }) => {
        const gate = opts.gate ?? (await programStatus(client, programId, undefined, { retrying: false })).gate?.name;
        if (!gate) throw new CliError(`program ${programId} is not waiting at a gate`);
        const result = await steer(client, programId, approveGateUpdate, {
          requestId: opts.requestId ?? randomUUID(),
          actor: actor(opts.actor),
          gate,
          note: opts.note,
        });
        console.log(result.message);
      });
    });

  program
    .command('vendor <programId> <vendorId>')
    .description(
      "Fix the endpoint of a program's vendor (its record: every program using it): the next vendor call uses it; a program waiting at a vendor gate then needs `program approve` to retry. Secrets: `judgeflow vendor rotate-secret`.",
    )
    .requiredOption('--endpoint <url>', 'the vendor endpoint (kind http: where tasks are POSTed)')
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(
      async (
        programId: string,
        vendorId: string,
        opts: { endpoint: string; note?: string; requestId?: string; actor?: string },
      ) => {
        if (!URL.canParse(opts.endpoint)) throw new CliError(`--endpoint: "${opts.endpoint}" is not a URL`);
        await withContext(
          async ({ database, actor }) => {
            const [program] = await database.db
              .select({ spec: programs.spec })
              .from(programs)
              .where(eq(programs.id, programId));
            if (!program) throw new CliError(`no program "${programId}" (see \`judgeflow program list\`)`);
            // Not a workflow update, so its owners are checked here, as the validators check theirs.
            const refusal = steeringRefusal(programId, program.spec as ProgramAccess, actor(opts.actor));
            if (refusal) throw new CliError(`refused: ${refusal}`);
            const specVendors = ((program.spec as { vendors?: { id: string }[] }).vendors ?? []).map((v) => v.id);
            if (!specVendors.includes(vendorId))
              throw new CliError(
                `program ${programId} has no vendor "${vendorId}" (its vendors: ${specVendors.join(', ') || 'none'})`,
              );
            await database.db.transaction(async (tx) => {
              await tx.update(vendors).set({ endpoint: opts.endpoint }).where(eq(vendors.id, vendorId));
              await tx
                .insert(decisionLog)
                .values({
                  programId,
                  requestId: opts.requestId ?? randomUUID(),
                  kind: 'vendor_updated',
                  actor: actor(opts.actor),
                  note: opts.note ?? '',
                  data: { vendorId, endpoint: opts.endpoint },
                })
                .onConflictDoNothing();
            });
            console.log(`vendor ${vendorId} updated: endpoint ${opts.endpoint}`);
          },
          { temporal: false },
        );
      },
    );

  for (const [name, update, description] of [
    ['pause', pauseUpdate, 'Pause: no new work starts until resumed.'],
    ['resume', resumeUpdate, 'Resume a paused program.'],
  ] as const) {
    program
      .command(`${name} <programId>`)
      .description(description)
      .option('--note <text>', 'why (decision log)')
      .option(...requestOption)
      .option(...actorOption)
      .action(async (programId: string, opts: { note?: string; requestId?: string; actor?: string }) => {
        await withContext(async ({ client, actor }) => {
          const result = await steer(client, programId, update, {
            requestId: opts.requestId ?? randomUUID(),
            actor: actor(opts.actor),
            note: opts.note,
          });
          console.log(result.message);
        });
      });
  }

  program
    .command('cancel <programId>')
    .description('Cancel the program: vendor tasks are cancelled, everything recorded so far is kept.')
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(async (programId: string, opts: { note?: string; requestId?: string; actor?: string }) => {
      await withContext(async ({ client, actor }) => {
        // Who cancels goes first (a cancellation carries no identity); refused for a non-owner.
        await steer(client, programId, requestCancelUpdate, {
          requestId: opts.requestId ?? randomUUID(),
          actor: actor(opts.actor),
          note: opts.note,
        });
        const handle = client.workflow.getHandle(programWorkflowId(programId));
        try {
          await handle.cancel();
          const result = (await handle.result()) as { status: string };
          console.log(`program ${programId}: ${result.status}`);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new CliError(`no running program "${programId}"`);
          throw err;
        }
      });
    });

  program
    .command('targets <programId>')
    .description('Change the agreement and/or judge accuracy targets.')
    .option('--agreement <v>', 'agreement target in (0, 1]', Number)
    .option('--judge-accuracy <v>', 'judge accuracy target in (0, 1]', Number)
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(
      async (
        programId: string,
        opts: { agreement?: number; judgeAccuracy?: number; note?: string; requestId?: string; actor?: string },
      ) => {
        await withContext(async ({ client, actor }) => {
          const result = await steer(client, programId, changeTargetsUpdate, {
            requestId: opts.requestId ?? randomUUID(),
            actor: actor(opts.actor),
            note: opts.note,
            agreement: opts.agreement,
            judgeAccuracy: opts.judgeAccuracy,
          });
          console.log(result.message);
        });
      },
    );

  program
    .command('budget <programId>')
    .description('Change the budget (a program paused at its cap resumes when the new budget allows).')
    .requiredOption('--usd <amount>', 'new budget in USD', Number)
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(async (programId: string, opts: { usd: number; note?: string; requestId?: string; actor?: string }) => {
      await withContext(async ({ client, actor }) => {
        const result = await steer(client, programId, changeBudgetUpdate, {
          requestId: opts.requestId ?? randomUUID(),
          actor: actor(opts.actor),
          note: opts.note,
          usd: opts.usd,
        });
        console.log(result.message);
      });
    });

  const guidelines = cli.command('guidelines').description('Guideline (rubric) revisions.');
  guidelines
    .command('publish <programId>')
    .description('Publish a guideline revision: tasks dispatched afterwards carry it.')
    .requiredOption('--file <path>', 'the new guideline text')
    .requiredOption('--note <text>', 'why this revision (decision log)')
    .option('--version <n>', 'version number (default: current + 1)', (v) => Number.parseInt(v, 10))
    .option('--locale <code>', "revise only this locale's guidelines (others keep theirs)")
    .option(...requestOption)
    .option(...actorOption)
    .action(
      async (
        programId: string,
        opts: { file: string; note: string; version?: number; locale?: string; requestId?: string; actor?: string },
      ) => {
        if (!fs.existsSync(opts.file)) throw new CliError(`guideline file not found: ${opts.file}`);
        const text = fs.readFileSync(opts.file, 'utf8');
        await withContext(async ({ client, actor }) => {
          const version =
            opts.version ??
            (await programStatus(client, programId, undefined, { retrying: false })).guidelineVersion + 1;
          const result = await steer(client, programId, publishGuidelinesUpdate, {
            requestId: opts.requestId ?? randomUUID(),
            actor: actor(opts.actor),
            version,
            text,
            note: opts.note,
            ...(opts.locale ? { locale: opts.locale } : {}),
          });
          console.log(result.message);
        });
      },
    );
}
