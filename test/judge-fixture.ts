/**
 * A program for the judge-engine tests: the example synopsis program's spec, a simulated catalog
 * (shows + synopses with hidden truth), and golden labels equal to that truth, split dev/test the
 * way aggregateGolden splits them.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { splitOf } from '../judging/golden-labels';
import { generateCatalog } from '../scripts/sim/model/catalog';
import type { Truth } from '../schema/catalog';
import { programSpecSchema } from '../schema/program-spec';
import type { Db } from '../platform/db';
import { goldenLabels, guidelineVersions, items, programs, shows } from '../schema/tables';

export const GOLDEN_CRITERIA = ['tone', 'clarity', 'precision', 'factuality'] as const;

interface JudgeProgramOptions {
  programId: string;
  testShare?: number;
  /** Replaces top-level fields of the example spec (criteria, judges, production…). */
  over?: Record<string, unknown>;
}

/** The example program and its first guideline version, without a catalog (the judging benchmark imports its own). */
export async function seedJudgeProgram(db: Db, opts: JudgeProgramOptions) {
  const raw = YAML.parse(
    fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'),
  ) as Record<string, unknown>;
  const spec = programSpecSchema.parse({
    ...raw,
    ...opts.over,
    id: opts.programId,
    rounds: { ...(raw.rounds as object), testShare: opts.testShare ?? 0.5 },
  });
  await db.insert(programs).values({
    id: spec.id,
    name: spec.name,
    spec: spec as unknown as Record<string, unknown>,
    budgetUsd: spec.budget.usd,
  });
  await db.insert(guidelineVersions).values({
    programId: spec.id,
    version: spec.guidelines.version,
    text: spec.guidelines.text,
    criteria: spec.criteria,
    note: 'test',
    author: 'test',
  });
  return spec;
}

/** The example program with a simulated catalog of `shows` and golden labels equal to its truth. */
export async function seedJudgeWorld(db: Db, opts: JudgeProgramOptions & { shows: number; seed: number }) {
  const spec = await seedJudgeProgram(db, opts);
  const truths = new Map<string, Truth>();
  const golden: (typeof goldenLabels.$inferInsert)[] = [];
  for (const { show, synopses, truths: t } of generateCatalog({ shows: opts.shows, seed: opts.seed })) {
    const { id, title, locale, ...metadata } = show;
    await db.insert(shows).values({ id, title, locale, metadata });
    await db
      .insert(items)
      .values(
        synopses.map((s, i) => ({ id: s.id, showId: id, locale: s.locale, text: s.text, textHash: t[i].textHash })),
      );
    synopses.forEach((s, i) => {
      truths.set(s.id, t[i]);
      for (const criterion of GOLDEN_CRITERIA)
        golden.push({
          programId: spec.id,
          itemId: s.id,
          criterion,
          label: t[i].criteria[criterion],
          explanation: 'simulated truth',
          source: 'unanimous',
          split: splitOf(spec.id, s.id, spec.rounds.testShare),
        });
    });
  }
  for (let i = 0; i < golden.length; i += 1000) await db.insert(goldenLabels).values(golden.slice(i, i + 1000));
  return { spec, truths, itemIds: [...truths.keys()] };
}
