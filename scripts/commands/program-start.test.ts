/**
 * `judgeflow program start` with a spec whose `items.catalog` is a file beside it: the file is
 * imported and the program's items are its synopses that pass the filters; a selection that is
 * empty is refused with exit code 2 and the reason, and no program is registered or started.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import YAML from 'yaml';
import { programItemSet, programs, programSelections } from '../../schema/tables';
import { createTestDatabase, devServerClient, uniqueTaskQueue, type TestDatabase } from '../../test/harness';
import { programWorkflowId } from '../../workflows/ids';

jest.setTimeout(240_000);
const BIN = path.join(__dirname, '..', '..', 'bin', 'judgeflow.js');
const suffix = Math.random().toString(16).slice(2, 8);
let database: TestDatabase;
let client: Client;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  client = await devServerClient();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'program-start-'));
  fs.mkdirSync(path.join(dir, 'data'));
  const lines = [
    { kind: 'show', id: 'drama', title: 'Drama', genres: ['Drama'] },
    { kind: 'show', id: 'comedy', title: 'Comedy', genres: ['Comedy'] },
    ...Array.from({ length: 24 }, (_, i) => ({
      kind: 'synopsis',
      id: `drama-${String(i).padStart(2, '0')}`,
      showId: 'drama',
      text: `Drama synopsis ${i}.`,
    })),
    { kind: 'synopsis', id: 'comedy-00', showId: 'comedy', text: 'A comedy.' },
  ];
  fs.writeFileSync(path.join(dir, 'data', 'catalog.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
});
afterAll(async () => {
  await client?.connection.close();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A spec in `dir` whose catalog is data/catalog.jsonl (a path relative to the spec's folder). */
function writeSpec(id: string, genres: string[]) {
  const spec = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/demo-program.yaml'), 'utf8'));
  Object.assign(spec, {
    id,
    items: { catalog: 'data/catalog.jsonl', genres },
    rounds: { pilotSize: 5, calibrationSize: 5, maxCalibrationRounds: 1, goldenSetSize: 10, testShare: 0.5 },
  });
  const file = path.join(dir, `${id}.yaml`);
  fs.writeFileSync(file, YAML.stringify(spec));
  return file;
}

function start(file: string): Promise<{ code: number; out: string }> {
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS,
    // No worker polls it: the started program waits, and is terminated below.
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('program-start'),
    JUDGEFLOW_SEARCH_ATTRIBUTES: 'false',
    VENDOR_SIM_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    LOG_LEVEL: 'error',
  };
  // From another folder: the catalog path is resolved from the spec's, not the working directory.
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'program', 'start', file, '--yes', '--json'],
      { encoding: 'utf8', env, cwd: os.tmpdir() },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test("a spec's catalog file is imported and its filtered synopses become the program's items; an empty selection starts nothing", async () => {
  const empty = `start-empty-${suffix}`;
  const refused = await start(writeSpec(empty, ['Western']));
  expect(refused.code).toBe(2);
  expect(refused.out).toContain(
    `items: no catalog item is selected (the 25 synopses of ${path.join(dir, 'data', 'catalog.jsonl')}; locale en-US; genres Western)`,
  );
  expect(await database.db.$count(programs, eq(programs.id, empty))).toBe(0);
  await expect(client.workflow.getHandle(programWorkflowId(empty)).describe()).rejects.toThrow(/not found/i);

  const id = `start-drama-${suffix}`;
  const started = await start(writeSpec(id, ['drama']));
  expect(started.code).toBe(0);
  expect(JSON.parse(started.out.trim().split('\n').pop()!)).toMatchObject({ programId: id });
  const items = await database.db.$count(programItemSet, eq(programItemSet.programId, id));
  expect(items).toBe(24);
  const [selection] = await database.db.select().from(programSelections).where(eq(programSelections.programId, id));
  expect(selection).toMatchObject({
    kind: 'spec',
    added: 24,
    definition: { catalog: { file: path.join(dir, 'data', 'catalog.jsonl'), synopses: 25 }, genres: ['drama'] },
  });
  const handle = client.workflow.getHandle(programWorkflowId(id));
  expect((await handle.describe()).status.name).toBe('RUNNING');
  await handle.terminate('test done');
});
