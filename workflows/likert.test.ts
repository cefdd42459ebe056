/**
 * A Likert criterion end to end (issue 15, item 6), as workflows/program.test.ts runs a program: a
 * time-skipping server, Postgres, the LLM simulator over HTTP, the signed gateway and the simulated
 * vendor, whose raters read the scale from the rater packet. Clarity is scored 1..5 (4 or more
 * passes) beside binary tone: its rounds are measured at the ordinal level, its golden labels are
 * scores, its judge answers scores and is measured at passAt, exactly and within one point.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { agreementReports, goldenLabels, itemVerdicts, judgeEvaluations, judgments, labels } from '../schema/tables';
import { buildProgramReport } from '../reporting/report';
import { renderMarkdown } from '../reporting/render';
import { agreementReport } from '../stats/index';
import { timeSkippingEnv, timeSkippingWorker, uniqueTaskQueue } from '../test/harness';
import { createProgramWorld, waitForStatus, type ProgramWorld } from '../test/program-fixture';
import { approveGateUpdate } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
let env: TestWorkflowEnvironment;
let world: ProgramWorld;
let taskQueue: string;
let worker: Worker;
let running: Promise<void>;

const PROGRAM = 'likert';
const CRITERIA = [
  {
    id: 'tone',
    name: 'Tone',
    description: 'The synopsis matches the brand voice.',
    rubric: 'Pass without clickbait or exclamation marks. Fail otherwise.',
  },
  {
    id: 'clarity',
    name: 'Clarity',
    description: 'A member understands the premise on one read.',
    rubric: '5: short, concrete sentences. 1: convoluted, stacked clauses throughout.',
    scale: 'likert',
    points: 5,
    passAt: 4,
    agreementMetric: 'krippendorff_alpha',
  },
];

beforeAll(async () => {
  env = await timeSkippingEnv();
  world = await createProgramWorld(env.client, { searchAttributes: false });
  taskQueue = uniqueTaskQueue('likert');
  worker = await timeSkippingWorker(env, taskQueue, world.deps);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await world?.close();
  await env?.teardown();
});

let request = 0;
test('a 5-point Likert criterion runs through calibration, the golden set and judge validation beside a binary one', async () => {
  await world.register(PROGRAM, {
    criteria: CRITERIA,
    // Codes stay free text: the simulated raters name their own defect codes.
    errorTaxonomy: [],
    goldExamples: [],
    targets: { agreement: 0.3, agreementMetric: 'percent_agreement', judgeAccuracy: 0.6 },
  });
  const handle = await env.client.workflow.start(programWorkflow, {
    workflowId: `program/${PROGRAM}`,
    taskQueue,
    args: [{ programId: PROGRAM }],
  });
  const approve = async (gate: string) => {
    await waitForStatus(handle, (s) => s.gate?.name === gate);
    await handle.executeUpdate(approveGateUpdate, {
      args: [{ requestId: `likert-${++request}`, actor: 'test-pm', gate }],
    });
  };
  await approve('scoping');
  await approve('pilot');
  await approve('golden-set');
  await approve('judges').catch(() => undefined); // a gate only when a judge is under target
  const final = await waitForStatus(handle, (s) => s.status === 'completed', 240_000);
  const { db } = world.database;

  // Raters scored clarity on its scale (the packet told them), tone 0/1; the gateway kept them in range.
  const rated = await db
    .select({ criterion: labels.criterion, value: labels.value, item: labels.itemId, rater: labels.raterId })
    .from(labels)
    .where(and(eq(labels.programId, PROGRAM), eq(labels.phase, 'calibration')));
  const values = (c: string) => new Set(rated.filter((r) => r.criterion === c).map((r) => r.value));
  expect([...values('tone')].every((v) => v === 0 || v === 1)).toBe(true);
  expect([...values('clarity')].every((v) => v >= 1 && v <= 5)).toBe(true);
  expect(values('clarity').size).toBeGreaterThanOrEqual(3);

  // Each round's agreement is at the criterion's level, with clarity's own metric; on the simulated
  // raters' near misses, ordinal alpha is above nominal alpha of the same ratings.
  const reports = await db
    .select({ criterion: agreementReports.criterion, round: agreementReports.round, metrics: agreementReports.metrics })
    .from(agreementReports)
    .where(and(eq(agreementReports.programId, PROGRAM), eq(agreementReports.phase, 'calibration')));
  const clarity = reports.find((r) => r.criterion === 'clarity')!;
  expect(reports.find((r) => r.criterion === 'tone')!.metrics).toMatchObject({
    level: 'nominal',
    metric: 'percent_agreement',
  });
  expect(clarity.metrics).toMatchObject({ level: 'ordinal', metric: 'krippendorff_alpha' });
  const round = final.rounds.find((r) => r.phase === 'calibration')!;
  expect(round.agreement.clarity.value).toBe(clarity.metrics.krippendorff_alpha);
  const clarityRatings = rated
    .filter((r) => r.criterion === 'clarity')
    .map((r) => ({ item: r.item, rater: r.rater, label: r.value }));
  const nominal = agreementReport(clarityRatings, { level: 'nominal' }).krippendorff_alpha!;
  expect(clarity.metrics.krippendorff_alpha as number).toBeGreaterThan(nominal);

  // Golden labels of clarity are scores on the scale.
  const golden = await db
    .select({ label: goldenLabels.label })
    .from(goldenLabels)
    .where(and(eq(goldenLabels.programId, PROGRAM), eq(goldenLabels.criterion, 'clarity')));
  expect(golden).toHaveLength(24);
  expect(golden.every((g) => g.label >= 1 && g.label <= 5)).toBe(true);
  expect(new Set(golden.map((g) => g.label)).size).toBeGreaterThanOrEqual(3);

  // The clarity judge answered scores; a score passes at 4.
  const judged = await db
    .select({ score: judgments.score, verdict: judgments.verdict })
    .from(judgments)
    .where(and(eq(judgments.programId, PROGRAM), eq(judgments.criterion, 'clarity'), eq(judgments.status, 'ok')));
  expect(judged.length).toBeGreaterThan(0);
  for (const j of judged) expect(j.verdict).toBe(j.score! >= 4 ? 1 : 0);
  const toneScores = await db
    .select({ score: judgments.score })
    .from(judgments)
    .where(and(eq(judgments.programId, PROGRAM), eq(judgments.criterion, 'tone')));
  expect(toneScores.every((j) => j.score === null)).toBe(true);

  // Judge validation: pass/fail accuracy at passAt, and agreement on the score exactly and within one.
  const evaluations = await db
    .select({ split: judgeEvaluations.split, metrics: judgeEvaluations.metrics })
    .from(judgeEvaluations)
    .where(and(eq(judgeEvaluations.programId, PROGRAM), eq(judgeEvaluations.criterion, 'clarity')));
  const test = evaluations.find((e) => e.split === 'test')!.metrics as {
    accuracy: number;
    likert: { points: number; passAt: number; exact: number; withinOne: number; meanAbsoluteError: number };
  };
  console.log(
    JSON.stringify({
      ordinalAlpha: clarity.metrics.krippendorff_alpha,
      nominalAlpha: nominal,
      judgeTest: { accuracy: test.accuracy, ...test.likert },
    }),
  );
  expect(test.likert).toMatchObject({ points: 5, passAt: 4 });
  expect(test.likert.withinOne).toBeGreaterThanOrEqual(test.likert.exact);
  expect(test.likert.withinOne).toBeGreaterThan(0.5);
  expect(test.accuracy).toBeGreaterThan(0.5);
  expect(final.judges.find((j) => j.criterion === 'clarity')?.testAccuracy).toBe(test.accuracy);

  // Production's verdicts stay pass/fail.
  const verdicts = await db
    .select({ verdict: itemVerdicts.verdict })
    .from(itemVerdicts)
    .where(and(eq(itemVerdicts.programId, PROGRAM), eq(itemVerdicts.criterion, 'clarity')));
  expect(verdicts).toHaveLength(12);
  expect(verdicts.every((v) => v.verdict === 0 || v.verdict === 1)).toBe(true);

  // The report names clarity's metric and level, and its judge's score agreement.
  const { markdown } = renderMarkdown(await buildProgramReport(db, PROGRAM), 'likert-');
  expect(markdown).toContain('Measured on their own metric or level: clarity (krippendorff_alpha, ordinal).');
  expect(markdown).toMatch(
    /clarity \d+(\.\d+)?% .*\(pass\/fail at ≥ 4 of 5; score exact \d+(\.\d+)?%, within one point/,
  );
});
