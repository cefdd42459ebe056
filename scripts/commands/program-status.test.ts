/** What `program status` prints for failures: activities being retried, errors per criterion, fix cycles that need review. */
import type { ProgramStatus } from '../../workflows/messages';
import { formatStatus } from './program-status';

const base: ProgramStatus = {
  programId: 'synopsis-quality',
  status: 'running',
  phase: 'production',
  round: 2,
  guidelineVersion: 2,
  gate: null,
  pausedReason: null,
  targets: { agreement: 0.8, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 } as ProgramStatus['targets'],
  budgetUsd: 100,
  spendUsd: 12.5,
  rounds: [],
  agreement: {},
  tasks: { completed: 10, reassigned: 0, expired: 0, labels: 30 },
  goldenSet: null,
  judges: [],
  production: null,
  startedAt: '2026-01-01T00:00:00.000Z',
  eta: null,
  decisions: 3,
};

test('retrying activities, production verdicts with errors per criterion, and fix cycles needing review', () => {
  const text = formatStatus({
    ...base,
    production: {
      runId: 'initial',
      judged: 500,
      total: 500,
      failing: 40,
      errors: 5,
      verdicts: { clarity: { pass: 470, fail: 30, error: 0 }, tone: { pass: 480, fail: 15, error: 5 } },
    },
    fixLoop: { open: 3, passed: 30, escalated: 2, needsReview: 1, cancelled: 0 },
    retrying: [
      {
        workflowId: 'program/synopsis-quality/fix/s1/write-1',
        where: 'fix/s1/write-1',
        activityType: 'dispatchTasks',
        attempt: 7,
        maximumAttempts: 20,
        lastError:
          'vendor acme-labels unreachable: getaddrinfo ENOTFOUND vendor.example.com (POST / https://vendor.example.com/judgeflow/tasks)',
        nextAttemptAt: null,
      },
    ],
    inspected: { workflows: 100, skipped: 12 },
  });
  expect(text.split('\n')).toEqual(
    expect.arrayContaining([
      'RETRYING  fix/s1/write-1: dispatchTasks retrying (attempt 7 of 20): vendor acme-labels unreachable: getaddrinfo ENOTFOUND vendor.example.com (POST / https://vendor.example.com/judgeflow/tasks)',
      '          (12 more open workflows not inspected for retries)',
      'production initial: 500/500 judged, 40 failing, 5 with errors',
      '  verdicts clarity 470 pass · 30 fail · 0 errors, tone 480 pass · 15 fail · 5 errors',
      'fix loop  3 open, 30 passed, 2 escalated, 1 need review (re-judge errored)',
    ]),
  );
});

test('nothing failing: no RETRYING line and no fix-loop line before any cycle', () => {
  const text = formatStatus({
    ...base,
    retrying: [],
    fixLoop: { open: 0, passed: 0, escalated: 0, needsReview: 0, cancelled: 0 },
  });
  expect(text).not.toMatch(/RETRYING|fix loop/);
});

test('the vendor scorecard: each vendor with its raters, at most five per vendor, those missing the SLA first', () => {
  const score = (raterId: string | null, slaHitRate: number | null, tasks = 10) => ({
    vendorId: 'acme',
    raterId,
    tasks,
    completed: tasks,
    declined: 1,
    reassigned: 2,
    expired: 0,
    slaHitRate,
    turnaroundP50Ms: 25 * 60_000,
    turnaroundP95Ms: 3 * 3_600_000,
    costUsd: tasks / 2,
  });
  const raters = [0.9, 0.5, 1, 0.95, 0.2, 0.99, 0.8].map((rate, i) => score(`acme:r${i}`, rate));
  const lines = formatStatus({ ...base, vendors: [score(null, 0.8, 70), ...raters] }).split('\n');
  const header = lines.findIndex((l) => l.startsWith('vendor / rater'));
  expect(lines[header + 1]).toMatch(/^acme\s+70\s+80\.0%\s+25m\s+3\.0h\s+1\s+2\s+\$35\.00$/);
  expect(lines.slice(header + 2, header + 7).map((l) => l.trim().split(/\s+/)[0])).toEqual([
    'acme:r4',
    'acme:r1',
    'acme:r6',
    'acme:r0',
    'acme:r3',
  ]);
  expect(lines[header + 7]).toBe('  (2 more raters: judgeflow vendor report --program <id>)');
  expect(formatStatus(base)).not.toContain('vendor / rater');
});

