import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { eq } from 'drizzle-orm';
import { validateProgramSpec, type ProgramSpec } from '../schema/program-spec';
import { goldAnswers, guidelineVersions, items, programItems, programs, shows, vendorSecrets } from '../schema/tables';
import { loadVendor } from '../vendors/registry';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';
import { createProgramActivities } from './activities';
import { checkProgramPrerequisites, ProgramRegistrationError, registerProgram } from './registration';

let database: TestDatabase;
let spec: ProgramSpec;

beforeAll(async () => {
  database = await createTestDatabase();
  const raw = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'));
  raw.rounds = { pilotSize: 5, calibrationSize: 5, maxCalibrationRounds: 2, goldenSetSize: 10 };
  raw.goldExamples = [{ itemId: 'syn-0', labels: { tone: 1, factuality: 0 }, explanation: 'wrong year' }];
  const result = validateProgramSpec(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  spec = result.spec;
  await database.db.insert(shows).values({ id: 'show-1', title: 'Show', metadata: {} });
  await database.db.insert(items).values(
    Array.from({ length: 40 }, (_, i) => ({
      id: `syn-${i}`,
      showId: 'show-1',
      text: `synopsis ${i}`,
      textHash: `h${i}`,
    })),
  );
});
afterAll(() => database.drop());

describe('program registration', () => {
  test('refuses, changing nothing, when a secret is missing or a gold item is unknown', async () => {
    const withUnknownGold = { ...spec, goldExamples: [{ itemId: 'nope', labels: { tone: 1 }, explanation: '' }] };
    const attempt = checkProgramPrerequisites(
      database.db,
      withUnknownGold,
      {},
      { rpmLimit: 1000, model: 'gpt-4.1-mini' },
    );
    await expect(attempt).rejects.toBeInstanceOf(ProgramRegistrationError);
    await expect(attempt).rejects.toThrow(
      /vendors\.0\.secretEnv: environment variable ACME_WEBHOOK_SECRETS is not set/,
    );
    await expect(attempt).rejects.toThrow(/goldExamples\.0\.itemId: unknown item "nope"/);
    expect(await database.db.select().from(programs)).toEqual([]);
  });

  test('writes the program, guidelines v1, its vendor (secrets by variable name) and gold answers', async () => {
    const env = { ACME_WEBHOOK_SECRETS: 'whsec_a, whsec_b' };
    const {
      estimate,
      vendors: vendorPlan,
      selection,
    } = await checkProgramPrerequisites(database.db, spec, env, {
      rpmLimit: 1000,
      model: 'gpt-4.1-mini',
    });
    expect(estimate.humanTasks.total).toBeGreaterThan(0);
    expect(estimate.costUsd.llmBatch).toBeLessThan(estimate.costUsd.llm);
    await registerProgram(database.db, spec, estimate, vendorPlan, selection);
    expect(await database.db.select().from(guidelineVersions)).toHaveLength(1);
    // The vendor is registered with its secrets' variable name; its values are read when used.
    const [secret] = await database.db.select().from(vendorSecrets).where(eq(vendorSecrets.vendorId, 'acme-labels'));
    expect(secret).toMatchObject({ purpose: 'signing', envName: 'ACME_WEBHOOK_SECRETS', sealed: null });
    expect((await loadVendor(database.db, 'acme-labels', { env }))?.secrets).toEqual(['whsec_a', 'whsec_b']);
    expect(await database.db.select().from(goldAnswers)).toHaveLength(2);
    await expect(checkProgramPrerequisites(database.db, spec, env, { rpmLimit: 1000, model: 'm' })).rejects.toThrow(
      /program "synopsis-quality" already exists/,
    );
  });
});

describe('item draws', () => {
  test('are fresh per purpose, exclude gold items, and a retried draw returns the same items', async () => {
    const acts = createProgramActivities(testDeps(database));
    const pilot = await acts.drawItems({ programId: spec.id, purpose: 'pilot', count: 5 });
    const again = await acts.drawItems({ programId: spec.id, purpose: 'pilot', count: 5 });
    expect(again).toEqual(pilot);
    const round1 = await acts.drawItems({ programId: spec.id, purpose: 'calibration/1', count: 5 });
    expect(round1.filter((id) => pilot.includes(id))).toEqual([]);
    expect([...pilot, ...round1]).not.toContain('syn-0'); // the gold item
    const drawn = await database.db.select().from(programItems);
    expect(drawn).toHaveLength(10);
    await expect(acts.drawItems({ programId: spec.id, purpose: 'golden-set', count: 100 })).rejects.toThrow(
      /Only 29 fresh items left/,
    );
  });
});

describe('plan', () => {
  test('is the small view the workflow runs on', async () => {
    const plan = await createProgramActivities(testDeps(database)).loadProgramPlan(spec.id);
    expect(plan).toMatchObject({
      programId: spec.id,
      criteria: ['tone', 'clarity', 'precision', 'factuality'],
      guidelineVersion: 1,
      sla: { remindAfterMs: 86_400_000, reassignAfterMs: 259_200_000, deadlineMs: 604_800_000 },
      gatePolicy: 'manual',
      vendorsFor: { rate: ['acme-labels'], review: ['acme-labels'], write: ['acme-labels'] },
    });
  });
});
