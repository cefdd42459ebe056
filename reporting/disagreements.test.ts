/** The report's disagreement section on stored rounds with planted disagreements, in HTML and Markdown. */
import { eq } from 'drizzle-orm';
import { agreementReports, programs } from '../schema/tables';
import { PLANTED, seedPlantedRounds } from '../test/disagreement-fixture';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import type { ProgramReport } from './model';
import { renderHtml, renderMarkdown } from './render';
import { buildProgramReport } from './report';

let database: TestDatabase;
let world: Awaited<ReturnType<typeof seedPlantedRounds>>;
let report: ProgramReport;
const HOUR = 3_600_000;

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  world = await seedPlantedRounds(db, 'planted');
  const start = new Date('2026-01-01T00:00:00Z');
  await db
    .update(programs)
    .set({
      createdAt: start,
      spec: {
        criteria: [{ id: 'tone' }, { id: 'clarity' }, { id: 'factuality' }],
        targets: { agreement: 0.8, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 },
      },
    })
    .where(eq(programs.id, 'planted'));
  // clarity meets the target in the pilot, tone in round 1 (36 h after the start), factuality never
  const rows = [
    ['pilot', 0, 'clarity', true, 12],
    ['pilot', 0, 'tone', false, 12],
    ['pilot', 0, 'factuality', false, 12],
    ['calibration', 1, 'clarity', true, 36],
    ['calibration', 1, 'tone', true, 36],
    ['calibration', 1, 'factuality', false, 36],
  ] as const;
  await db.insert(agreementReports).values(
    rows.map(([phase, round, criterion, meetsTarget, hours]) => ({
      programId: 'planted',
      phase,
      round,
      criterion,
      guidelineVersion: round + 1,
      items: 24,
      raters: 4,
      ratings: 96,
      metrics: { percent_agreement: meetsTarget ? 0.85 : 0.6 },
      meetsTarget,
      createdAt: new Date(start.getTime() + hours * HOUR),
    })),
  );
  report = await buildProgramReport(db, 'planted');
});
afterAll(() => database?.drop());

test('per round: the planted contested item first with the explanations, the contrarian furthest; speed per criterion', () => {
  const d = report.disagreements;
  expect(d.rounds.map((r) => [r.phase, r.round])).toEqual([
    ['pilot', 0],
    ['calibration', 1],
  ]);
  const round1 = d.rounds[1];
  expect(round1.splitItems).toHaveLength(5);
  expect(round1.splitItems[0]).toMatchObject({ item: world.items.get(PLANTED.contestedItem), criterion: 'tone' });
  expect(round1.furthestRaters[0].rater).toBe(world.rater(PLANTED.contrarian));
  expect(d.raterIds).toHaveLength(6);
  expect(d.pairs).toHaveLength(15);
  expect(
    d.pairs[0].raterA === world.rater(PLANTED.contrarian) || d.pairs[0].raterB === world.rater(PLANTED.contrarian),
  ).toBe(true);
  expect(d.speed).toEqual([
    { criterion: 'tone', phase: 'calibration', round: 1, rounds: 1, days: 1.5 },
    { criterion: 'clarity', phase: 'pilot', round: 0, rounds: 0, days: 0.5 },
    { criterion: 'factuality', phase: null, round: null, rounds: 1, days: null },
  ]);
});

test('HTML: a heatmap cell per ordered rater pair, the split items with explanations, the speed table', () => {
  const html = renderHtml(report);
  const section = html.split('<section id="disagreements">')[1].split('</section>')[0];
  expect(section.match(/class="mark cell"/g)).toHaveLength(30);
  expect(section).toContain(`${world.rater(PLANTED.contrarian)} × `);
  expect(section).toContain('pass 3 · fail 3');
  expect(section).toContain(`${world.rater('r-4')}: fail [tone.register] — too flippant for a drama`);
  expect(section).toContain('<td>tone</td><td>round 1</td><td>1</td><td>1.5</td>');
  expect(section).toContain('<td>factuality</td><td>not yet</td><td>more than 1</td><td>—</td>');
  expect(section).toContain(PLANTED.contestedCode);
});

test('Markdown: the same section, the heatmap as a chart file beside it', () => {
  const { markdown, charts } = renderMarkdown(report, 'r-');
  const section = markdown.split('## Disagreements: what the raters split on')[1].split('\n## ')[0];
  expect(section).toContain('](r-rater-pairs.svg)');
  expect(charts.find((c) => c.file === 'r-rater-pairs.svg')?.svg).toContain('class="mark cell"');
  expect(section).toContain(`| round 1 | ${world.items.get(PLANTED.contestedItem)} | tone | 1.000 | pass 3 · fail 3 |`);
  expect(section).toContain('| clarity | pilot | 0 | 0.5 |');
});

test('a program whose rounds stored no answers yet says so and draws no heatmap', async () => {
  const db = database.db;
  await db.insert(programs).values({ id: 'quiet', name: 'quiet', spec: {}, budgetUsd: 1 });
  const quiet = await buildProgramReport(db, 'quiet');
  expect(quiet.disagreements).toMatchObject({ rounds: [], raterIds: [], pairs: [] });
  const html = renderHtml(quiet).split('<section id="disagreements">')[1].split('</section>')[0];
  expect(html).toContain('stored no answers on non-gold items');
  expect(html).not.toContain('<svg');
});
