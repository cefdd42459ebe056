/** The judge-development part of the report: prompt versions, the optimizer's steps, held-out results. */
import { asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { judgeEvaluations, judgePrompts, optimizationCandidates } from '../../schema/tables';
import type { Confusion, HeldOut, ProgramReport } from '../model';
import { interval, iso, num } from './values';

/** A judge's name in the report: its criterion, and a multilingual program's judge its locale too (`tone · es-ES`). */
const judgeName = (p: { criterion: string; settings: Record<string, unknown> }) =>
  typeof p.settings.locale === 'string' ? `${p.criterion} · ${p.settings.locale}` : p.criterion;

export async function judgeSection(db: Db, programId: string): Promise<ProgramReport['judges']> {
  const evaluations = await db
    .select({ e: judgeEvaluations, p: judgePrompts })
    .from(judgeEvaluations)
    .innerJoin(judgePrompts, eq(judgePrompts.hash, judgeEvaluations.promptHash))
    .where(eq(judgeEvaluations.programId, programId))
    .orderBy(asc(judgeEvaluations.criterion), asc(judgePrompts.createdAt), asc(judgeEvaluations.split));
  const versions = evaluations.map(({ e, p }) => ({
    criterion: judgeName(p),
    promptHash: e.promptHash,
    parentHash: p.parentHash,
    origin: p.origin,
    status: p.status,
    createdAt: iso(p.createdAt) as string,
    model: e.model,
    split: e.split,
    samples: e.samples,
    accuracy: num(e.metrics.accuracy),
    accuracyCi95: interval((e.metrics.ci95 as Record<string, unknown> | undefined)?.accuracy),
    tpr: num(e.metrics.tpr),
    tnr: num(e.metrics.tnr),
  }));
  const trajectory = await db
    .select({
      criterion: judgePrompts.criterion,
      settings: judgePrompts.settings,
      runId: optimizationCandidates.runId,
      step: optimizationCandidates.step,
      promptHash: optimizationCandidates.promptHash,
      devAccuracy: optimizationCandidates.devAccuracy,
      selected: optimizationCandidates.selected,
    })
    .from(optimizationCandidates)
    .innerJoin(judgePrompts, eq(judgePrompts.hash, optimizationCandidates.promptHash))
    .where(eq(judgePrompts.programId, programId))
    .orderBy(asc(judgePrompts.criterion), asc(optimizationCandidates.step), asc(optimizationCandidates.promptHash));

  // Held-out result of each criterion's (and locale's) active judge (the latest prompt if none is
  // active yet): the judge engine's one measurement on the test split, errors scored as fails.
  const prompts = await db
    .select()
    .from(judgePrompts)
    .where(eq(judgePrompts.programId, programId))
    .orderBy(desc(judgePrompts.createdAt));
  const chosen = new Map<string, string>();
  for (const p of [...prompts].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active')))
    if (!chosen.has(judgeName(p))) chosen.set(judgeName(p), p.hash);
  const heldOut: HeldOut[] = [];
  for (const [criterion, promptHash] of [...chosen].sort(([a], [b]) => a.localeCompare(b))) {
    const test = evaluations
      .filter(({ e }) => e.promptHash === promptHash && e.split === 'test')
      .map(({ e }) => e)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const confusion = test?.metrics.confusion as Confusion | undefined;
    if (!test || !confusion) continue;
    const ci = (test.metrics.ci95 as Record<string, unknown> | undefined)?.accuracy;
    heldOut.push({
      criterion,
      promptHash,
      model: test.model,
      confusion,
      items: confusion.tp + confusion.fp + confusion.fn + confusion.tn,
      accuracy: num(test.metrics.accuracy),
      accuracyCi95: interval(ci),
      ...(test.metrics.likert ? { likert: test.metrics.likert as HeldOut['likert'] } : {}),
    });
  }
  return {
    versions,
    trajectory: trajectory.map(({ settings, ...t }) => ({ ...t, criterion: judgeName({ ...t, settings }) })),
    heldOut,
  };
}
