/**
 * `judgeflow judge eval …` (a judge prompt's agreement with the golden labels of one split) and
 * `judgeflow judge optimize …` (the prompt-optimization workflow). The group is exported so other
 * commands (`judge run`, `judge status`) join it.
 *
 * `judge` loads this module whatever its subcommand: the judging engine, the LLM client, the spec
 * schemas and the optimization workflow are required in the actions that use them, not imported, so
 * that `judge status` does not wait for them to load (test/cli-loading.test.ts).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { and, eq, like } from 'drizzle-orm';
import type { Command } from 'commander';
import type { JudgeMetrics } from '../../judging/golden';
import type { Db } from '../../platform/db';
import type { ProgramSpec } from '../../schema/program-spec';
import { judgePrompts, programs } from '../../schema/tables';
import { CliError, withContext } from './context';
import { optimizationWorkflowId, programWorkflowId } from '../../workflows/ids';

/** The `judge` command group (created once, shared with `judge run` and `judge status`). */
export function judgeGroup(cli: Command): Command {
  return (
    cli.commands.find((c) => c.name() === 'judge') ??
    cli.command('judge').description('LLM judges: evaluate, optimize, run.')
  );
}

const positiveInt = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, not "${value}"`);
  return n;
};

/** A prompt by full hash, unique hash prefix, or `active` (the criterion's active prompt). */
async function resolvePrompt(db: Db, programId: string, criterion: string, ref: string): Promise<string> {
  const where =
    ref === 'active' ? eq(judgePrompts.status, 'active') : like(judgePrompts.hash, `${ref.replace(/[%_]/g, '')}%`);
  const rows = await db
    .select({ hash: judgePrompts.hash })
    .from(judgePrompts)
    .where(
      and(
        eq(judgePrompts.programId, programId),
        eq(judgePrompts.criterion, criterion),
        eq(judgePrompts.agent, ''),
        where,
      ),
    );
  if (rows.length === 1) return rows[0].hash;
  if (!rows.length)
    throw new CliError(
      `--prompt: no ${ref === 'active' ? 'active prompt' : `prompt starting with "${ref}"`} for ${criterion} in program ${programId}`,
    );
  throw new CliError(`--prompt: "${ref}" matches ${rows.length} prompts; give more of the hash`);
}

/** What the program's spec sets for a criterion's judge: its samples and the model (else JUDGE_MODEL). */
async function specJudging(
  db: Db,
  programId: string,
  criterion: string,
  fallbackModel: string,
): Promise<{ samples: number; model: string }> {
  const [row] = await db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId));
  if (!row) throw new CliError(`--program: unknown program ${programId}`);
  const spec = row.spec as unknown as ProgramSpec;
  const { criterionSamples } = require('../../schema/program-spec') as typeof import('../../schema/program-spec');
  const samples = criterionSamples(spec)[criterion];
  if (samples === undefined)
    throw new CliError(
      `--criterion: program ${programId} has no criterion ${criterion} (${spec.criteria.map((c) => c.id).join(', ')})`,
    );
  return { samples, model: spec.judges.model ?? fallbackModel };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const ci = (v: [number, number] | null) => (v ? ` [${pct(v[0])}, ${pct(v[1])}]` : '');

export function formatMetrics(criterion: string, m: JudgeMetrics): string {
  const c = m.confusion;
  return [
    `${criterion} judge ${m.promptHash.slice(0, 12)} on ${m.split} (${m.n} items, ${m.samples} sample(s), ${m.model}; ${m.errors} errors counted as fail)`,
    `  accuracy ${pct(m.accuracy)}${ci(m.ci95.accuracy)}  precision ${pct(m.precision)}${ci(m.ci95.precision)}  recall/TPR ${pct(m.tpr)}${ci(m.ci95.tpr)}  TNR ${pct(m.tnr)}${ci(m.ci95.tnr)}`,
    `  F1 ${m.f1?.toFixed(3) ?? 'n/a'}${m.ci95.f1 ? ` [${m.ci95.f1[0].toFixed(3)}, ${m.ci95.f1[1].toFixed(3)}]` : ''}  kappa ${m.kappa?.toFixed(3) ?? 'n/a'}${m.ci95.kappa ? ` [${m.ci95.kappa[0].toFixed(3)}, ${m.ci95.kappa[1].toFixed(3)}]` : ''}`,
    `  confusion (positive = pass): tp ${c.tp}  fp ${c.fp}  fn ${c.fn}  tn ${c.tn}`,
  ].join('\n');
}

export function registerJudgeCommands(cli: Command): Command {
  const judge = judgeGroup(cli);
  judge
    .command('eval')
    .description('Agreement of a judge prompt with the golden labels of one split (stored in judge_evaluations).')
    .requiredOption('--program <id>', 'the program')
    .requiredOption('--criterion <id>', 'the criterion (a panel criterion is evaluated as its panel)')
    .option('--prompt <hash>', 'prompt hash, a unique prefix of it, or "active"', 'active')
    .option('--split <split>', 'dev or test', 'dev')
    .option('--samples <n>', "samples per item (rounded-mean consensus; default: the criterion's in the spec)")
    .option('--model <model>', "model (default: the spec's judges.model, else JUDGE_MODEL)")
    .option('--json', 'print the metrics as JSON')
    .action(
      async (opts: {
        program: string;
        criterion: string;
        prompt: string;
        split: string;
        samples?: string;
        model?: string;
        json?: boolean;
      }) => {
        if (opts.split !== 'dev' && opts.split !== 'test')
          throw new CliError(`--split must be dev or test, not "${opts.split}"`);
        const given = opts.samples === undefined ? undefined : positiveInt('samples', opts.samples);
        await withContext(
          async ({ config, database }) => {
            const spec = await specJudging(database.db, opts.program, opts.criterion, config.llm.model);
            const samples = given ?? spec.samples;
            const promptHash = await resolvePrompt(database.db, opts.program, opts.criterion, opts.prompt);
            const { createJudgingActivities } =
              require('../../judging/activities') as typeof import('../../judging/activities');
            const { createActivityDeps } = require('../../activities/deps') as typeof import('../../activities/deps');
            const { createLogger } = require('../../platform/logger') as typeof import('../../platform/logger');
            const acts = createJudgingActivities(
              createActivityDeps({ db: database.db, config, logger: createLogger('cli', config.logLevel) }),
            );
            const metrics = await acts
              .evaluateJudge({
                programId: opts.program,
                criterion: opts.criterion,
                promptHash,
                split: opts.split as 'dev' | 'test',
                samples,
                model: opts.model ?? spec.model,
              })
              .catch((err: Error) => {
                throw /no .* golden labels|unknown judge prompt/.test(err.message) ? new CliError(err.message) : err;
              });
            console.log(opts.json ? JSON.stringify(metrics) : formatMetrics(opts.criterion, metrics));
          },
          { temporal: false },
        );
      },
    );
  judge
    .command('optimize')
    .description(
      'Automatic prompt optimization of one criterion’s judge on the dev split (a Temporal workflow); prints dev before/after and held-out test accuracy.',
    )
    .requiredOption('--program <id>', 'the program')
    .requiredOption('--criterion <id>', 'the criterion')
    .option('--prompt <hash>', 'the starting prompt: hash, prefix, or "active"', 'active')
    .option('--max-llm-calls <n>', 'LLM request budget of the run', '2000')
    .option('--beam <n>', 'beam width', '3')
    .option('--steps <n>', 'optimization steps', '3')
    .option('--samples <n>', "samples per item while scoring (default: the criterion's in the spec)")
    .option('--model <model>', "model (default: the spec's judges.model, else JUDGE_MODEL)")
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        program: string;
        criterion: string;
        prompt: string;
        maxLlmCalls: string;
        beam: string;
        steps: string;
        samples?: string;
        model?: string;
        json?: boolean;
      }) => {
        const given = opts.samples === undefined ? undefined : positiveInt('samples', opts.samples);
        const budget = {
          maxLlmCalls: positiveInt('max-llm-calls', opts.maxLlmCalls),
          beamWidth: positiveInt('beam', opts.beam),
          steps: positiveInt('steps', opts.steps),
        };
        await withContext(async ({ config, database, client }) => {
          const spec = await specJudging(database.db, opts.program, opts.criterion, config.llm.model);
          const args = { ...budget, samples: given ?? spec.samples, model: opts.model ?? spec.model };
          const basePromptHash = await resolvePrompt(database.db, opts.program, opts.criterion, opts.prompt);
          const workflowId = optimizationWorkflowId(
            programWorkflowId(opts.program),
            opts.criterion,
            `${basePromptHash.slice(0, 12)}-${Date.now()}`,
          );
          const { promptOptimizationWorkflow } =
            require('../../workflows/prompt-optimization') as typeof import('../../workflows/prompt-optimization');
          const result = await client.workflow.execute(promptOptimizationWorkflow, {
            workflowId,
            taskQueue: config.temporal.taskQueue,
            staticSummary: `optimize the ${opts.criterion} judge of ${opts.program}`,
            args: [{ programId: opts.program, criterion: opts.criterion, basePromptHash, ...args }],
          });
          if (opts.json) console.log(JSON.stringify({ workflowId, ...result }));
          else
            console.log(
              `${workflowId}\n  best prompt ${result.bestPromptHash.slice(0, 12)} after ${result.stepsRun} step(s), ${result.candidates} candidates, ${result.llmCalls} LLM calls\n  dev ${pct(result.devAccuracyBefore)} → ${pct(result.devAccuracyAfter)}; held-out test ${pct(result.testAccuracy)} (measured once, never used for selection)`,
            );
        });
      },
    );
  return judge;
}
