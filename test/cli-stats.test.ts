/** `judgeflow agreement` and `judgeflow aggregate` as a program manager runs them on a CSV export. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { krippendorff2011 } from '../stats/__fixtures__/published';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-cli-stats-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function csv(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const BIN = path.join(__dirname, '..', 'bin', 'judgeflow.js');

/** Runs the real `judgeflow` command (the whole CLI loads Postgres/Temporal modules jest cannot require). */
function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

// Krippendorff (2011) data, columns shuffled, an extra column and a quoted rater name.
const kripCsv = [
  'note,label,rater,item',
  ...krippendorff2011.map((r) => `x,${r.label},"observer, ${r.rater}",${r.item}`),
].join('\n');
const FIELDS = [
  'items',
  'raters',
  'ratings',
  'percent_agreement',
  'krippendorff_alpha',
  'fleiss_kappa',
  'cohen_kappa',
  'gwet_ac1',
  'alpha_ci95',
  'notes',
];

describe('judgeflow agreement', () => {
  test('JSON keyed "all" without a criterion column, exactly the documented fields, Krippendorff (2011) values', async () => {
    const { code, out } = await run('agreement', '--input', csv('krip.csv', kripCsv), '--bootstrap', '200');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(Object.keys(json)).toEqual(['all']);
    expect(Object.keys(json.all)).toEqual(FIELDS);
    expect(json.all.krippendorff_alpha).toBeCloseTo(0.743, 3);
    expect(json.all.gwet_ac1).toBeCloseTo(0.77544, 5);
    expect(json.all.cohen_kappa).toBeNull();
    expect(json.all.notes.join()).toMatch(/cohen_kappa needs exactly two raters/);
    expect(json.all.alpha_ci95).toHaveLength(2);
    expect(out).not.toMatch(/NaN/);
    const interval = await run(
      'agreement',
      '--input',
      path.join(dir, 'krip.csv'),
      '--level',
      'interval',
      '--bootstrap',
      '0',
    );
    expect(JSON.parse(interval.out).all).toMatchObject({
      krippendorff_alpha: expect.closeTo(0.849, 3),
      alpha_ci95: null,
    });
  });

  test('one report per criterion; the seed makes the interval reproducible; a table for humans', async () => {
    const rows = ['criterion,item,rater,label'];
    for (let u = 0; u < 40; u++) {
      rows.push(`tone,s${u},a,${u % 2}`, `tone,s${u},b,${u % 2}`, `tone,s${u},c,${u % 7 === 0 ? 1 - (u % 2) : u % 2}`);
      rows.push(`clarity,s${u},a,${u % 3 === 0 ? 1 : 0}`, `clarity,s${u},b,${u % 5 === 0 ? 1 : 0}`);
    }
    const file = csv('criteria.csv', rows.join('\r\n') + '\r\n');
    const a = JSON.parse((await run('agreement', '--input', file, '--seed', '7')).out);
    const b = JSON.parse((await run('agreement', '--input', file, '--seed', '7')).out);
    expect(Object.keys(a)).toEqual(['tone', 'clarity']);
    expect(a.tone.raters).toBe(3);
    expect(a.clarity.cohen_kappa).not.toBeNull(); // two raters
    expect(a.tone.alpha_ci95).toEqual(b.tone.alpha_ci95);
    const table = await run('agreement', '--input', file, '--format', 'table', '--bootstrap', '0');
    expect(table.out.split('\n')[0]).toMatch(/^criterion\s+items\s+raters\s+ratings\s+agreement\s+alpha/);
    expect(table.out).toMatch(/^tone\s+40\s+3\s+120\s/m);
  });

  test('bad input: exit 2 and a message naming the line and the problem', async () => {
    const cases: [string, string, RegExp][] = [
      ['empty.csv', '', /is empty: expected a header line with the columns item, rater, label/],
      ['header-only.csv', 'item,rater,label\n', /has a header but no ratings/],
      [
        'missing.csv',
        'item,labeler,label\na,x,1\n',
        /missing.csv:1: missing column rater \(the header has: item, labeler, label\)/,
      ],
      [
        'conflict.csv',
        'item,rater,label\na,x,1\na,y,1\nb,x,0\na,x,0\n',
        /conflict.csv:5: rater "x" rated item "a" twice with different labels: "1" on line 2, "0" here/,
      ],
      [
        'one-rater.csv',
        'item,rater,label\na,x,1\nb,x,0\n',
        /only one rater \("x", from line 2\); agreement needs at least two/,
      ],
      ['unparseable.csv', 'item,rater,label\na,x,1\nb,"y,0\nc,z,1\n', /unparseable\.csv:\d+: unparseable CSV/],
      ['ragged.csv', 'item,rater,label\na,x,1\nb,y\n', /ragged\.csv:3: unparseable CSV/],
      ['blank.csv', 'item,rater,label\na,x,1\nb,,0\n', /blank\.csv:3: empty rater/],
    ];
    const results = await Promise.all(cases.map(([name, text]) => run('agreement', '--input', csv(name, text))));
    for (const [i, [name, , message]] of cases.entries()) {
      const r = results[i];
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.err).toMatch(message);
    }
    const notNumber = await run(
      'agreement',
      '--input',
      csv('words.csv', 'item,rater,label\na,x,good\na,y,bad\n'),
      '--level',
      'interval',
    );
    expect(notNumber).toMatchObject({
      code: 2,
      err: expect.stringMatching(/words\.csv:2: label "good" is not a number \(needed for --level interval\)/),
    });
    expect((await run('agreement', '--input', path.join(dir, 'nope.csv'))).err).toMatch(/input file not found/);
    expect((await run('agreement', '--input', path.join(dir, 'krip.csv'), '--level', 'fuzzy')).code).toBe(2);
  });

  test('--spec: each criterion at its own level — binary nominal, a 5-point Likert criterion ordinal over 1..5', async () => {
    const spec = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'examples', 'synopsis-program.yaml'), 'utf8'));
    Object.assign(spec.criteria[1], { scale: 'likert', points: 5, passAt: 4 });
    const specFile = csv('likert-spec.json', JSON.stringify(spec));
    const rows = ['criterion,item,rater,label'];
    for (let u = 0; u < 30; u++) {
      const score = 1 + (u % 5);
      rows.push(`tone,s${u},a,${u % 2}`, `tone,s${u},b,${u % 2}`, `tone,s${u},c,${u % 6 ? u % 2 : 1 - (u % 2)}`);
      rows.push(
        `clarity,s${u},a,${score}`,
        `clarity,s${u},b,${score}`,
        `clarity,s${u},c,${u % 2 ? score : (score % 5) + 1}`,
      );
    }
    const file = csv('likert.csv', rows.join('\n'));
    const bySpec = JSON.parse((await run('agreement', '--input', file, '--spec', specFile, '--bootstrap', '0')).out);
    const nominal = JSON.parse((await run('agreement', '--input', file, '--bootstrap', '0')).out);
    const ordinal = JSON.parse((await run('agreement', '--input', file, '--level', 'ordinal', '--bootstrap', '0')).out);
    expect(bySpec.tone).toEqual(nominal.tone);
    expect(bySpec.clarity.krippendorff_alpha).toBe(ordinal.clarity.krippendorff_alpha);
    expect(bySpec.clarity.krippendorff_alpha).not.toBe(nominal.clarity.krippendorff_alpha);
    expect(bySpec.clarity.notes.join()).toMatch(/AC2 with irrCAC ordinal weights/);

    const unknown = await run(
      'agreement',
      '--input',
      csv('wit.csv', 'criterion,item,rater,label\nwit,a,x,1\nwit,a,y,0\n'),
      '--spec',
      specFile,
    );
    expect(unknown).toMatchObject({
      code: 2,
      err: expect.stringMatching(/criterion "wit" is not in .*likert-spec\.json/),
    });
    const badSpec = await run(
      'agreement',
      '--input',
      file,
      '--spec',
      csv('bad-spec.json', JSON.stringify({ ...spec, criteria: [{ ...spec.criteria[1], points: undefined }] })),
    );
    expect(badSpec).toMatchObject({
      code: 2,
      err: expect.stringMatching(/criteria\.0\.points: criterion "clarity": a Likert criterion needs points/),
    });
  });
});

