/**
 * Judges per locale (issue 16): a multilingual program's judge is prompted with its locale's rubric
 * and told the synopsis's language, and is measured on its own locale's golden items only; the
 * simulated model is weaker in es-ES, so the difference shows; an item's golden label is aggregated under
 * its locale's rubric and guidelines. Real Postgres, the LLM simulator over HTTP.
 */
import { eq, sql } from 'drizzle-orm';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { goldenLabels, items, judgePrompts, labels, raters, taskBatches, tasks, vendors } from '../schema/tables';
import { createTestDatabase, testConfig, testDeps, type TestDatabase } from '../test/harness';
import { seedJudgeProgram, seedJudgeWorld } from '../test/judge-fixture';
import { startLlmOutage } from '../test/llm-outage';
import { createJudgingActivities } from './activities';
import { judgeRequest, loadItems } from './judgments';
import { readDataTag } from './prompts/contract';
import { resolvePlans } from './prompt-registry';

const PROGRAM = 'multilingual';
const SPANISH_GUIDELINES = 'Valora cada criterio por separado. Lee primero la ficha de la serie.';
const SPANISH_TONE = 'Aprueba: voz tranquila y descriptiva. Suspende: exageraciones o signos de exclamación.';
let database: TestDatabase;
let sim: LlmSimulator;
let acts: ReturnType<typeof createJudgingActivities>;
let world: Awaited<ReturnType<typeof seedJudgeWorld>>;

beforeAll(async () => {
  database = await createTestDatabase();
  // es-ES well below en-US, so one run tells the locales apart.
  sim = await startLlmSimulator({ port: await freePort(), seed: 11, localeAccuracy: { 'es-ES': -0.25 } });
  acts = createJudgingActivities(
    testDeps(
      database,
      testConfig({ OPENAI_BASE_URL: sim.url, LLM_CONCURRENCY: '32', LLM_RPM_LIMIT: '600000' }, database),
    ),
  );
  world = await seedJudgeWorld(database.db, {
    programId: PROGRAM,
    shows: 60,
    seed: 5,
    over: {
      locales: [
        { code: 'en-US' },
        { code: 'es-ES', guidelines: { version: 3, text: SPANISH_GUIDELINES }, rubrics: { tone: SPANISH_TONE } },
      ],
    },
  });
  // Half the catalog becomes Spanish (the simulated judge's truth does not depend on the language).
  await database.db.execute(sql`update items set locale = 'es-ES' where md5(id) < '8'`);
  await seedJudgeProgram(database.db, { programId: 'monolingual' });
});
afterAll(async () => {
  await sim?.close();
  await database?.drop();
});

const template = async (hash: string) =>
  (await database.db.select().from(judgePrompts).where(eq(judgePrompts.hash, hash)))[0];

test("each locale's judge carries that locale's rubric and names the synopsis's language; a single-locale program's is as before", async () => {
  const es = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1, locale: 'es-ES' });
  const en = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1, locale: 'en-US' });
  const englishTone = world.spec.criteria.find((c) => c.id === 'tone')!.rubric.trim();
  const esTone = await template(es.tone);
  expect(esTone.template).toContain(SPANISH_TONE);
  expect(esTone.template).not.toContain(englishTone);
  expect(esTone.template).toContain('The synopsis is written in Spanish (es-ES)');
  expect(esTone.settings).toMatchObject({ locale: 'es-ES' });
  // The locale's own guidelines, at their own version; en-US reads the program's.
  expect(esTone.template).toContain(`Writing guidelines (version 3):\n${SPANISH_GUIDELINES}`);
  const enTone = await template(en.tone);
  expect(enTone.template).toContain(englishTone);
  expect(enTone.template).toContain('The synopsis is written in English (en-US)');
  expect(enTone.template).toContain(`Writing guidelines (version 1):\n${world.spec.guidelines.text.trim()}`);
  // A criterion the locale gives no rubric keeps the program's, yet its judge is still the locale's own.
  expect((await template(es.clarity)).template).toContain(
    world.spec.criteria.find((c) => c.id === 'clarity')!.rubric.trim(),
  );
  expect(es.clarity).not.toBe(en.clarity);
  // The factuality panel's agents are the locale's too.
  expect((await template(es['factuality.plot'])).settings).toMatchObject({ locale: 'es-ES' });

  // The request of an es-ES item names its locale as data (the simulated model reads it).
  const [plan] = await resolvePlans(database.db, PROGRAM, ['tone'], es);
  const [esItem] = await database.db.select({ id: items.id }).from(items).where(eq(items.locale, 'es-ES')).limit(1);
  const item = (await loadItems(database.db, [esItem.id])).get(esItem.id)!;
  const request = judgeRequest(plan.units[0], item, 0, 'gpt-4.1-mini');
  expect(request.messages[0].content).toContain(SPANISH_TONE);
  expect(readDataTag(request.messages[1].content, 'locale')).toBe('es-ES');

  const mono = await acts.ensureJudgePrompts({ programId: 'monolingual', guidelineVersion: 1 });
  const monoTone = await template(mono.tone);
  expect(monoTone.template).not.toMatch(/written in/);
  expect(monoTone.settings).not.toHaveProperty('locale');
  const [monoPlan] = await resolvePlans(database.db, 'monolingual', ['tone'], mono);
  expect(readDataTag(judgeRequest(monoPlan.units[0], item, 0, 'gpt-4.1-mini').messages[1].content, 'locale')).toBe(
    undefined,
  );

  await expect(acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1, locale: 'fr-FR' })).rejects.toThrow(
    /program multilingual has no locale fr-FR/,
  );
});

