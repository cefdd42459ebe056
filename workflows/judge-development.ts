/**
 * Judge development: one dedicated judge per criterion, measured on the golden dev split; a judge
 * below target is improved by automatic prompt optimization on dev; the chosen prompt is then
 * measured once on the held-out test split. Every step judges as production will: the criterion's
 * samples and the program's model (the spec's `judges.model`, else JUDGE_MODEL), so the accuracy
 * measured is the accuracy of what runs.
 */
import { executeChild, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import type { JudgeSummary } from './messages';
import { promptOptimizationWorkflow } from './prompt-optimization';
import { DATABASE, LLM_CALL } from './activity-options';
import { optimizationWorkflowId } from './ids';

const { ensureJudgePrompts, evaluateJudge } = proxyActivities<Activities>(LLM_CALL);
const { activateJudgePrompt } = proxyActivities<Activities>(DATABASE);

export interface JudgeDevelopmentInput {
  plan: ProgramPlan;
  guidelineVersion: number;
  workflowId: string;
}

export interface JudgeDevelopmentResult {
  judges: JudgeSummary[];
  prompts: Record<string, string>;
  allMeetTarget: boolean;
}

export async function judgeDevelopmentWorkflow(input: JudgeDevelopmentInput): Promise<JudgeDevelopmentResult> {
  const { plan } = input;
  const prompts = await ensureJudgePrompts({ programId: plan.programId, guidelineVersion: input.guidelineVersion });
  const judges = await Promise.all(
    plan.criteria.map((criterion) => developJudge(input, criterion, prompts[criterion])),
  );
  const active = { ...prompts, ...Object.fromEntries(judges.map((j) => [j.criterion, j.promptHash])) };
  return { judges, prompts: active, allMeetTarget: judges.every((j) => j.meetsTarget) };
}

async function developJudge(
  input: JudgeDevelopmentInput,
  criterion: string,
  basePromptHash: string,
): Promise<JudgeSummary> {
  const { plan } = input;
  // A plan recorded before criterionSamples existed runs the program-wide samples, as it did then.
  const samples = plan.judges.criterionSamples?.[criterion] ?? plan.judges.samples;
  const model = plan.judges.model;
  const evaluate = (promptHash: string, split: 'dev' | 'test') =>
    evaluateJudge.executeWithOptions(
      {
        ...LLM_CALL,
        summary: `${criterion} judge on ${split} (${promptHash.slice(0, 10)}, ${samples} sample(s), ${model})`,
      },
      [{ programId: plan.programId, criterion, promptHash, split, samples, model }],
    );
  const dev = await evaluate(basePromptHash, 'dev');
  let promptHash = basePromptHash;
  let devAccuracy = dev.accuracy;
  if (plan.judges.optimize && (dev.accuracy ?? 0) < plan.targets.judgeAccuracy) {
    const optimized = await executeChild(promptOptimizationWorkflow, {
      workflowId: optimizationWorkflowId(input.workflowId, criterion),
      staticSummary: `optimize the ${criterion} judge on dev (from ${pct(dev.accuracy)})`,
      args: [
        {
          programId: plan.programId,
          criterion,
          basePromptHash,
          maxLlmCalls: plan.judges.maxOptimizerCalls,
          beamWidth: 3,
          steps: 3,
          samples,
          model,
        },
      ],
    });
    promptHash = optimized.bestPromptHash;
    devAccuracy = optimized.devAccuracyAfter;
  }
  // The held-out split is touched exactly once, for the prompt already chosen on dev.
  const test = await evaluate(promptHash, 'test');
  await activateJudgePrompt({ programId: plan.programId, criterion, promptHash });
  return {
    criterion,
    promptHash,
    devAccuracy: devAccuracy ?? null,
    testAccuracy: test.accuracy ?? null,
    tpr: test.tpr ?? null,
    tnr: test.tnr ?? null,
    meetsTarget: (test.accuracy ?? 0) >= plan.targets.judgeAccuracy,
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
