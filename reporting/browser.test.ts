/**
 * Opens the fixture program's report in headless Chromium (Debian's `chromium`, installed by
 * .ci/run) with the network cut off, and checks that every chart rendered with marks, that no
 * console error or failed request happened, and saves a screenshot under test-artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildProgramReport } from './report';
import { FIXTURE_PROGRAM, seedReportProgram } from '../test/fixtures/report-program';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { renderHtml } from './render';
import { SECTION_IDS } from './sections';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../test-artifacts');

let database: TestDatabase;
let browser: Browser;
let file: string;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  database = await createTestDatabase();
  await seedReportProgram(database.db);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  file = path.join(ARTIFACTS, 'report.html');
  fs.writeFileSync(file, renderHtml(await buildProgramReport(database.db, FIXTURE_PROGRAM)));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await database?.drop();
});

it('renders every chart offline with no console errors', async () => {
  const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${file}`, { waitUntil: 'load' });

  expect(await page.locator('section').evaluateAll((s) => s.map((e) => e.id))).toEqual([...SECTION_IDS]);
  const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const marks = [...svg.querySelectorAll('.mark')].filter((m) => {
        const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return b.width > 0 || b.height > 0;
      });
      return {
        title: svg.querySelector('title')?.textContent ?? '',
        width: box.width,
        height: box.height,
        marks: marks.length,
      };
    }),
  );
  expect(charts.length).toBeGreaterThanOrEqual(11);
  for (const c of charts) {
    expect(c.width).toBeGreaterThan(100);
    expect(c.height).toBeGreaterThan(50);
    expect({ title: c.title, hasMarks: c.marks > 0 }).toEqual({ title: c.title, hasMarks: true });
  }
  // the agreement chart: 2 criteria × 3 rounds of points, 2 bands, 2 lines and the target
  const agreement = charts.find((c) => c.title.includes('per round'));
  expect(agreement?.marks).toBe(6 + 2 + 2 + 1);

  expect(errors).toEqual([]);
  expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
  expect(fs.statSync(path.join(ARTIFACTS, 'report.png')).size).toBeGreaterThan(10_000);
  await context.close();
});