describe('judgeflow aggregate', () => {
  const file = () =>
    csv(
      'agg.csv',
      'item,rater,label,criterion\nsyn-1,a,pass,tone\nsyn-1,b,pass,tone\nsyn-1,c,fail,tone\nsyn-2,a,pass,tone\nsyn-2,b,fail,tone\n"syn,3",a,fail,tone\n',
    );
  test('majority: one row per item × criterion with label, confidence; ties follow --tie', async () => {
    const none = await run('aggregate', '--input', file(), '--method', 'majority');
    expect(none.out.trim().split('\n')).toEqual([
      'item,criterion,label,confidence,ratings,tied',
      'syn-1,tone,pass,0.6667,3,false',
      'syn-2,tone,,0.5000,2,true',
      '"syn,3",tone,fail,1.0000,1,false',
    ]);
    const lowest = JSON.parse((await run('aggregate', '--input', file(), '--tie', 'lowest', '--format', 'json')).out);
    expect(lowest[1]).toMatchObject({ item: 'syn-2', criterion: 'tone', label: 'fail', tied: true });
  });
  test('dawid-skene: posterior confidence per item', async () => {
    const rows = JSON.parse(
      (await run('aggregate', '--input', file(), '--method', 'dawid-skene', '--format', 'json')).out,
    );
    expect(rows.map((r: { item: string }) => r.item)).toEqual(['syn-1', 'syn-2', 'syn,3']);
    for (const r of rows) expect(r.confidence).toBeGreaterThanOrEqual(0.5);
    expect((await run('aggregate', '--input', csv('c2.csv', 'item,rater,label\na,x,1\na,x,2\n'))).code).toBe(2);
  });
});
