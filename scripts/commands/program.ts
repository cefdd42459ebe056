/**
 * The program manager's commands. Exit codes a script can rely on: 0 done, 1 failed, 2 refused
 * (bad spec, unknown program, a steering request the workflow's validator refused — the message says why).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { desc } from 'drizzle-orm';
import YAML from 'yaml';
import { programSpend } from '../../human-tasks/accounting';
import { checkProgramPrerequisites, registerProgram } from '../../program/registration';
import type { Db } from '../../platform/db';
import type { ProgramEstimate } from '../../program/estimate';
import { validateProgramSpec } from '../../schema/program-spec';
import { programs } from '../../schema/tables';
import {
  approveGateUpdate,
  changeBudgetUpdate,
  changeTargetsUpdate,
  pauseUpdate,
  programStatusQuery,
  publishGuidelinesUpdate,
  resumeUpdate,
  type ProgramStatus,
  type SteeringResult,
} from '../../workflows/messages';
import { productionStatusQuery } from '../../workflows/production';
import { programWorkflow } from '../../workflows/program';
import { PhaseKey, ProgramKey, StatusKey } from '../../workflows/search-attributes';
import { CliError, withContext } from './context';
import { productionWorkflowId, programWorkflowId } from '../../workflows/ids';


export function readSpecFile(file: string): unknown {
  if (!fs.existsSync(file)) throw new CliError(`spec file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

export function formatEstimate(e: ProgramEstimate): string {
  return [
    `  human tasks   ${e.humanTasks.total} expected (pilot ${e.humanTasks.pilot}, calibration ${e.humanTasks.calibration.expected}–${e.humanTasks.calibration.max}, golden set ${e.humanTasks.goldenSet}, reviews ${e.humanTasks.reviews}, fix loop ${e.humanTasks.fixLoop.expected}–${e.humanTasks.fixLoop.max})`,
    `  LLM calls     ${e.llmCalls.total} (aggregation ${e.llmCalls.goldenAggregation}, validation ${e.llmCalls.judgeValidation}, optimizer ≤${e.llmCalls.optimizer}, production ${e.llmCalls.production})`,
    `  cost          $${e.costUsd.total} expected (human $${e.costUsd.human}, LLM $${e.costUsd.llm}; LLM with batch production $${e.costUsd.llmBatch}); at most $${e.costUsd.maxTotal}`,
    `  timeline      ${e.days.expected} days expected, ${e.days.max} at most`,
    `  budget        ${e.withinBudget ? 'within budget' : 'OVER BUDGET'}`,
    ...e.notes.map((n) => `  note          ${n}`),
  ].join('\n');
}

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

/**
 * The program's status query, completed on the client side: a running production's live figures
 * and, given the database, spend from the ledger now (the workflow's figure is from its last budget
 * checkpoint, and fix loops go on spending after the program completes).
 */
