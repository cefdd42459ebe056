/**
 * `judgeflow judge status --program <id> --run-id <id>`: a production run's progress, its batches
 * (batch mode) and its verdicts; and the formatting `judge run --wait` prints with too. Its own
 * module, importing only what status reads and prints with: `judge` loads it with `judge run`'s
 * registration, and status must not wait for the judging code to load (test/cli-loading.test.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { batchProgress } from '../../production/batch-progress';
import { formatVerdictCounts, retryRunKeys, runErrors, runVerdictCounts } from '../../production/verdicts';
import type { Db } from '../../platform/db';
import { productionStatusQuery, type ProductionProgress } from '../../workflows/production-messages';
import { productionRunKey, productionWorkflowId } from '../../workflows/ids';
import { CliError, withContext } from './context';
import { workflowFailure } from './failure';
import { judgeGroup } from './judge';

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

/** Adds `status` to the `judge` command group. */
export function registerJudgeStatusCommand(cli: Command) {
  judgeGroup(cli)
    .command('status')
    .description('Progress of a production run.')
    .requiredOption('--program <id>', 'the program')
    .requiredOption('--run-id <id>', 'the run id')
    .option('--json', 'print as JSON')
    .action(async (opts: { program: string; runId: string; json?: boolean }) => {
      await withContext(async ({ client, database }) => {
        const status = await judgeStatus(client, database.db, opts.program, opts.runId);
        const { batches, failure, ...progress } = status;
        if (opts.json) console.log(JSON.stringify(status));
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
              formatRunVerdicts(opts.program, opts.runId, status),
            ].join('\n'),
          );
        if (failure) throw new CliError(`FAILED    ${failure}`, 1);
      });
    });
}

/**
 * What `judge status` shows: the run's progress (its query), where its batches are (batch mode), its
 * verdicts per criterion and, for a run that failed, why. bench:judging times it during a run.
 */
export async function judgeStatus(client: Client, db: Db, programId: string, runId: string) {
  const workflowId = productionWorkflowId(programId, runId);
  const runKey = productionRunKey(programId, runId);
  // The query waits for a worker that may be busy judging: the database's figures and the run's
  // failure, if any, are read meanwhile rather than after it.
  const [progress, verdicts, failure, batches] = await Promise.all([
    client.workflow
      .getHandle(workflowId)
      .query(productionStatusQuery)
      .catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? new CliError(`no production run ${runId} of ${programId}`) : err;
      }),
    // Per criterion, with errors as errors (and the errors a retry run has since decided applied).
    runVerdicts(db, runKey),
    // A run that failed (e.g. the provider refused the key) says why, and the command exits 1.
    workflowFailure(client, workflowId).catch(() => undefined),
    // Batch shards finish only when their batches do: say where the batches are meanwhile.
    batchProgress(db, runKey),
  ]);
  return {
    ...progress,
    ...(progress.mode === 'batch' ? { batches } : {}),
    ...verdicts,
    ...(failure ? { failure } : {}),
  };
}
