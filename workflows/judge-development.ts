/**
 * Judge development: one dedicated judge per criterion, measured on the golden dev split; a judge
 * below target is improved by automatic prompt optimization on dev; the chosen prompt is then
 * measured once on the held-out test split. Every step judges as production will: the criterion's
 * samples and the program's model (the spec's `judges.model`, else JUDGE_MODEL), so the accuracy
 * measured is the accuracy of what runs.
 */
import { executeChild, patched, proxyActivities } from '@temporalio/workflow';
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

/** A multilingual program's judges of one locale: validated when every one meets the target on that locale's test split. */
export interface LocaleJudges {
  prompts: Record<string, string>;
  validated: boolean;
}

export interface JudgeDevelopmentResult {
  judges: JudgeSummary[];
  /** A single-locale program's active prompts ({} for a multilingual one: see `locales`). */
  prompts: Record<string, string>;
  allMeetTarget: boolean;
  /** A multilingual program: each locale's judges (production judges a locale only when validated). */
  locales?: Record<string, LocaleJudges>;
}

/** Patch id of judges developed per locale (a multilingual program's): histories recorded before it develop one set. */
export const JUDGES_PER_LOCALE = 'judges-per-locale';

export async function judgeDevelopmentWorkflow(input: JudgeDevelopmentInput): Promise<JudgeDevelopmentResult> {
  const { plan } = input;
  if (plan.locales?.length && patched(JUDGES_PER_LOCALE)) {
    const perLocale = await Promise.all(plan.locales.map((locale) => developJudges(input, locale)));
    const judges = perLocale.flatMap((l) => l.judges);
    return {
      judges,
      prompts: {},
      allMeetTarget: judges.every((j) => j.meetsTarget),
      locales: Object.fromEntries(
        perLocale.map((l, i) => [plan.locales![i], { prompts: l.prompts, validated: l.allMeetTarget }]),
      ),
    };
  }
  return developJudges(input);
}

/** One judge per criterion: of the program, or of one locale (its rubrics, measured on its golden items only). */
async function developJudges(input: JudgeDevelopmentInput, locale?: string): Promise<JudgeDevelopmentResult> {
  const { plan } = input;
  const prompts = await ensureJudgePrompts({
    programId: plan.programId,
    guidelineVersion: input.guidelineVersion,
    ...(locale ? { locale } : {}),
  });
  const judges = await Promise.all(
    plan.criteria.map((criterion) => developJudge(input, criterion, prompts[criterion], locale)),
  );
  const active = { ...prompts, ...Object.fromEntries(judges.map((j) => [j.criterion, j.promptHash])) };
  return { judges, prompts: active, allMeetTarget: judges.every((j) => j.meetsTarget) };
}

async function developJudge(
  input: JudgeDevelopmentInput,
  criterion: string,
  basePromptHash: string,
  locale?: string,
): Promise<JudgeSummary> {
  const { plan } = input;
  // A plan recorded before criterionSamples existed runs the program-wide samples, as it did then.
  const samples = plan.judges.criterionSamples?.[criterion] ?? plan.judges.samples;
  const model = plan.judges.model;
  const name = locale ? `${criterion} (${locale})` : criterion;
  const evaluate = (promptHash: string, split: 'dev' | 'test') =>
    evaluateJudge.executeWithOptions(
      {
        ...LLM_CALL,
        summary: `${name} judge on ${split} (${promptHash.slice(0, 10)}, ${samples} sample(s), ${model})`,
      },
      [{ programId: plan.programId, criterion, promptHash, split, samples, model }],
    );
  const dev = await evaluate(basePromptHash, 'dev');
  let promptHash = basePromptHash;
  let devAccuracy = dev.accuracy;
  if (plan.judges.optimize && (dev.accuracy ?? 0) < plan.targets.judgeAccuracy) {
    const optimized = await executeChild(promptOptimizationWorkflow, {
      workflowId: optimizationWorkflowId(input.workflowId, criterion, locale),
      staticSummary: `optimize the ${name} judge on dev (from ${pct(dev.accuracy)})`,
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
    ...(locale ? { locale } : {}),
    promptHash,
    devAccuracy: devAccuracy ?? null,
    testAccuracy: test.accuracy ?? null,
    tpr: test.tpr ?? null,
    tnr: test.tnr ?? null,
    meetsTarget: (test.accuracy ?? 0) >= plan.targets.judgeAccuracy,
  };
}

/** A multilingual program's judges gate: each locale's held-out accuracy per criterion, and whether it passes. */
export function localeGate(judges: JudgeSummary[], locales: Record<string, LocaleJudges>) {
  const evidence = Object.fromEntries(
    Object.entries(locales).map(([locale, l]) => [
      locale,
      {
        passes: l.validated,
        accuracy: Object.fromEntries(
          judges.filter((j) => j.locale === locale).map((j) => [j.criterion, j.testAccuracy]),
        ),
      },
    ]),
  );
  const below = Object.entries(locales)
    .filter(([, l]) => !l.validated)
    .map(
      ([locale]) =>
        `${locale} (${judges
          .filter((j) => j.locale === locale && !j.meetsTarget)
          .map((j) => `${j.criterion} ${pct(j.testAccuracy)}`)
          .join(', ')})`,
    );
  const reason = below.length
    ? `judges below the accuracy target on their locale's held-out set: ${below.join('; ')}. Approve to judge production without ${below.length > 1 ? 'those locales' : 'that locale'}: a locale's items are judged only by judges validated for it`
    : `every locale's judges meet the accuracy target on its own held-out set (${Object.keys(locales).join(', ')})`;
  return { reason, evidence };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
