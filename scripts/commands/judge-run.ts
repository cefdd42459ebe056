/**
 * `judgeflow judge run --program <id> [--catalog file | --changed-since <time>] [--mode sync|batch]`:
 * a production run of the program's active judges over the catalog (all items, the items of an
 * imported file, or those new or edited since a time), as `program/<id>/production/<runId>`.
 * `--retry-errors --run-id R` judges again exactly the errored keys of run R, as run `R-retry-<n>`.
 */
import { createActivityDeps } from '../../activities/deps';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { CatalogRejectedError, importCatalog } from '../../catalog/import';
import { addImportToItemSet } from '../../catalog/item-set';
import { eq, sql } from 'drizzle-orm';
import { createProductionActivities, type ItemSelection } from '../../production/activities';
import { formatVerdictCounts, retryRunKeys, runErrors, runVerdictCounts } from '../../production/verdicts';
import type { Db } from '../../platform/db';
import { productionRuns } from '../../schema/tables';
import { batchProgress } from '../../production/batch';
import { createProgramActivities } from '../../program/activities';
import { createLogger } from '../../platform/logger';
import { productionStatusQuery, productionWorkflow, type ProductionProgress } from '../../workflows/production';
import type { ProductionInput } from '../../workflows/production-messages';
import { CliError, withContext, type CliContext } from './context';
import { rootFailureMessage, workflowFailure } from './failure';
import { productionRunKey, productionWorkflowId } from '../../workflows/ids';

