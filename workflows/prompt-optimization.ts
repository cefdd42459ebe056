/**
 * Automatic prompt optimization (APO / ProTeGi, arXiv 2305.03495) for one criterion's judge: each
 * step, every prompt of the beam gets an LLM critique of its dev-set errors and edited successors;
 * candidates race on growing slices of the dev set (successive halving: the worse half is dropped
 * after each slice), the survivors are scored on the whole dev set, and the best `beamWidth` form
 * the next beam. An LLM-call budget caps the run. Selection reads the dev split only; the chosen
 * prompt is then evaluated exactly once on the held-out test split.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JudgeMetrics } from '../judging/golden';
import type { DevScore } from '../judging/optimizer';
import type { Activities } from '../activities';
import { LLM_CALL } from './activity-options';

const acts =
  proxyActivities<Pick<Activities, 'scoreOnDev' | 'proposeCandidates' | 'selectCandidate' | 'evaluateJudge'>>(LLM_CALL);

export interface PromptOptimizationInput {
  programId: string;
  criterion: string;
  basePromptHash: string;
  /** LLM requests the run may make (judging, critiques, edits; the final test evaluation excluded). */
  maxLlmCalls: number;
  beamWidth: number;
  steps: number;
  samples: number;
  /** Edited prompts proposed per beam member and step (default 2). */
  editsPerPrompt?: number;
  /** Dev items added per successive-halving rung (default 20). */
  minibatch?: number;
  model?: string;
}

export interface PromptOptimizationResult {
  bestPromptHash: string;
  devAccuracyBefore: number | null;
  devAccuracyAfter: number | null;
  testAccuracy: number | null;
  test: JudgeMetrics;
  llmCalls: number;
  candidates: number;
  stepsRun: number;
}

export async function promptOptimizationWorkflow(input: PromptOptimizationInput): Promise<PromptOptimizationResult> {
  const runId = workflowInfo().workflowId;
  const minibatch = input.minibatch ?? 20;
  const edits = input.editsPerPrompt ?? 2;
  let calls = 0;
  const common = {
    programId: input.programId,
    criterion: input.criterion,
    runId,
    samples: input.samples,
    model: input.model,
  };
  const score = async (promptHash: string, through: number): Promise<DevScore> => {
    const s = await acts.scoreOnDev({ ...common, promptHash, through });
    calls += s.llmRequests;
    return s;
  };

  const base = await score(input.basePromptHash, Number.MAX_SAFE_INTEGER);
  const devSize = base.devSize;
  const full = new Map<string, DevScore>([[base.promptHash, base]]);
  let beam = [base.promptHash];
  let candidates = 0;
  let stepsRun = 0;
  // What scoring `n` more prompts on `items` dev items costs at most (repairs aside).
  const affordable = (prompts: number, itemsEach: number) =>
    calls + prompts * itemsEach * input.samples <= input.maxLlmCalls;

  for (let step = 1; step <= input.steps && calls < input.maxLlmCalls; step++) {
    const fresh: string[] = [];
    for (const parent of beam) {
      if (calls >= input.maxLlmCalls) break;
      const proposed = await acts.proposeCandidates({
        programId: input.programId,
        criterion: input.criterion,
        parentHash: parent,
        runId,
        step,
        count: edits,
        model: input.model,
      });
      calls += proposed.llmRequests;
      for (const c of proposed.candidates) if (!full.has(c) && !fresh.includes(c)) fresh.push(c);
    }
    if (!fresh.length) break;
    stepsRun = step;
    candidates += fresh.length;

    // Successive halving over growing dev slices: cheap slices weed out most candidates.
    let survivors = fresh;
    let through = 0;
    while (
      survivors.length > input.beamWidth &&
      through + minibatch < devSize &&
      affordable(survivors.length, minibatch)
    ) {
      through += minibatch;
      const scores = await Promise.all(survivors.map((c) => score(c, through)));
      scores.sort((a, b) => (b.devAccuracy ?? 0) - (a.devAccuracy ?? 0));
      survivors = scores.slice(0, Math.max(input.beamWidth, Math.ceil(scores.length / 2))).map((s) => s.promptHash);
    }
    for (const c of survivors) {
      if (!affordable(1, devSize - through)) break;
      full.set(c, await score(c, devSize));
    }
    beam = [...full.values()]
      .sort((a, b) => (b.devAccuracy ?? 0) - (a.devAccuracy ?? 0))
      .slice(0, input.beamWidth)
      .map((s) => s.promptHash);
  }

  // Only prompts scored on the whole dev set compete; a tie keeps the earlier (base first).
  const best = [...full.values()].reduce((a, b) => ((b.devAccuracy ?? 0) > (a.devAccuracy ?? 0) ? b : a));
  await acts.selectCandidate({ runId, promptHash: best.promptHash });
  const test = await acts.evaluateJudge({
    programId: input.programId,
    criterion: input.criterion,
    promptHash: best.promptHash,
    split: 'test',
    samples: input.samples,
    model: input.model,
  });
  return {
    bestPromptHash: best.promptHash,
    devAccuracyBefore: base.devAccuracy,
    devAccuracyAfter: best.devAccuracy,
    testAccuracy: test.accuracy,
    test,
    llmCalls: calls,
    candidates,
    stepsRun,
  };
}
