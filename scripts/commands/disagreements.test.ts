/** `judgeflow program disagreements` on stored rounds with planted disagreements, as a program manager runs it. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { createTestDatabase, type TestDatabase } from '../../test/harness';
import { PLANTED, seedPlantedRounds } from '../../test/disagreement-fixture';

// every case starts the CLI (tsx compiles it on start): seconds each on a loaded machine
jest.setTimeout(300_000);
const BIN = path.join(__dirname, '..', '..', 'bin', 'judgeflow.js');
let database: TestDatabase;
let world: Awaited<ReturnType<typeof seedPlantedRounds>>;

beforeAll(async () => {
  database = await createTestDatabase();
  world = await seedPlantedRounds(database.db, 'planted');
});
afterAll(() => database?.drop());

function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'error' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'program', 'disagreements', ...args], { encoding: 'utf8', env }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    );
  });
}

test('--json: the latest round by default; the planted contested item first, the contrarian furthest from consensus', async () => {
  const { code, out, err } = await run('planted', '--json');
  expect(err).toBe('');
  expect(code).toBe(0);
  const a = JSON.parse(out);
  expect(a).toMatchObject({ programId: 'planted', phase: 'calibration', round: 1 });
  expect(a.splitItems[0]).toMatchObject({
    item: world.items.get(PLANTED.contestedItem),
    criterion: 'tone',
    entropy: 1,
    ratings: 6,
  });
  expect(a.splitItems[0].votes.map((v: { explanation: string }) => v.explanation)).toContain(
    'too flippant for a drama',
  );
  expect(a.raters[0].rater).toBe(world.rater(PLANTED.contrarian));
  expect(a.pairs).toHaveLength(15);
  expect(a.codes.find((c: { code: string | null }) => c.code !== null)).toMatchObject({
    criterion: 'clarity',
    code: PLANTED.contestedCode,
  });
  // the pilot is its own round
  const pilot = JSON.parse((await run('planted', '--round', 'pilot', '--json')).out);
  expect(pilot).toMatchObject({ phase: 'pilot', round: 0 });
  expect(pilot.items).toBe(7);
});

test('--csv: each table parses as CSV; the matrix is square and symmetric; the text names the planted findings', async () => {
  const items = parse((await run('planted', '--csv')).out, { columns: true }) as Record<string, string>[];
  expect(Object.keys(items[0])).toEqual([
    'criterion',
    'item',
    'entropy',
    'ratings',
    'rater',
    'label',
    'error_codes',
    'explanation',
  ]);
  expect(items.slice(0, 6).every((r) => r.item === world.items.get(PLANTED.contestedItem))).toBe(true);
  const matrix = parse((await run('planted', '--csv', '--table', 'matrix')).out) as string[][];
  expect(matrix).toHaveLength(7);
  expect(matrix[0].slice(1)).toEqual(matrix.slice(1).map((row) => row[0]));
  for (let i = 1; i < 7; i++) for (let j = 1; j < 7; j++) expect(matrix[i][j]).toBe(matrix[j][i]);
  const raters = parse((await run('planted', '--csv', '--table', 'raters')).out, { columns: true }) as Record<
    string,
    string
  >[];
  expect(raters[0].rater).toBe(world.rater(PLANTED.contrarian));

  const text = await run('planted', '--top', '3');
  expect(text.code).toBe(0);
  expect(text.out).toContain(`1.000  ${world.items.get(PLANTED.contestedItem)} · tone · pass 3 · fail 3`);
  expect(text.out).toContain('— dry humour fits the show');
  expect(text.out).toContain(`clarity × ${PLANTED.contestedCode}`);
  expect(text.out.split('Raters furthest')[1]).toContain(world.rater(PLANTED.contrarian));
});

test('bad input is refused with exit 2 and a message saying what to fix', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['nope'], /no program "nope"/],
    [
      ['planted', '--round', '5'],
      /no labels in the calibration round 5 \(rounds with labels: pilot, calibration round 1\)/,
    ],
    [['planted', '--round', 'x'], /--round must be pilot/],
    [['planted', '--json', '--csv'], /exclude each other/],
    [['planted', '--csv', '--table', 'heat'], /--table must be one of items, pairs, matrix, codes, raters/],
    [['planted', '--top', '0'], /--top must be a positive integer/],
  ];
  const results = await Promise.all(cases.map(([args]) => run(...args)));
  results.forEach((r, i) => {
    expect(r.err).toMatch(cases[i][1]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });
});