test('the golden set line says how its labels were made, where recorded', () => {
  const goldenSet = { items: 600, dev: 300, test: 300, reviewed: 12 };
  expect(
    formatStatus({
      ...base,
      goldenSet: { ...goldenSet, method: 'dawid-skene', meanConfidence: 0.9312, ratingsPerLabel: 2.48 },
    }),
  ).toContain(
    'golden    600 items (dev 300, test 300), 12 reviewed, dawid-skene, mean confidence 93.1%, 2.5 ratings per label',
  );
  // A status from before the method was recorded.
  expect(formatStatus({ ...base, goldenSet })).toMatch(/golden {4}600 items \(dev 300, test 300\), 12 reviewed$/m);
});

test("a multilingual program: each locale's judges, its production run, and a locale skipped for want of a validated judge", () => {
  const judge = (criterion: string, locale: string, test: number, meetsTarget: boolean) => ({
    criterion,
    locale,
    promptHash: 'h',
    devAccuracy: test,
    testAccuracy: test,
    tpr: test,
    tnr: test,
    meetsTarget,
  });
  const lines = formatStatus({
    ...base,
    judges: [judge('tone', 'en-US', 0.9, true), judge('tone', 'es-ES', 0.7, false)],
    production: {
      runId: 'initial',
      judged: 40,
      total: 40,
      failing: 9,
      errors: 0,
      locales: {
        'en-US': {
          runId: 'initial-en-US',
          judged: 40,
          total: 40,
          failing: 9,
          errors: 0,
          verdicts: { tone: { pass: 31, fail: 9, error: 0 } },
        },
        'es-ES': { runId: null, judged: 0, total: 40, failing: 0, skipped: 'no judge validated for es-ES' },
      },
    },
  }).split('\n');
  expect(lines).toContainEqual(expect.stringMatching(/^tone en-US {5}90\.0% .*✓$/));
  expect(lines).toContainEqual(expect.stringMatching(/^tone es-ES {5}70\.0% .*✗$/));
  expect(lines).toContainEqual(expect.stringMatching(/^ {2}en-US {3}40\/40 judged, 9 failing {3}verdicts tone/));
  expect(lines).toContain('  es-ES   SKIPPED: 40 item(s) not judged — no judge validated for es-ES');
});

test("a multilingual program: each round's agreement and the golden set per locale", () => {
  const agreement = (en: number, es: number) => ({
    value: (en + es) / 2,
    ci95: null,
    meetsTarget: en >= 0.8 && es >= 0.8,
    byLocale: {
      'en-US': { value: en, ci95: null, meetsTarget: en >= 0.8, items: 10, raters: 3, ratings: 30 },
      'es-ES': { value: es, ci95: null, meetsTarget: es >= 0.8, items: 10, raters: 3, ratings: 30 },
    },
  });
  const round = { phase: 'calibration' as const, items: 20, finishedAt: '2026-01-01T01:00:00.000Z' };
  const lines = formatStatus({
    ...base,
    rounds: [
      { ...round, round: 1, guidelineVersion: 1, agreement: { tone: agreement(0.85, 0.7) }, allMeetTarget: false },
      { ...round, round: 2, guidelineVersion: 2, agreement: { tone: agreement(0.9, 0.85) }, allMeetTarget: true },
    ],
    goldenSet: {
      items: 80,
      dev: 40,
      test: 40,
      reviewed: 0,
      byLocale: { 'en-US': { items: 40, dev: 20, test: 20 }, 'es-ES': { items: 40, dev: 20, test: 20 } },
    },
  }).split('\n');
  const first = lines.findIndex((l) => l.startsWith('calibration 1'));
  expect(lines.slice(first, first + 6).map((l) => l.trimEnd())).toEqual([
    'calibration 1v1          77.5%',
    '  en-US                  85.0% ✓',
    '  es-ES                  70.0%',
    'calibration 2v2          87.5% ✓',
    '  en-US                  90.0% ✓',
    '  es-ES                  85.0% ✓',
  ]);
  expect(lines).toContain('  en-US   40 items (dev 20, test 20)');
  expect(lines).toContain('  es-ES   40 items (dev 20, test 20)');
});
