import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { count, eq } from 'drizzle-orm';
import { renderHtml, renderMarkdown } from './render';
import { reportSections, SECTION_IDS } from './sections';
import { auditLog, behaviorMetrics } from '../schema/tables';
import { FIXTURE_EXPECTED as X, FIXTURE_PROGRAM, seedReportProgram } from '../test/fixtures/report-program';
import {
  LOCALE_GUIDELINES_EXPECTED,
  LOCALES_EXPECTED,
  LOCALES_PROGRAM,
  SKIPPED_NOTE,
  seedLocalesProgram,
} from '../test/fixtures/report-locales-program';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import type { ProgramReport } from './model';
import { UnknownProgramError } from './queries/program';
import { buildProgramReport } from './report';

let database: TestDatabase;
let report: ProgramReport;
let tmp: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedReportProgram(database.db);
  report = await buildProgramReport(database.db, FIXTURE_PROGRAM, new Date('2026-03-10T00:00:00Z'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-report-'));
});
afterAll(async () => {
  await database?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

/** Runs the real CLI (bin/judgeflow.js) against this file's database. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/judgeflow.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('program report model', () => {
  it('has the phases in order and agreement with intervals per round', () => {
    expect(report.timeline.map((s) => s.phase)).toEqual([
      'pilot',
      'calibration',
      'golden-set',
      'judge-development',
      'production',
      'fix-loop',
    ]);
    const pilotTone = report.agreement.find((a) => a.phase === 'pilot' && a.criterion === 'tone');
    expect(pilotTone).toMatchObject({ value: X.agreement.pilotTone, ci95: [0.5, 0.74], meetsTarget: false });
    expect(report.agreement.find((a) => a.round === 2 && a.criterion === 'tone')).toMatchObject({
      value: X.agreement.round2Tone,
      meetsTarget: true,
      guidelineVersion: 2,
    });
    expect(report.program.agreementTarget).toBe(X.agreement.target);
  });

  it('scores raters on gold and flags the one who drifted', () => {
    const r1 = report.raters.find((r) => r.raterId === 'acme:r1');
    expect(r1).toMatchObject({
      accuracy: X.raters.r1.accuracy,
      earlyAccuracy: X.raters.r1.early,
      lateAccuracy: X.raters.r1.late,
      drift: true,
      status: 'paused',
    });
    expect(r1?.goldenSetAgreement).toBe(X.raters.r1.goldenSet);
    expect(report.raters.find((r) => r.raterId === 'acme:r2')).toMatchObject({
      accuracy: 1,
      drift: false,
      goldenSetAgreement: X.raters.r2.goldenSet,
      driftBasis: 'gold questions',
    });
    expect(report.raters.find((r) => r.raterId === 'acme:r3')).toMatchObject({
      accuracy: null,
      goldLabels: 0,
      drift: false,
    });
  });

  it('describes the golden set, the judges and their held-out confusion', () => {
    expect(report.golden.composition.find((c) => c.criterion === 'tone' && c.split === 'test')).toMatchObject({
      pass: X.golden.testTonePass,
      fail: X.golden.testToneFail,
    });
    expect(report.golden).toMatchObject({ reviewed: X.golden.reviewed, needsReview: X.golden.needsReview });
    expect(report.golden.bySource.map((s) => s.source)).toEqual(['adjudicated', 'llm_aggregate', 'unanimous']);
    expect(report.judges.trajectory.map((t) => [t.step, t.devAccuracy, t.selected])).toEqual([
      [0, 0.8, false],
      [1, 0.88, true],
    ]);
    const tone = report.judges.heldOut.find((h) => h.criterion === 'tone');
    expect(tone).toMatchObject({
      promptHash: 'p-tone-2',
      confusion: X.heldOut.tone,
      items: 6,
      accuracyCi95: [0.44, 0.97],
    });
    expect(tone?.accuracy).toBeCloseTo(5 / 6, 10);
    expect(report.judges.heldOut.find((h) => h.criterion === 'clarity')?.confusion).toEqual(X.heldOut.clarity);
  });

  it('counts production pass rates (errors are not passes), fix outcomes and cost against budget', () => {
    const clarity = report.production.criteria.find((c) => c.criterion === 'clarity');
    expect(clarity?.errors).toBe(X.production.clarityErrors);
    expect(report.production.criteria.map((c) => c.runId)).toEqual(['run-1', 'run-1']); // fix re-judging is not a production run
    expect(report.production.criteria.find((c) => c.criterion === 'tone')?.passed).toBe(X.production.tonePassedRun);
    expect(report.production.current.find((c) => c.criterion === 'tone')).toMatchObject({
      passed: X.production.tonePassedCurrent,
      failed: 18 - X.production.tonePassedCurrent,
      errors: 0,
    });
    expect(clarity?.passRate).toBeCloseTo(clarity!.passed / 18, 10);
    expect(Object.fromEntries(report.fixLoop.cycles.map((c) => [c.status, c.count]))).toEqual({
      passed: X.fixLoop.passed,
      escalated: X.fixLoop.escalated,
      needs_review: X.fixLoop.needsReview,
    });
    expect(report.fixLoop.meanAttemptsToPass).toBe(X.fixLoop.meanAttemptsToPass);
    expect(Object.fromEntries(report.fixLoop.attempts.map((a) => [a.outcome, a.count]))).toEqual({
      escalated: 1,
      failed: 4,
      needs_review: 1,
      passed: 2,
    });
    // a cycle whose re-judge errored is listed with the criteria in error, never counted as passed
    expect(report.fixLoop.needsReview).toEqual([
      { itemId: expect.any(String), attempt: 2, errors: { clarity: 'provider: 401 Incorrect API key provided' } },
    ]);
    const fixSection = reportSections(report).find((s) => s.id === 'fix-loop')!;
    expect(JSON.stringify(fixSection.blocks)).toContain('provider: 401 Incorrect API key provided');
    expect(report.cost.totalUsd).toBeCloseTo(X.cost.total, 10);
    expect(report.cost.budgetUsd).toBe(X.cost.budget);
    expect(report.cost.byModel.find((m) => m.key === 'human tasks')?.costUsd).toBeCloseTo(X.cost.humanTasks, 10);
    expect(report.cost.byVendor.map((v) => v.key)).toEqual(['acme', 'LLM provider']);
  });

  it('keeps the decision log and validates scores against behaviour', () => {
    expect(report.decisions.map((d) => d.kind)).toEqual(['gate_approved', 'guideline_published', 'phase_completed']);
    expect(report.decisions[1].guidelineVersion).toBe(2);
    expect(report.guidelines.map((g) => g.version)).toEqual([1, 2]);
    expect(report.audit.map((a) => [a.action, a.actor, `${a.entity}:${a.entityId}`])).toEqual([
      ['gate_approved', 'pm@example.com', `program:${FIXTURE_PROGRAM}`],
      ['rater_paused', 'qa', 'rater:acme:r1'],
    ]);
    expect(report.behavior?.observations).toBe(X.behaviorSynopses);
    const toneTake = report.behavior?.estimates.find((e) => e.score === 'tone' && e.outcome === 'takeFraction');
    expect(toneTake?.coef).toBeGreaterThan(0.9);
    expect(toneTake?.p).toBeLessThan(0.05);
    expect(
      report.behavior?.estimates.find((e) => e.score === 'tone' && e.outcome === 'abandonmentRate')?.coef,
    ).toBeLessThan(-0.9);
  });

  it('refuses an unknown program', async () => {
    await expect(buildProgramReport(database.db, 'nope')).rejects.toBeInstanceOf(UnknownProgramError);
  });
});

describe('rendered report', () => {
  it('HTML has every section with charts and the fixture numbers, and references nothing external', () => {
    const html = renderHtml(report);
    for (const id of SECTION_IDS) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toContain('No ');
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(11);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<script');
    for (const text of [
      '0.620',
      '[0.500, 0.740]',
      'DRIFT',
      'acme:r1',
      'target 0.8',
      '83.3% [44.0%, 97.0%] on 6 items',
      '$118.00 of a $500.00 budget',
      'tone: hype words fail',
      'guideline_published (v2)',
      'Audit trail',
      'approved: false → true',
      'weighted',
    ]) {
      expect(html).toContain(text);
    }
  });

  it('Markdown has the same sections and links chart files', () => {
    const { markdown, charts } = renderMarkdown(report, 'r-');
    expect(markdown.match(/^## /gm)).toHaveLength(SECTION_IDS.length);
    expect(charts.length).toBeGreaterThanOrEqual(11);
    for (const c of charts) expect(markdown).toContain(`](${c.file})`);
    expect(markdown).toContain('| acme:r1 | acme | paused (gold accuracy fell) |');
    expect(markdown).toContain('| acme | all raters | 17 | 100.0% | — | — | 0 | 0 | $0.00 |');
  });

  it('draws no point for an optimizer step whose candidates were never scored', () => {
    const chart = (r: ProgramReport) =>
      reportSections(r)
        .flatMap((s) => s.blocks)
        .find((b) => b.kind === 'chart' && b.name === 'optimizer-trajectory');
    const last = report.judges.trajectory.at(-1)!;
    const unscored = { ...last, step: last.step + 1, promptHash: 'never-scored', devAccuracy: null, selected: false };
    const withUnscored = {
      ...report,
      judges: { ...report.judges, trajectory: [...report.judges.trajectory, unscored] },
    };
    expect(chart(report)).toBeDefined();
    expect(chart(withUnscored)).toEqual(chart(report));
  });

  it('says so when a program has no data yet instead of drawing empty charts', async () => {
    const empty = {
      ...report,
      agreement: [],
      raters: [],
      timeline: [],
      behavior: null,
      cost: { ...report.cost, byPhase: [] },
    };
    const html = renderHtml(empty);
    expect(html).toContain('No agreement rounds recorded');
    expect(html).toContain('No member-behaviour metrics imported');
  });
});

describe('report and validate commands', () => {
  it('writes HTML and Markdown with SVG files beside it; bad input exits 2', async () => {
    const out = path.join(tmp, 'report.html');
    expect(await cli('report', FIXTURE_PROGRAM, '--out', out)).toMatchObject({ code: 0, stderr: '' });
    expect(fs.readFileSync(out, 'utf8')).toContain('<section id="behavior">');
    const md = path.join(tmp, 'md', 'report.md');
    expect(await cli('report', FIXTURE_PROGRAM, '--out', md, '--format', 'md')).toMatchObject({ code: 0, stderr: '' });
    const svgs = fs.readdirSync(path.dirname(md)).filter((f) => f.endsWith('.svg'));
    expect(svgs).toContain('report-agreement.svg');
    const unknown = await cli('report', 'nope', '--out', out);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no program "nope"');
    const badFormat = await cli('report', FIXTURE_PROGRAM, '--out', out, '--format', 'pdf');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be html or md');
    // Each export is audited once, with its files; the refused ones are not.
    const exports = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'report_exported'))
      .orderBy(auditLog.id);
    const exported = exports.map((e) => e.after as { format: string; files: string[] });
    expect(exports.map((e) => [e.programId, e.actor.length > 0])).toEqual([
      [FIXTURE_PROGRAM, true],
      [FIXTURE_PROGRAM, true],
    ]);
    expect(exported.map((e) => [e.format, [...e.files].sort()])).toEqual([
      ['html', [out]],
      ['md', [md, ...svgs.map((f) => path.join(path.dirname(md), f))].sort()],
    ]);
  });

  it('vendor report: the scorecard as a table or JSON; an unknown program or two formats exit 2', async () => {
    const table = await cli('vendor', 'report', '--program', FIXTURE_PROGRAM);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/^acme\s+17\s+100\.0%/m);
    expect(table.stdout).toMatch(/^ {2}acme:r3\s+1\s+100\.0%/m);
    const json = JSON.parse((await cli('vendor', 'report', '--program', FIXTURE_PROGRAM, '--json')).stdout);
    expect(json).toEqual(report.vendors);
    const unknown = await cli('vendor', 'report', '--program', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no program "nope"');
    expect((await cli('vendor', 'report', '--json', '--csv')).stderr).toContain('give --json or --csv, not both');
  }, 240_000);

  it('imports metrics idempotently, prints the table, and names bad lines', async () => {
    const csv = path.join(tmp, 'metrics.csv');
    const rows = await database.db.select().from(behaviorMetrics);
    fs.writeFileSync(
      csv,
      [
        'synopsisId,impressions,takeFraction,abandonmentRate',
        ...rows.map((r) => `${r.itemId},${r.impressions},${r.takeFraction},${r.abandonmentRate + 0.01}`),
      ].join('\n'),
    );
    for (let i = 0; i < 2; i++) {
      const res = await cli('validate', 'behavior', '--program', FIXTURE_PROGRAM, '--metrics', csv);
      expect(res).toMatchObject({ code: 0, stderr: '' });
      expect(res.stdout).toContain(`imported ${rows.length} metric rows`);
      expect(res.stdout).toMatch(/^tone\s+takeFraction\s+0\.9/m);
      expect(res.stdout).toMatch(/^weighted\s+abandonmentRate/m);
    }
    // the simulator's behavior.jsonl records (behaviorSchema, with showId) import as they are
    const jsonlFile = path.join(tmp, 'catalog.behavior.jsonl');
    fs.writeFileSync(
      jsonlFile,
      rows
        .map((r) =>
          JSON.stringify({
            synopsisId: r.itemId,
            showId: r.itemId.replace(/-syn-\d+$/, ''),
            impressions: r.impressions,
            takeFraction: r.takeFraction,
            abandonmentRate: r.abandonmentRate + 0.01,
          }),
        )
        .join('\n'),
    );
    expect(await cli('validate', 'behavior', '--program', FIXTURE_PROGRAM, '--metrics', jsonlFile)).toMatchObject({
      code: 0,
      stderr: '',
    });
    const [{ n }] = await database.db.select({ n: count() }).from(behaviorMetrics);
    expect(n).toBe(rows.length);
    const [updated] = await database.db
      .select()
      .from(behaviorMetrics)
      .where(eq(behaviorMetrics.itemId, rows[0].itemId));
    expect(updated.abandonmentRate).toBeCloseTo(rows[0].abandonmentRate + 0.01, 10);

    const bad = path.join(tmp, 'bad.csv');
    fs.writeFileSync(
      bad,
      '\ufeffsynopsisId,impressions,takeFraction,abandonmentRate\nshow-1-syn-1,100,1.7,0.1\n"show-1-syn-2",abc,0.1,0.1\n',
    );
    const res = await cli('validate', 'behavior', '--program', FIXTURE_PROGRAM, '--metrics', bad);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('line 2: takeFraction');
    expect(res.stderr).toContain('line 3: impressions');
    const jsonl = path.join(tmp, 'unknown.jsonl');
    fs.writeFileSync(
      jsonl,
      JSON.stringify({ synopsisId: 'ghost', showId: 'x', impressions: 10, takeFraction: 0.1, abandonmentRate: 0.2 }) +
        '\n',
    );
    const ghost = await cli('validate', 'behavior', '--program', FIXTURE_PROGRAM, '--metrics', jsonl);
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toContain('not in the catalog');
    const header = path.join(tmp, 'header.csv');
    fs.writeFileSync(header, 'id,take\nshow-1-syn-1,0.1\n');
    expect((await cli('validate', 'behavior', '--program', FIXTURE_PROGRAM, '--metrics', header)).stderr).toContain(
      'the header lacks impressions, takeFraction, abandonmentRate',
    );
  });
});

describe('multilingual program report', () => {
  let multilingual: ProgramReport;
  beforeAll(async () => {
    await seedLocalesProgram(database.db);
    multilingual = await buildProgramReport(database.db, LOCALES_PROGRAM);
  });

  it('has each locale’s items, judged items and pass rates of the catalog as it stands, and a skipped locale’s reason', () => {
    expect(multilingual.locales).toEqual(LOCALES_EXPECTED);
  });

  it('names each guideline revision’s locale, and the revision and rubric versions each locale reads', () => {
    expect(multilingual.guidelines.map((g) => [g.version, g.locale])).toEqual([
      [1, null],
      [2, null],
      [3, 'es-ES'],
    ]);
    expect(multilingual.localeGuidelines).toEqual(LOCALE_GUIDELINES_EXPECTED);
    const { markdown } = renderMarkdown(multilingual, 'm-');
    const section = markdown.slice(markdown.indexOf('## Decision log'));
    expect(section).toContain('| guideline | locale | published | author | note |');
    expect(section).toMatch(/\| v2 \| program-wide \| [^|]+ \| pm \| revision 2 \|/);
    expect(section).toMatch(/\| v3 \| es-ES \| [^|]+ \| pm \| es-ES wording \|/);
    expect(section).toContain('| locale | guidelines | tone rubric | clarity rubric |');
    expect(section).toContain('| en-US | v2, program-wide | v2 | v1 |');
    expect(section).toContain('| es-ES | v3, its own revision | v2 | from the spec |');
    expect(renderHtml(multilingual)).toContain('<td>v3, its own revision</td>');
    // a single-locale report keeps its table as it was
    expect(report).not.toHaveProperty('localeGuidelines');
    expect(renderMarkdown(report, 'r-').markdown).toContain('| guideline | published | author | note |');
  });

  it('has each round’s agreement per locale, under its overall row', () => {
    expect(multilingual.agreement.map((a) => [a.criterion, a.value, a.meetsTarget, a.byLocale])).toEqual([
      [
        'tone',
        0.8,
        false,
        {
          'en-US': { items: 10, raters: 3, value: 0.9, ci95: [0.8, 0.95], meetsTarget: true },
          'es-ES': { items: 10, raters: 3, value: 0.7, ci95: [0.6, 0.75], meetsTarget: false },
        },
      ],
    ]);
    const { markdown } = renderMarkdown(multilingual, 'm-');
    const rows = markdown.split('\n').filter((l) => l.startsWith('| calibration | 1 |'));
    expect(rows).toEqual([
      '| calibration | 1 | tone | v2 | 20 | 6 | 0.800 | — | no |',
      '| calibration | 1 | tone · en-US | v2 | 10 | 3 | 0.900 | [0.800, 0.950] | yes |',
      '| calibration | 1 | tone · es-ES | v2 | 10 | 3 | 0.700 | [0.600, 0.750] | no |',
    ]);
    expect(report.agreement.every((a) => a.byLocale === undefined)).toBe(true);
  });

  it('has each locale’s golden items and split in the golden set section', () => {
    const { markdown } = renderMarkdown(multilingual, 'm-');
    const section = markdown.slice(markdown.indexOf('## Golden set'));
    expect(section).toContain('| locale | golden items | dev | test |');
    expect(section).toContain('| en-US | 2 | 1 | 1 |');
    expect(section).toContain('| es-ES | 1 | 0 | 1 |');
    expect(renderMarkdown(report, 'r-').markdown).not.toContain('| locale | golden items |');
  });

  it('renders the per-locale table in the production section; a single-locale report has none', () => {
    const { markdown } = renderMarkdown(multilingual, 'm-');
    const section = markdown.slice(markdown.indexOf('## Production'), markdown.indexOf('## Writer'));
    expect(section).toContain('| locale | items | judged | tone pass rate | clarity pass rate | skipped |');
    expect(section).toContain('| en-US | 4 | 3 | 66.7% | 33.3% | — |');
    expect(section).toContain(`| es-ES | 3 | 0 | — | — | ${SKIPPED_NOTE} |`);
    expect(renderHtml(multilingual)).toContain(`<td>${SKIPPED_NOTE}</td>`);
    expect(report).not.toHaveProperty('locales');
    expect(renderMarkdown(report, 'r-').markdown).not.toContain('Per locale');
  });
});
