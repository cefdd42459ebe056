/**
 * Registering a program from its spec: what the spec refers to outside itself is checked and the
 * estimate computed first (changing nothing); then the program, its first guidelines, vendors
 * and gold answers are written in one transaction.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { estimateProgram, type ProgramEstimate } from './estimate';
import { type ProgramSpec } from '../schema/program-spec';
import { goldAnswers, guidelineVersions, items, programs, vendors } from '../schema/tables';
import type { Db } from '../platform/db';
import { programWorkflowId } from '../workflows/ids';

export class ProgramRegistrationError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`The program spec cannot start:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/**
 * Checks what a spec refers to outside itself (secrets in the environment, gold items in the
 * catalog) and computes the estimate. Changes nothing.
 */
export async function checkProgramPrerequisites(
  db: Db,
  spec: ProgramSpec,
  env: Record<string, string | undefined>,
  opts: { rpmLimit: number; model: string },
): Promise<{ estimate: ProgramEstimate; secrets: Record<string, string[]> }> {
  const problems: { path: string; message: string }[] = [];
  const secrets: Record<string, string[]> = {};
  spec.vendors.forEach((v, i) => {
    const raw = v.secret ?? (v.secretEnv ? env[v.secretEnv] : undefined);
    if (!raw)
      problems.push({ path: `vendors.${i}.secretEnv`, message: `environment variable ${v.secretEnv} is not set` });
    else
      secrets[v.id] = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  });
  const goldIds = spec.goldExamples.map((g) => g.itemId);
  if (goldIds.length) {
    const found = new Set(
      (await db.select({ id: items.id }).from(items).where(inArray(items.id, goldIds))).map((r) => r.id),
    );
    spec.goldExamples.forEach((g, i) => {
      if (!found.has(g.itemId))
        problems.push({
          path: `goldExamples.${i}.itemId`,
          message: `unknown item "${g.itemId}" (import the catalog first)`,
        });
    });
  }
  const [{ count }] = await db.select({ count: sql<number>`count(*)::int` }).from(items);
  const needed =
    spec.rounds.pilotSize + spec.rounds.calibrationSize * spec.rounds.maxCalibrationRounds + spec.rounds.goldenSetSize;
  if (count < needed)
    problems.push({
      path: 'items',
      message: `the catalog has ${count} items; pilot + ${spec.rounds.maxCalibrationRounds} calibration rounds + golden set need ${needed}`,
    });
  const [existing] = await db.select({ id: programs.id }).from(programs).where(eq(programs.id, spec.id));
  if (existing) problems.push({ path: 'id', message: `program "${spec.id}" already exists` });
  if (problems.length) throw new ProgramRegistrationError(problems);
  return { estimate: estimateProgram(spec, { catalogItems: count, ...opts }), secrets };
}

/** Writes the program, guideline v1, vendors and gold answers in one transaction. */
export async function registerProgram(
  db: Db,
  spec: ProgramSpec,
  estimate: ProgramEstimate,
  secrets: Record<string, string[]>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(programs).values({
      id: spec.id,
      name: spec.name,
      spec: spec as unknown as Record<string, unknown>,
      budgetUsd: spec.budget.usd,
      estimate: estimate as unknown as Record<string, unknown>,
      workflowId: programWorkflowId(spec.id),
    });
    await tx.insert(guidelineVersions).values({
      programId: spec.id,
      version: spec.guidelines.version,
      text: spec.guidelines.text,
      criteria: spec.criteria,
      note: 'initial guidelines from the program spec',
      author: 'spec',
    });
    for (const v of spec.vendors) {
      const row = {
        name: v.name,
        kind: v.kind,
        endpoint: v.endpoint,
        secrets: secrets[v.id],
        rateCard: v.rateCard,
        config: v.config,
      };
      await tx
        .insert(vendors)
        .values({ id: v.id, ...row })
        .onConflictDoUpdate({ target: vendors.id, set: row });
    }
    const gold = spec.goldExamples.flatMap((g) =>
      Object.entries(g.labels).map(([criterion, label]) => ({
        programId: spec.id,
        itemId: g.itemId,
        criterion,
        label,
        explanation: g.explanation,
      })),
    );
    if (gold.length) await tx.insert(goldAnswers).values(gold).onConflictDoNothing();
  });
}
