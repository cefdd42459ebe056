/**
 * `judgeflow judge run --program <id> [--catalog file | --changed-since <time>] [--mode sync|batch]`:
 * a production run of the program's active judges over the catalog (all items, the items of an
 * imported file, or those new or edited since a time), as `program/<id>/production/<runId>`.
 */
import { createActivityDeps } from '../../activities/deps';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { CatalogRejectedError, importCatalog } from '../../catalog/import';
import { createProductionActivities, type ItemSelection } from '../../production/activities';
import { batchProgress } from '../../production/batch';
import { createProgramActivities } from '../../program/activities';
import { createLogger } from '../../platform/logger';
import { productionStatusQuery, productionWorkflow, type ProductionProgress } from '../../workflows/production';
import { CliError, withContext } from './context';
import { productionWorkflowId } from '../../workflows/ids';

interface JudgeRunOptions {
  program: string;
  catalog?: string;
  changedSince?: string;
  mode: string;
  runId?: string;
  limit?: string;
  fixLoop: boolean;
  wait?: boolean;
  json?: boolean;
}

export const formatProgress = (p: ProductionProgress) =>
  `${p.runKey} (${p.mode}): ${p.judged}/${p.total} judged, ${p.failing} failing, ${p.errors} with errors, ${p.fixLoopsStarted} fix loops; shards ${p.shardsDone} done, ${p.shardsRunning} running${p.done ? ' — done' : ''}`;

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
    .option('--wait', 'wait for the run to finish, printing progress')
    .option('--json', 'print the result as JSON')
    .action(async (opts: JudgeRunOptions) => {
      if (opts.mode !== 'sync' && opts.mode !== 'batch') throw new CliError(`--mode must be sync or batch, not "${opts.mode}"`);
      if (opts.catalog && opts.changedSince) throw new CliError('--catalog and --changed-since exclude each other: pick one');
      if (opts.changedSince !== undefined && Number.isNaN(Date.parse(opts.changedSince))) throw new CliError(`--changed-since: "${opts.changedSince}" is not a time (use ISO 8601, e.g. 2026-01-31T00:00:00Z)`);
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new CliError(`--limit must be a positive integer, not "${opts.limit}"`);
      await withContext(async ({ config, database, client }) => {
        const deps = createActivityDeps({ db: database.db, config, logger: createLogger('cli', config.logLevel) });
        const plan = await createProgramActivities(deps)
          .loadProgramPlan(opts.program)
          .catch((err: Error) => {
            throw new CliError(`--program: ${err.message}`);
          });
        const prompts = await createProductionActivities(deps).activeJudgePrompts(opts.program);
        const missing = plan.criteria.filter((c) => !Object.keys(prompts).some((k) => k === c || k.startsWith(`${c}.`)));
        if (missing.length) throw new CliError(`program ${opts.program} has no active judge for ${missing.join(', ')}: finish judge development first`);

        let selection: ItemSelection = { kind: 'all', limit };
        if (opts.changedSince) selection = { kind: 'changedSince', since: new Date(opts.changedSince).toISOString(), limit };
        if (opts.catalog) {
          const imported = await importCatalog(database.sql, opts.catalog).catch((err: unknown) => {
            throw err instanceof CatalogRejectedError ? new CliError(`${opts.catalog}: ${err.message}`) : err;
          });
          // Unchanged synopses of the file were judged before (judgments are keyed by text hash).
          selection = { kind: 'changedSince', since: imported.importedAt, limit };
        }
        const runId = opts.runId ?? new Date().toISOString().replace(/[:.]/g, '-');
        const workflowId = productionWorkflowId(opts.program, runId);
        const handle = await client.workflow
          .start(productionWorkflow, {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          staticSummary: `production judging (${opts.mode}) of ${opts.program}`,
          args: [
            {
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
          ],
          })
          .catch((err: unknown) => {
            // The same run id joins the run already going (a retried command starts nothing new).
            if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle<typeof productionWorkflow>(workflowId);
            throw err;
          });
        if (!opts.wait) {
          console.log(opts.json ? JSON.stringify({ workflowId, runId }) : `started ${workflowId}\nprogress: judgeflow judge status --program ${opts.program} --run-id ${runId}`);
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
          const result = await handle.result();
          console.log(opts.json ? JSON.stringify(result) : formatProgress(result));
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
            throw err instanceof WorkflowNotFoundError ? new CliError(`no production run ${opts.runId} of ${opts.program}`) : err;
          });
        // Batch shards finish only when their batches do: say where the batches are meanwhile.
        const batches = progress.mode === 'batch' ? await batchProgress(database.db, progress.runKey) : undefined;
        if (opts.json) console.log(JSON.stringify(batches ? { ...progress, batches } : progress));
        else console.log(batches ? `${formatProgress(progress)}\nbatches: ${batches.submitted} submitted (${batches.lines} lines), ${batches.open} at the provider, ${batches.ingested} ingested — ${Object.entries(batches.byStatus).map(([k, n]) => `${k} ${n}`).join(', ')}` : formatProgress(progress));
      });
    });
}