interface JudgeRunOptions {
  program: string;
  catalog?: string;
  changedSince?: string;
  mode: string;
  runId?: string;
  limit?: string;
  fixLoop: boolean;
  retryErrors?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** A run's verdicts per criterion (errors included, its retries applied), the errors still open and its retry runs. */
export async function runVerdicts(db: Db, runKey: string) {
  const [verdicts, inError, retries] = await Promise.all([
    runVerdictCounts(db, runKey),
    runErrors(db, runKey),
    retryRunKeys(db, runKey),
  ]);
  // `inError`, not `errors`: a run's progress already counts its items with errors as `errors`.
  return { verdicts, inError, retries };
}

export function formatRunVerdicts(
  programId: string,
  runId: string,
  v: Awaited<ReturnType<typeof runVerdicts>>,
): string {
  const lines = [`verdicts: ${formatVerdictCounts(v.verdicts)}`];
  if (v.retries.length)
    lines.push(`retries: ${v.retries.map((r) => `${r.runKey.slice(programId.length + 1)} (${r.status})`).join(', ')}`);
  const open = Object.values(v.inError.byCriterion).reduce((a, n) => a + n, 0);
  if (open) {
    lines.push(
      `errors: ${open} item × criterion key${open === 1 ? '' : 's'} of ${v.inError.items} item${v.inError.items === 1 ? '' : 's'} in error (${Object.entries(
        v.inError.byCriterion,
      )
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}), never counted as passing; e.g.`,
    );
    for (const e of v.inError.samples) lines.push(`  ${e.itemId} ${e.criterion}: ${e.error}`);
    lines.push(`  judge them again: judgeflow judge run --program ${programId} --retry-errors --run-id ${runId}`);
  }
  return lines.join('\n');
}

export const formatProgress = (p: ProductionProgress) =>
  `${p.runKey} (${p.mode}): ${p.judged}/${p.total} judged, ${p.failing} failing, ${p.errors} with errors, ${p.fixLoopsStarted} fix loops; shards ${p.shardsDone} done, ${p.shardsRunning} running${p.done ? ' — done' : ''}`;

type RunToStart = { runId: string; input: ProductionInput; summary: string };

/** A run of the program's active judges over the catalog, the items of an imported file, or those changed since a time. */
async function catalogRun(
  opts: JudgeRunOptions,
  limit: number | undefined,
  { config, database }: Pick<CliContext, 'config' | 'database'>,
): Promise<RunToStart> {
  const deps = createActivityDeps({ db: database.db, config, logger: createLogger('cli', config.logLevel) });
  const plan = await createProgramActivities(deps)
    .loadProgramPlan(opts.program)
    .catch((err: Error) => {
      throw new CliError(`--program: ${err.message}`);
    });
  const prompts = await createProductionActivities(deps).activeJudgePrompts(opts.program);
  const missing = plan.criteria.filter((c) => !Object.keys(prompts).some((k) => k === c || k.startsWith(`${c}.`)));
  if (missing.length)
    throw new CliError(
      `program ${opts.program} has no active judge for ${missing.join(', ')}: finish judge development first`,
    );

  let selection: ItemSelection = { kind: 'all', limit };
  if (opts.changedSince) selection = { kind: 'changedSince', since: new Date(opts.changedSince).toISOString(), limit };
  if (opts.catalog) {
    const imported = await importCatalog(database.sql, opts.catalog, { keepItemIds: true }).catch((err: unknown) => {
      throw err instanceof CatalogRejectedError ? new CliError(`${opts.catalog}: ${err.message}`) : err;
    });
    // The file's synopses that pass the program's filters join its item set: the run judges only that set.
    await addImportToItemSet(database.db, opts.program, {
      ...imported,
      file: opts.catalog,
      itemIds: imported.itemIds ?? [],
    });
    // Unchanged synopses already in the program's items were judged before (judgments are keyed by text hash);
    // changedSince also takes the ones the import just added to them.
    selection = { kind: 'changedSince', since: imported.importedAt, limit };
  }
  const runId = opts.runId ?? new Date().toISOString().replace(/[:.]/g, '-');
  return {
    runId,
    summary: `production judging (${opts.mode}) of ${opts.program}`,
    input: {
      programId: opts.program,
      runId,
      mode: opts.mode as 'sync' | 'batch',
      itemSelection: selection,
      criteria: plan.criteria,
      prompts,
      // The spec's samples per criterion and model: what judge development validated.
      samples: plan.judges.criterionSamples ?? plan.judges.samples,
      model: plan.judges.model,
      fixLoop: opts.fixLoop,
      maxFixAttempts: plan.production.maxFixAttempts,
      writerVendorId: plan.production.writerVendor,
    },
  };
}

/**
 * `--retry-errors --run-id R`: a run `R-retry-<n>` over the items with a criterion still in error in R
 * (selection kind `errors`), on the criteria in error only, with R's own prompts, model and samples.
 * Judgments stored ok are never requested again, so the provider is asked exactly for the errored
 * samples. A retry still running is joined, not doubled. Null when nothing is in error.
 */
async function retryErrorsRun(db: Db, opts: JudgeRunOptions, limit: number | undefined): Promise<RunToStart | null> {
  const runKey = productionRunKey(opts.program, opts.runId!);
  const [original] = await db.select().from(productionRuns).where(eq(productionRuns.id, runKey));
  if (!original) throw new CliError(`no production run ${opts.runId} of ${opts.program}`);
  const params = original.params as {
    criteria?: string[];
    prompts?: Record<string, string>;
    samples?: number;
    model?: string | null;
  };
  if (!params.criteria || !params.prompts || !params.samples)
    throw new CliError(`run ${opts.runId} did not record its criteria, prompts and samples: it cannot be retried`);
  const { byCriterion, items } = await runErrors(db, runKey);
  if (!items) {
    console.log(
      opts.json
        ? JSON.stringify({ retryOf: opts.runId, errors: 0 })
        : `run ${opts.runId} has no errored judgments: ${formatVerdictCounts(await runVerdictCounts(db, runKey))}`,
    );
    return null;
  }
  const retries = await retryRunKeys(db, runKey);
  const running = retries.find((r) => r.status === 'running');
  const runId = running ? running.runKey.slice(opts.program.length + 1) : `${opts.runId}-retry-${retries.length + 1}`;
  const plan = await db.execute<{ max_fix_attempts: number | null; writer_vendor: string | null }>(
    sql`select (spec->'production'->>'maxFixAttempts')::int as max_fix_attempts, spec->'production'->>'writerVendor' as writer_vendor from programs where id = ${opts.program}`,
  );
  if (!opts.json)
    console.log(
      `${running ? 'joining' : 'starting'} ${runId}: ${items} item${items === 1 ? '' : 's'} with errors (${Object.entries(
        byCriterion,
      )
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')})`,
    );
  return {
    runId,
    summary: `retry of the errored judgments of run ${opts.runId} (${opts.mode})`,
    input: {
      programId: opts.program,
      runId,
      mode: opts.mode as 'sync' | 'batch',
      itemSelection: { kind: 'errors', runKey, limit },
      criteria: params.criteria.filter((c) => byCriterion[c]),
      prompts: params.prompts,
      samples: params.samples,
      model: params.model ?? undefined,
      fixLoop: opts.fixLoop,
      maxFixAttempts: plan[0]?.max_fix_attempts ?? 3,
      writerVendorId: plan[0]?.writer_vendor ?? undefined,
    },
  };
}

/** Adds `run` to the `judge` command group (creating the group when the judge commands are not registered). */
export function registerJudgeRunCommand(cli: Command) {
  const judge = cli.commands.find((c) => c.name() === 'judge') ?? cli.command('judge').description('LLM judges.');
  judge
    .command('run')
    .description('Run the program’s active judges over the catalog (production judging).')
    .requiredOption('--program <id>', 'the program whose judges run')
    .option('--catalog <file>', 'import this JSONL/CSV catalog first, then judge the synopses it created or edited')
    .option('--changed-since <time>', 'judge synopses created or edited since this ISO time')
    .option('--mode <mode>', 'sync (chat completions) or batch (provider Batch API, cheaper, slower)', 'sync')
    .option('--run-id <id>', 'run id (default: a timestamp); the same id resumes/joins the same run')
    .option('--limit <n>', 'judge at most n items')
    .option('--no-fix-loop', 'do not open writer fix loops for failing synopses')
    .option(
      '--retry-errors',
      'judge again exactly the item × criterion keys of run --run-id whose judgment errored (its prompts, model and samples), as run <run-id>-retry-<n>',
    )
    .option('--wait', 'wait for the run to finish, printing progress')
    .option('--json', 'print the result as JSON')
    .action(async (opts: JudgeRunOptions) => {
      if (opts.mode !== 'sync' && opts.mode !== 'batch')
        throw new CliError(`--mode must be sync or batch, not "${opts.mode}"`);
      if (opts.catalog && opts.changedSince)
        throw new CliError('--catalog and --changed-since exclude each other: pick one');
      if (opts.changedSince !== undefined && Number.isNaN(Date.parse(opts.changedSince)))
        throw new CliError(
          `--changed-since: "${opts.changedSince}" is not a time (use ISO 8601, e.g. 2026-01-31T00:00:00Z)`,
        );
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
        throw new CliError(`--limit must be a positive integer, not "${opts.limit}"`);
      if (opts.retryErrors && !opts.runId)
        throw new CliError('--retry-errors needs --run-id: the run whose errored judgments to judge again');
      if (opts.retryErrors && (opts.catalog || opts.changedSince))
        throw new CliError(
          '--retry-errors judges the errored keys of --run-id: it takes no --catalog or --changed-since',
        );
      await withContext(async ({ config, database, client }) => {
        const run = opts.retryErrors
          ? await retryErrorsRun(database.db, opts, limit)
          : await catalogRun(opts, limit, { config, database });
        if (!run) return;
        const { runId, input } = run;
        const workflowId = productionWorkflowId(opts.program, runId);
        const handle = await client.workflow
          .start(productionWorkflow, {
            workflowId,
            taskQueue: config.temporal.taskQueue,
            staticSummary: run.summary,
            args: [input],
          })
          .catch((err: unknown) => {
            // The same run id joins the run already going (a retried command starts nothing new).
            if (err instanceof WorkflowExecutionAlreadyStartedError)
              return client.workflow.getHandle<typeof productionWorkflow>(workflowId);
            throw err;
          });
        if (!opts.wait) {
          console.log(
            opts.json
              ? JSON.stringify({ workflowId, runId })
              : `started ${workflowId}\nprogress: judgeflow judge status --program ${opts.program} --run-id ${runId}`,
          );
          return;
        }
        const timer = setInterval(() => {
          handle
            .query(productionStatusQuery)
            .then((p) => !opts.json && console.log(formatProgress(p)))
            .catch((err: unknown) => {
              if (!(err instanceof WorkflowNotFoundError)) console.error((err as Error).message);
            });
        }, 5000);
        try {
          const result = await handle.result().catch((err: unknown) => {
            // Why, in the words of the failure that stopped it (e.g. the provider refused the key: which setting to fix).
            if (err instanceof WorkflowFailedError)
              throw new CliError(`production run ${runId} failed: ${rootFailureMessage(err)}`, 1);
            throw err;
          });
          // Per criterion, errors included; a retry reports the run it retried, with the retry applied.
          const of = opts.retryErrors ? opts.runId! : runId;
          const verdicts = await runVerdicts(database.db, productionRunKey(opts.program, of));
          if (opts.json)
            console.log(JSON.stringify({ ...result, ...(opts.retryErrors ? { retryOf: of } : {}), ...verdicts }));
          else
            console.log(
              `${formatProgress(result)}\n${opts.retryErrors ? `run ${of}, its retries applied: ` : ''}${formatRunVerdicts(opts.program, of, verdicts)}`,
            );
        } finally {
          clearInterval(timer);
        }
      });
    });
  judge
    .command('status')
    .description('Progress of a production run.')
    .requiredOption('--program <id>', 'the program')
    .requiredOption('--run-id <id>', 'the run id')
    .option('--json', 'print as JSON')
    .action(async (opts: { program: string; runId: string; json?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const progress = await client.workflow
          .getHandle(productionWorkflowId(opts.program, opts.runId))
          .query(productionStatusQuery)
          .catch((err: unknown) => {
            throw err instanceof WorkflowNotFoundError
              ? new CliError(`no production run ${opts.runId} of ${opts.program}`)
              : err;
          });
        // Batch shards finish only when their batches do: say where the batches are meanwhile.
        const batches = progress.mode === 'batch' ? await batchProgress(database.db, progress.runKey) : undefined;
        // Per criterion, with errors as errors (and the errors a retry run has since decided applied).
        const verdicts = await runVerdicts(database.db, progress.runKey);
        // A run that failed (e.g. the provider refused the key) says why, and the command exits 1.
        const failure = progress.done
          ? undefined
          : await workflowFailure(client, productionWorkflowId(opts.program, opts.runId)).catch(() => undefined);
        if (opts.json)
          console.log(
            JSON.stringify({
              ...progress,
              ...(batches ? { batches } : {}),
              ...verdicts,
              ...(failure ? { failure } : {}),
            }),
          );
        else
          console.log(
            [
              formatProgress(progress),
              ...(batches
                ? [
                    `batches: ${batches.submitted} submitted (${batches.lines} lines), ${batches.open} at the provider, ${batches.ingested} ingested — ${Object.entries(
                      batches.byStatus,
                    )
                      .map(([k, n]) => `${k} ${n}`)
                      .join(', ')}`,
                  ]
                : []),
              ...(batches?.warning ? [`WARNING   ${batches.warning}`] : []),
              formatRunVerdicts(opts.program, opts.runId, verdicts),
            ].join('\n'),
          );
        if (failure) throw new CliError(`FAILED    ${failure}`, 1);
      });
    });
}
