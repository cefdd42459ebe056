/**
 * `judgeflow judge run --program <id> [--catalog file | --changed-since <time>] [--mode sync|batch]`:
 * a production run of the program's active judges over the catalog (all items, the items of an
 * imported file, or those new or edited since a time), as `program/<id>/production/<runId>`.
 * `--retry-errors --run-id R` judges again exactly the errored keys of run R, as run `R-retry-<n>`.
 *
 * Here the options and their checks only: what the run loads (the LLM client, the catalog import,
 * the production workflow) is required from judge-run-start.ts when it runs, since `judge` loads
 * this module for `judge status` too.
 */
import type { Command } from 'commander';
import { CliError } from './context';
import { judgeGroup } from './judge';
import type { JudgeRunOptions } from './judge-run-start';

/** Adds `run` to the `judge` command group (creating the group when the judge commands are not registered). */
export function registerJudgeRunCommand(cli: Command) {
  judgeGroup(cli)
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
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require('./judge-run-start') as typeof import('./judge-run-start')).startProductionRun(opts, limit);
    });
}