test("a locale's judge is measured on that locale's golden items alone, and the simulated model is weaker in es-ES", async () => {
  const testItems = async (locale: string) =>
    (
      await database.db.execute<{ n: number }>(sql`
        select count(*)::int as n from ${goldenLabels} g join ${items} i on i.id = g.item_id
        where g.program_id = ${PROGRAM} and g.criterion = 'tone' and g.split = 'test' and i.locale = ${locale}`)
    )[0].n;
  const measure = async (locale: string) => {
    const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1, locale });
    return acts.evaluateJudge({
      programId: PROGRAM,
      criterion: 'tone',
      promptHash: prompts.tone,
      split: 'test',
      samples: 1,
      model: 'gpt-4.1-mini',
    });
  };
  const en = await measure('en-US');
  const es = await measure('es-ES');
  console.log(`tone judge held out: en-US ${en.accuracy} on ${en.n} items, es-ES ${es.accuracy} on ${es.n} items`);
  expect(en.n).toBe(await testItems('en-US'));
  expect(es.n).toBe(await testItems('es-ES'));
  expect(en.n).toBeGreaterThan(20);
  expect(es.n).toBeGreaterThan(20);
  expect(en.locale).toBe('en-US');
  expect(es.locale).toBe('es-ES');
  expect(en.accuracy!).toBeGreaterThan(es.accuracy! + 0.1);

  // Prompt optimization scores a locale's judge on that locale's dev items alone.
  const esPrompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1, locale: 'es-ES' });
  const dev = await acts.scoreOnDev({
    programId: PROGRAM,
    criterion: 'tone',
    promptHash: esPrompts.tone,
    runId: 'opt-es',
    through: 1000,
    samples: 1,
    model: 'gpt-4.1-mini',
  });
  const [{ n: esDev }] = await database.db.execute<{ n: number }>(sql`
    select count(*)::int as n from ${goldenLabels} g join ${items} i on i.id = g.item_id
    where g.program_id = ${PROGRAM} and g.criterion = 'tone' and g.split = 'dev' and i.locale = 'es-ES'`);
  expect(dev.devSize).toBe(esDev);
});

test("an item's golden label is aggregated under its locale's rubric and guidelines", async () => {
  const proxy = await startLlmOutage(sim.url);
  proxy.down = false;
  const recorded = createJudgingActivities(
    testDeps(database, testConfig({ OPENAI_BASE_URL: proxy.url, LLM_RPM_LIMIT: '600000' }, database)),
  );
  const pick = async (locale: string) =>
    (await database.db.select().from(items).where(eq(items.locale, locale)).orderBy(items.id).limit(1))[0];
  const [es, en] = [await pick('es-ES'), await pick('en-US')];
  await database.db.insert(vendors).values({ id: 'agg', name: 'agg', kind: 'http' });
  await database.db.insert(raters).values(['a', 'b'].map((r) => ({ id: `agg:${r}`, vendorId: 'agg', externalId: r })));
  await database.db
    .insert(taskBatches)
    .values({ id: 'agg-golden', programId: PROGRAM, phase: 'golden-set', kind: 'rate', guidelineVersion: 1 });
  // The two raters split on each item, so each needs the model.
  for (const item of [es, en])
    for (const [slot, r] of ['a', 'b'].entries()) {
      const taskId = `agg-${item.id}-${r}`;
      await database.db.insert(tasks).values({
        id: taskId,
        batchId: 'agg-golden',
        programId: PROGRAM,
        itemId: item.id,
        textHash: item.textHash,
        slot,
        vendorId: 'agg',
        raterId: `agg:${r}`,
        kind: 'rate',
        guidelineVersion: 1,
        status: 'completed',
        payload: { criteria: ['tone'] },
      });
      await database.db.insert(labels).values({
        taskId,
        programId: PROGRAM,
        itemId: item.id,
        raterId: `agg:${r}`,
        criterion: 'tone',
        value: slot,
        explanation: `rater ${r}`,
        guidelineVersion: 1,
        phase: 'golden-set',
      });
    }
  try {
    const out = await recorded.aggregateGolden({ programId: PROGRAM, criterion: 'tone', itemIds: [es.id, en.id] });
    expect(out.labeled).toBe(2);
  } finally {
    await proxy.close();
  }
  const systemOf = (item: { text: string }) => {
    const found = proxy.bodies
      .map((b) => (JSON.parse(b) as { messages: { content: string }[] }).messages)
      .filter((m) => readDataTag(m[1].content, 'synopsis') === item.text);
    expect(found).toHaveLength(1);
    return found[0][0].content;
  };
  const englishTone = world.spec.criteria.find((c) => c.id === 'tone')!.rubric.trim();
  expect(systemOf(es)).toContain(SPANISH_TONE);
  expect(systemOf(es)).toContain(SPANISH_GUIDELINES);
  expect(systemOf(es)).not.toContain(englishTone);
  expect(systemOf(en)).toContain(englishTone);
  expect(systemOf(en)).toContain(world.spec.guidelines.text.trim());
  expect(systemOf(en)).not.toContain(SPANISH_TONE);
});
