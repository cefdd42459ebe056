/**
 * What `judgeflow judge run` does once its options are checked (judge-run.ts): reads the program's
 * plan and active prompts (or the errored keys of the run retried), imports a catalog file, starts
 * the production run and, with --wait, follows it. Required only when `judge run` runs: it loads
 * the LLM client, the catalog import and the production workflow, which `judge status` never needs.
 */
import { createActivityDeps } from '../../activities/deps';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { CatalogRejectedError, importCatalog } from '../../catalog/import';
import { addImportToItemSet } from '../../catalog/item-set';
import { eq, sql } from 'drizzle-orm';
import { createProductionActivities, type ItemSelection } from '../../production/activities';
import { formatVerdictCounts, retryRunKeys, runErrors, runVerdictCounts } from '../../production/verdicts';
import type { Db } from '../../platform/db';
import { productionRuns } from '../../schema/tables';
import { createProgramActivities } from '../../program/activities';
import { createLogger } from '../../platform/logger';
import { productionWorkflow } from '../../workflows/production';
import { productionStatusQuery, type ProductionInput } from '../../workflows/production-messages';
import { CliError, withContext, type CliContext } from './context';
import { rootFailureMessage } from './failure';
import { formatProgress, formatRunVerdicts, runVerdicts } from './judge-status';
import { productionRunKey, productionWorkflowId } from '../../workflows/ids';

export interface JudgeRunOptions {
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

/** Starts (or joins) the run `opts` asks for; with --wait, follows it to its end and prints its verdicts. */
export async function startProductionRun(opts: JudgeRunOptions, limit: number | undefined): Promise<void> {
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
}
