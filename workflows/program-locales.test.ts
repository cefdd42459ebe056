/**
 * A program over two locales (seed 003), run for real on the dev server with the simulated vendor's
 * native raters: each round draws its size in each locale, tasks in es-ES reach only es-ES raters,
 * the round's agreement is measured per locale and meets the target only when every locale does
 * (in the gate's evidence and the stored reports) with a disagreement digest per locale, and the golden set draws goldenSetSize items in
 * each locale, its summary counted per locale.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { createProgramActivities } from '../program/activities';
import { binaryCriteria, roundDisagreements, type RoundDigest } from '../program/disagreements';
import { disagreementDigest } from '../stats/index';
import { agreementReports, goldenLabels, items, labels, raters, tasks } from '../schema/tables';
import { recordHistory } from '../test/harness';
import { devServerProgramWorld, waitForStatus } from '../test/program-fixture';
import { goldenSetWorkflow } from './golden-set';
import { goldenSetWorkflowId } from './ids';
import { approveGateUpdate, type CriterionAgreement } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
const LOCALES = ['en-US', 'es-ES'];
const locales = LOCALES.map((code) => ({ code }));
const t = devServerProgramWorld('locales', { searchAttributes: false, locales: LOCALES });

/** Every non-gold task of the program's round: its item's locale and its rater's locales. */
async function roundTasks(programId: string, phase: string) {
  const rows = await t.world.database.db
    .select({ locale: items.locale, rater: raters.id, qualification: raters.qualification, status: tasks.status })
    .from(tasks)
    .innerJoin(items, eq(items.id, tasks.itemId))
    .innerJoin(raters, eq(raters.id, tasks.raterId))
    .innerJoin(labels, eq(labels.taskId, tasks.id))
    .where(and(eq(tasks.programId, programId), eq(labels.phase, phase), eq(tasks.isGold, false)));
  return rows.map((r) => ({ ...r, raterLocales: (r.qualification as { locales: string[] }).locales }));
}

/** The gate's agreement: per criterion, each locale's on its own items, and met only when every locale meets it. */
async function expectAgreementPerLocale(handle: WorkflowHandle, gate: string, phase: string, round: number) {
  const status = await waitForStatus(handle, (s) => s.gate?.name === gate && s.status === 'waiting_gate', 240_000);
  const agreement = status.gate?.evidence.agreement as Record<string, CriterionAgreement>;
  // the disagreement digest lists each locale, each from its own items' labels
  const digest = status.gate?.evidence.disagreements as RoundDigest;
  expect(Object.keys(digest.byLocale ?? {})).toEqual(LOCALES);
  for (const code of LOCALES) {
    const own = await roundDisagreements(
      t.world.database.db,
      'multi',
      { phase: 'pilot', round },
      { top: 3, locale: code },
    );
    expect(digest.byLocale![code]).toEqual(
      disagreementDigest(own, { top: 3, binary: await binaryCriteria(t.world.database.db, 'multi') }),
    );
    for (const i of digest.byLocale![code].topItems)
      expect((await t.world.database.db.select().from(items).where(eq(items.id, i.item)))[0].locale).toBe(code);
  }
  expect(Object.keys(agreement).sort()).toEqual(['clarity', 'factuality', 'precision', 'tone']);
  const reports = await t.world.database.db
    .select()
    .from(agreementReports)
    .where(
      and(
        eq(agreementReports.programId, 'multi'),
        eq(agreementReports.phase, phase),
        eq(agreementReports.round, round),
      ),
    );
  for (const [criterion, a] of Object.entries(agreement)) {
    expect(Object.keys(a.byLocale ?? {})).toEqual(LOCALES);
    for (const code of LOCALES) expect(a.byLocale![code]).toMatchObject({ items: 6, raters: expect.any(Number) });
    expect(a.meetsTarget).toBe((a.value ?? 0) >= 0.5 && LOCALES.every((c) => a.byLocale![c].meetsTarget));
    const report = reports.find((r) => r.criterion === criterion)!;
    expect(report.items).toBe(12);
    expect((report.metrics as { byLocale: unknown }).byLocale).toEqual(a.byLocale);
  }
  // tasks in es-ES went only to es-ES raters, en-US to en-US ones, and none was declined
  const done = await roundTasks('multi', phase);
  expect(done.length).toBeGreaterThan(0);
  for (const task of done) expect(task.raterLocales).toContain(task.locale);
  expect(new Set(done.map((d) => d.locale))).toEqual(new Set(LOCALES));
  expect(done.some((d) => d.status === 'declined')).toBe(false);
  await handle.executeUpdate(approveGateUpdate, { args: [{ requestId: `approve-${gate}`, actor: 'test-pm', gate }] });
}

test('each round is drawn and measured per locale, with tasks only for the locale’s raters', async () => {
  await t.world.register('multi', {
    locales,
    targets: { agreement: 0.5, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 },
  });
  const handle = await t.client.workflow.start(programWorkflow, {
    workflowId: 'program/multi',
    taskQueue: t.taskQueue,
    args: [{ programId: 'multi' }],
  });
  await waitForStatus(handle, (s) => s.gate?.name === 'scoping');
  await handle.executeUpdate(approveGateUpdate, {
    args: [{ requestId: 'approve-scoping', actor: 'test-pm', gate: 'scoping' }],
  });
  await expectAgreementPerLocale(handle, 'pilot', 'pilot', 0);
  await recordHistory(t.client.workflow.getHandle('program/multi/pilot'), 'pilotWorkflow-locales');
  await handle.cancel();
  await handle.result().catch(() => undefined);
});

test('the golden set draws goldenSetSize items in each locale and counts them per locale', async () => {
  await t.world.register('multi-golden', { locales, golden: { aggregation: 'majority' } });
  const plan = await createProgramActivities(t.world.deps).loadProgramPlan('multi-golden');
  expect(plan.locales).toEqual(LOCALES);
  const workflowId = goldenSetWorkflowId('multi-golden');
  const handle = await t.client.workflow.start(goldenSetWorkflow, {
    workflowId,
    taskQueue: t.taskQueue,
    args: [{ plan, guidelineVersion: plan.guidelineVersion, workflowId }],
  });
  const result = await handle.result();
  await recordHistory(handle, 'goldenSetWorkflow-locales');
  const stored = await t.world.database.db
    .select({ itemId: goldenLabels.itemId, locale: items.locale, split: goldenLabels.split })
    .from(goldenLabels)
    .innerJoin(items, eq(items.id, goldenLabels.itemId))
    .where(eq(goldenLabels.programId, 'multi-golden'));
  const itemsIn = (code: string) => new Set(stored.filter((s) => s.locale === code).map((s) => s.itemId)).size;
  expect(LOCALES.map(itemsIn)).toEqual([24, 24]);
  expect(result.items).toBe(48);
  expect(result.byLocale).toEqual(
    Object.fromEntries(
      LOCALES.map((code) => {
        const own = new Map(stored.filter((s) => s.locale === code).map((s) => [s.itemId, s.split]));
        const count = (split: string) => [...own.values()].filter((s) => s === split).length;
        return [code, { items: own.size, dev: count('dev'), test: count('test') }];
      }),
    ),
  );
  // the golden ratings came from raters of the item's locale
  const rated = await roundTasks('multi-golden', 'golden-set');
  for (const task of rated) expect(task.raterLocales).toContain(task.locale);
});