export async function programStatus(client: Client, programId: string, db?: Db): Promise<ProgramStatus> {
  let status: ProgramStatus;
  try {
    status = await client.workflow.getHandle(programWorkflowId(programId)).query(programStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no program "${programId}" (see \`judgeflow program list\`)`);
    throw err;
  }
  const live = await withLiveProduction(client, status);
  return db ? { ...live, spendUsd: (await programSpend(db, programId)).totalUsd } : live;
}

/**
 * A running production phase reports its progress to the program only when it ends (a signal per
 * shard would grow the program's history with the catalog); the live figures come from the run's
 * own query.
 */
async function withLiveProduction(client: Client, status: ProgramStatus): Promise<ProgramStatus> {
  if (status.phase !== 'production' || !status.production || status.status === 'completed') return status;
  const live = await client.workflow
    .getHandle(productionWorkflowId(status.programId, status.production.runId))
    .query(productionStatusQuery)
    .catch(() => null); // not started yet, or just finished: the program's own figures stand
  return live ? { ...status, production: { ...status.production, judged: live.judged, total: live.total, failing: live.failing } } : status;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

export function formatStatus(s: ProgramStatus): string {
  const lines = [
    `program   ${s.programId}   ${s.status.toUpperCase()}   phase ${s.phase}${s.phase === 'calibration' ? ` (round ${s.round})` : ''}   guidelines v${s.guidelineVersion}`,
    `spend     $${s.spendUsd.toFixed(2)} of $${s.budgetUsd.toFixed(2)}   ETA ${s.eta ?? '—'}   decisions ${s.decisions}`,
    `tasks     ${s.tasks.completed} completed, ${s.tasks.reassigned} reassigned, ${s.tasks.expired} expired, ${s.tasks.labels} labels`,
  ];
  if (s.gate) lines.push(`GATE      ${s.gate.name}: ${s.gate.reason}   → judgeflow program approve ${s.programId}`);
  if (s.pausedReason) lines.push(`PAUSED    ${s.pausedReason}`);
  if (s.rounds.length) {
    const criteria = Object.keys(s.rounds[0].agreement);
    lines.push('', `round        guidelines  ${criteria.map((c) => c.padEnd(22)).join('')}  target ${pct(s.targets.agreement)} (${s.targets.agreementMetric})`);
    for (const r of s.rounds) {
      const cells = criteria.map((c) => {
        const a = r.agreement[c];
        const ci = a?.ci95 ? ` [${pct(a.ci95[0])},${pct(a.ci95[1])}]` : '';
        return `${pct(a?.value)}${ci}${a?.meetsTarget ? ' ✓' : ''}`.padEnd(22);
      });
      lines.push(`${(r.phase === 'pilot' ? 'pilot' : `calibration ${r.round}`).padEnd(13)}v${String(r.guidelineVersion).padEnd(11)}${cells.join('')}`);
    }
  }
  if (s.goldenSet) lines.push('', `golden    ${s.goldenSet.items} items (dev ${s.goldenSet.dev}, test ${s.goldenSet.test}), ${s.goldenSet.reviewed} reviewed`);
  if (s.judges.length) {
    lines.push('', `judge          dev      test     TPR      TNR      target ${pct(s.targets.judgeAccuracy)}`);
    for (const j of s.judges)
      lines.push(`${j.criterion.padEnd(15)}${pct(j.devAccuracy).padEnd(9)}${pct(j.testAccuracy).padEnd(9)}${pct(j.tpr).padEnd(9)}${pct(j.tnr).padEnd(9)}${j.meetsTarget ? '✓' : '✗'}`);
  }
  if (s.production) lines.push('', `production ${s.production.runId}: ${s.production.judged}/${s.production.total} judged, ${s.production.failing} failing`);
  return lines.join('\n');
}

function bar(done: number, total: number, width = 30): string {
  const share = total ? Math.min(1, done / total) : 0;
  return `[${'█'.repeat(Math.round(share * width)).padEnd(width, '·')}] ${Math.round(share * 100)}%`;
}

export function registerProgramCommands(cli: Command) {
  const program = cli.command('program').description('Start and steer evaluation programs.');
  const requestOption = ['--request-id <id>', 'idempotency key (a retried call with the same id is a no-op)'] as const;
  const actorOption = ['--actor <name>', 'who decides (decision log)', process.env.USER ?? 'pm'] as const;

  program
    .command('start <spec>')
    .description('Validate a program spec (YAML/JSON), print the estimate, and start the program.')
    .option('--yes', 'start without asking for confirmation')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { yes?: boolean; json?: boolean }) => {
      const validation = validateProgramSpec(readSpecFile(file));
      if (!validation.ok) {
        throw new CliError(`${file} is not a valid program spec:\n${validation.problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
      }
      const spec = validation.spec;
      await withContext(async ({ config, database, client }) => {
        const { estimate, secrets } = await checkProgramPrerequisites(database.db, spec, config.env, { rpmLimit: config.llm.rpmLimit, model: spec.judges.model ?? config.llm.model });
        if (!opts.json) console.log(`Estimate for ${spec.id}:\n${formatEstimate(estimate)}`);
        if (!opts.yes) {
          if (!process.stdin.isTTY) throw new CliError('not starting without confirmation: pass --yes when running non-interactively');
          const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question('Start this program? [y/N] ');
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not started', 1);
        }
        await registerProgram(database.db, spec, estimate, secrets);
        const workflowId = programWorkflowId(spec.id);
        await client.workflow.start(programWorkflow, {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          args: [{ programId: spec.id }],
          staticSummary: `${spec.name}: ${spec.criteria.map((c) => c.id).join(', ')}`,
          staticDetails: `Evaluation program **${spec.name}** (${spec.id}). Budget $${spec.budget.usd}; agreement target ${spec.targets.agreement}; judge accuracy target ${spec.targets.judgeAccuracy}; gates ${spec.gates.policy}.`,
          typedSearchAttributes: [
            { key: ProgramKey, value: spec.id },
            { key: PhaseKey, value: 'scoping' },
            { key: StatusKey, value: 'running' },
          ],
        });
        const url = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
        if (opts.json) console.log(JSON.stringify({ programId: spec.id, workflowId, estimate, url }));
        else console.log(`Started ${workflowId}\n  ${url}`);
      });
    });

  program
    .command('list')
    .description('Programs and their phase and status.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withContext(
        async ({ database }) => {
          const rows = await database.db.select({ id: programs.id, name: programs.name, status: programs.status, phase: programs.phase, budgetUsd: programs.budgetUsd, createdAt: programs.createdAt }).from(programs).orderBy(desc(programs.createdAt));
          if (opts.json) return console.log(JSON.stringify(rows));
          if (!rows.length) return console.log('no programs yet: judgeflow program start <spec>');
          for (const r of rows) console.log(`${r.id.padEnd(28)}${r.status.padEnd(14)}${r.phase.padEnd(14)}$${r.budgetUsd}  ${r.name}`);
        },
        { temporal: false },
      );
    });

  program
    .command('status <programId>')
    .description('Phase, round, agreement per criterion with intervals, tasks, spend and ETA.')
    .option('--json', 'print JSON')
    .action(async (programId: string, opts: { json?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const status = await programStatus(client, programId, database.db);
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      });
    });

  program
    .command('watch <programId>')
    .description('Live progress until the program completes, is cancelled, or waits at a gate (with --until-gate).')
    .option('--interval <ms>', 'refresh interval', (v) => Number.parseInt(v, 10), 2000)
    .option('--until-gate', 'return when the program waits at a gate')
    .action(async (programId: string, opts: { interval: number; untilGate?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const phases = ['scoping', 'pilot', 'calibration', 'golden-set', 'judges', 'production', 'completed'];
        for (;;) {
          const s = await programStatus(client, programId, database.db);
          const production = s.production ? `  production ${bar(s.production.judged, s.production.total)}` : '';
          const line = `${bar(phases.indexOf(s.phase), phases.length - 1)} ${s.phase}${s.phase === 'calibration' ? ` r${s.round}` : ''} ${s.status}${s.gate ? ` (gate ${s.gate.name})` : ''}  tasks ${s.tasks.completed}  $${s.spendUsd.toFixed(2)}/${s.budgetUsd}${production}`;
          process.stdout.write(process.stdout.isTTY ? `\r${line.padEnd(process.stdout.columns ?? 120)}` : `${line}\n`);
          if (['completed', 'cancelled', 'failed'].includes(s.status) || (opts.untilGate && s.status === 'waiting_gate')) {
            if (process.stdout.isTTY) process.stdout.write('\n');
            if (s.status === 'failed') throw new CliError(`program ${programId} failed`, 1);
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
    .action(async (programId: string, opts: { gate?: string; note?: string; requestId?: string; actor: string }) => {
      await withContext(async ({ client }) => {
        const gate = opts.gate ?? (await programStatus(client, programId)).gate?.name;
        if (!gate) throw new CliError(`program ${programId} is not waiting at a gate`);
        const result = await steer(client, programId, approveGateUpdate, { requestId: opts.requestId ?? randomUUID(), actor: opts.actor, gate, note: opts.note });
        console.log(result.message);
      });
    });

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
      .action(async (programId: string, opts: { note?: string; requestId?: string; actor: string }) => {
        await withContext(async ({ client }) => {
          const result = await steer(client, programId, update, { requestId: opts.requestId ?? randomUUID(), actor: opts.actor, note: opts.note });
          console.log(result.message);
        });
      });
  }

  program
    .command('cancel <programId>')
    .description('Cancel the program: vendor tasks are cancelled, everything recorded so far is kept.')
    .action(async (programId: string) => {
      await withContext(async ({ client }) => {
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
    .action(async (programId: string, opts: { agreement?: number; judgeAccuracy?: number; note?: string; requestId?: string; actor: string }) => {
      await withContext(async ({ client }) => {
        const result = await steer(client, programId, changeTargetsUpdate, { requestId: opts.requestId ?? randomUUID(), actor: opts.actor, note: opts.note, agreement: opts.agreement, judgeAccuracy: opts.judgeAccuracy });
        console.log(result.message);
      });
    });

  program
    .command('budget <programId>')
    .description('Change the budget (a program paused at its cap resumes when the new budget allows).')
    .requiredOption('--usd <amount>', 'new budget in USD', Number)
    .option('--note <text>', 'why (decision log)')
    .option(...requestOption)
    .option(...actorOption)
    .action(async (programId: string, opts: { usd: number; note?: string; requestId?: string; actor: string }) => {
      await withContext(async ({ client }) => {
        const result = await steer(client, programId, changeBudgetUpdate, { requestId: opts.requestId ?? randomUUID(), actor: opts.actor, note: opts.note, usd: opts.usd });
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
    .option(...requestOption)
    .option(...actorOption)
    .action(async (programId: string, opts: { file: string; note: string; version?: number; requestId?: string; actor: string }) => {
      if (!fs.existsSync(opts.file)) throw new CliError(`guideline file not found: ${opts.file}`);
      const text = fs.readFileSync(opts.file, 'utf8');
      await withContext(async ({ client }) => {
        const version = opts.version ?? (await programStatus(client, programId)).guidelineVersion + 1;
        const result = await steer(client, programId, publishGuidelinesUpdate, { requestId: opts.requestId ?? randomUUID(), actor: opts.actor, version, text, note: opts.note });
        console.log(result.message);
      });
    });
}
