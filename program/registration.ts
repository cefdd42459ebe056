/**
 * Registering a program from its spec: what the spec refers to outside itself is checked and the
 * estimate computed first (changing nothing); then the program, its first guidelines, vendors,
 * gold answers and item set are written in one transaction.
 */
import { eq, inArray } from 'drizzle-orm';
import { estimateProgram, type ProgramEstimate } from './estimate';
import path from 'node:path';
import type postgres from 'postgres';
import { importCatalog } from '../catalog/import';
import {
  countSelection,
  describeSelection,
  recordSelection,
  specSelection,
  type ItemSelectionPlan,
  type SpecCatalogImport,
} from '../catalog/item-set';
import { type ProgramSpec } from '../schema/program-spec';
import { goldAnswers, guidelineVersions, items, programs } from '../schema/tables';
import type { Db } from '../platform/db';
import { programWorkflowId } from '../workflows/ids';
import { planSpecVendors, registerSpecVendors, type SpecVendorPlan } from '../vendors/spec-vendors';

export class ProgramRegistrationError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`The program spec cannot start:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/**
 * Checks what a spec refers to outside itself (its vendors in the registry, secrets in the
 * environment, gold items in the catalog) and computes the estimate. Changes nothing.
 */
export async function checkProgramPrerequisites(
  db: Db,
  spec: ProgramSpec,
  env: Record<string, string | undefined>,
  opts: { rpmLimit: number; model: string; secretKey?: string; catalog?: SpecCatalogImport },
): Promise<{ estimate: ProgramEstimate; vendors: SpecVendorPlan; selection: ItemSelectionPlan }> {
  const { plan: vendors, problems } = await planSpecVendors(db, spec.vendors, {
    env,
    secretKey: opts.secretKey ?? env.JUDGEFLOW_SECRET_KEY,
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
  const selection = specSelection(spec, opts.catalog);
  // Gold examples join the set but are never drawn: the rounds need items besides them.
  const count = await countSelection(db, selection, goldIds);
  const needed =
    spec.rounds.pilotSize + spec.rounds.calibrationSize * spec.rounds.maxCalibrationRounds + spec.rounds.goldenSetSize;
  if (count === 0)
    problems.push({
      path: 'items',
      message: `no catalog item is selected (${describeSelection(selection.definition)}): import the catalog, or widen the filters`,
    });
  else if (count < needed)
    problems.push({
      path: 'items',
      message: `the program's items are ${count} (${describeSelection(selection.definition)}); pilot + ${spec.rounds.maxCalibrationRounds} calibration rounds + golden set need ${needed}`,
    });
  const [existing] = await db.select({ id: programs.id }).from(programs).where(eq(programs.id, spec.id));
  if (existing) problems.push({ path: 'id', message: `program "${spec.id}" already exists` });
  if (problems.length) throw new ProgramRegistrationError(problems);
  return {
    estimate: estimateProgram({ ...spec, vendors: vendors.vendors }, { catalogItems: count, ...opts }),
    vendors,
    selection,
  };
}

/** Writes the program, guideline v1, its new inline vendors and gold answers in one transaction. */
export async function registerProgram(
  db: Db,
  spec: ProgramSpec,
  estimate: ProgramEstimate,
  vendorPlan: SpecVendorPlan,
  selection: ItemSelectionPlan,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(programs).values({
      id: spec.id,
      name: spec.name,
      // The vendors as registered (a reference resolved, an inline secret left out).
      spec: { ...spec, vendors: vendorPlan.vendors } as unknown as Record<string, unknown>,
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
    await registerSpecVendors(tx, spec.id, vendorPlan);
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
    await recordSelection(
      tx,
      spec.id,
      'spec',
      selection,
      spec.goldExamples.map((g) => g.itemId),
    );
  });
}

/**
 * Imports the spec's `items.catalog` (a relative path is from the spec's folder) before the
 * prerequisites are checked: the selection is drawn from the file's synopses, new or already in the
 * catalog. The import is the catalog's (all or nothing, as `catalog import`), not the program's: a
 * spec refused afterwards leaves the catalog imported and no program.
 */
export async function importSpecCatalog(
  client: postgres.Sql,
  spec: ProgramSpec,
  specDir: string,
): Promise<SpecCatalogImport | undefined> {
  if (!spec.items.catalog) return undefined;
  const file = path.resolve(specDir, spec.items.catalog);
  const result = await importCatalog(client, file, { keepItemIds: true });
  return { file, importedAt: result.importedAt, itemIds: result.itemIds ?? [] };
}
