/**
 * The judging activities: seed judge prompts from a program's spec, judge items, evaluate a prompt
 * against the golden labels, aggregate raters into golden labels, and the steps of prompt
 * optimization — each a thin entry over item judging, the golden set and the optimizer.
 */
import type { ActivityDeps } from '../activities/deps';
import { createJudgingEngine } from './engine';
import { createGoldenSet } from './golden';
import { createGoldenStatistics } from './golden-statistics';
import { createItemJudging } from './judge-items';
import { createOptimizer } from './optimizer';
import { ensureJudgePrompts, type EnsureJudgePromptsInput } from './prompt-registry';

export function createJudgingActivities({ db, llm, prices, logger, config }: ActivityDeps) {
  const defaultModel = config.llm.model;
  const engine = createJudgingEngine({ db, llm, prices });
  const itemJudging = createItemJudging({ db, llm, prices, logger, engine, defaultModel });
  const golden = createGoldenSet({ db, llm, prices, engine, defaultModel });
  const goldenStatistics = createGoldenStatistics({ db });
  const optimizer = createOptimizer({ db, llm, prices, engine, defaultModel });
  return {
    ensureJudgePrompts: (input: EnsureJudgePromptsInput) => ensureJudgePrompts(db, input),
    judgeItems: itemJudging.judgeItems,
    evaluateJudge: golden.evaluateJudge,
    aggregateGolden: golden.aggregateGolden,
    aggregateGoldenByStatistics: goldenStatistics.aggregateGoldenByStatistics,
    goldenItemsToRate: goldenStatistics.goldenItemsToRate,
    scoreOnDev: optimizer.scoreOnDev,
    proposeCandidates: optimizer.proposeCandidates,
    selectCandidate: optimizer.selectCandidate,
  };
}
