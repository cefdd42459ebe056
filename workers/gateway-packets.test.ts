/**
 * Rater packets over real HTTP against a real Postgres: the signed link a dispatch carries and
 * signed headers open the packet (text, rubric and values per criterion, that criterion's error
 * codes, gold examples with their text); every way of getting it wrong is a 401/404/400 with its
 * own code; and the simulated vendor's raters work from the version they actually fetched.
 */
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import YAML from 'yaml';
import { createLogger } from '../platform/logger';
import { validateProgramSpec, type ProgramSpecInput } from '../schema/program-spec';
import { guidelineVersions, programs } from '../schema/tables';
import { raterPacketSchema, type TaskDispatch } from '../schema/vendor-events';
import { packetReader } from '../scripts/sim/vendor/packets';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { packetLink, packetPath } from '../vendors/packet-link';
import { localeLink } from '../human-tasks/guidelines';
import { signHeaders } from '../vendors/signing';
import { buildGateway, type Gateway } from './gateway';

let database: TestDatabase;
let gateway: Gateway;
let base: string;
const secretA = newSecret();
const secretB = newSecret();
const vendorA = { id: 'vendor-a', secrets: [secretA] };
let goldItem: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const { goldIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 3,
    gold: 1,
    vendors: [
      { id: 'vendor-a', secrets: [secretA] },
      { id: 'vendor-b', secrets: [secretB] },
    ],
  });
  goldItem = goldIds[0];
  const example = YAML.parse(
    fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'),
  ) as ProgramSpecInput;
  const validation = validateProgramSpec({
    ...example,
    id: 'p1',
    vendors: [{ ...example.vendors[0], id: 'vendor-a', secret: secretA, secretEnv: undefined }],
    goldExamples: [{ itemId: goldItem, labels: { tone: 1, clarity: 0 }, explanation: 'stacked clauses' }],
    production: { writerVendor: 'vendor-a' },
  });
  if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
  const spec = validation.spec;
  await database.db
    .update(programs)
    .set({ spec: spec as unknown as Record<string, unknown> })
    .where(eq(programs.id, 'p1'));
  await database.db.insert(guidelineVersions).values([
    {
      programId: 'p1',
      version: 1,
      text: spec.guidelines.text,
      criteria: spec.criteria,
      note: 'initial',
      author: 'spec',
    },
    {
      programId: 'p1',
      version: 2,
      text: 'v2: worked examples per criterion',
      criteria: spec.criteria,
      note: 'raters split on tone',
      author: 'pm',
    },
  ]);
  gateway = await buildGateway({
    db: database.db,
    config: testConfig({}, database),
    logger: createLogger('test', 'silent'),
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
});

const inAnHour = () => new Date(Date.now() + 3_600_000);
const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
};

test('the signed link of a dispatch opens its version: text, rubric and values per criterion, error codes, gold examples', async () => {
  const { status, body } = await get(packetLink(vendorA, base, 'p1', 1, inAnHour()).url);
  expect(status).toBe(200);
  const packet = raterPacketSchema.parse(body);
  expect(packet).toMatchObject({ programId: 'p1', version: 1, note: 'initial' });
  expect(packet.guidelines).toMatch(/Rate each criterion pass \(1\) or fail \(0\)/);
  const tone = packet.criteria.find((c) => c.id === 'tone')!;
  expect(tone.rubric.length).toBeGreaterThan(10);
  expect(tone.values).toEqual([
    { value: 1, label: 'pass' },
    { value: 0, label: 'fail' },
  ]);
  // Only the codes of that criterion.
  expect(tone.errorCodes.map((e) => e.code)).toEqual(['TONE_CLICKBAIT', 'TONE_GENRE']);
  expect(packet.goldExamples).toEqual([
    expect.objectContaining({ itemId: goldItem, labels: { tone: 1, clarity: 0 }, explanation: 'stacked clauses' }),
  ]);
  expect(packet.goldExamples[0].text.length).toBeGreaterThan(20);
});

test('/openapi.json documents the packet route and the guidelines.published notice', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
    webhooks: Record<string, unknown>;
  };
  const route = doc.paths['/v1/vendors/{vendorId}/guidelines/{programId}/{version}'];
  expect(Object.keys(route.get!.responses).sort()).toEqual(['200', '400', '401', '404']);
  expect(Object.keys(doc.webhooks)).toContain('guidelines.published');
});

test('signed headers over the path open any version, and latest is the newest published', async () => {
  const latest = packetPath('vendor-a', 'p1', 'latest');
  const { status, body } = await get(`${base}${latest}`, { ...signHeaders(secretA, latest) });
  expect(status).toBe(200);
  expect(body).toMatchObject({ version: 2, guidelines: 'v2: worked examples per criterion' });
});

test('a wrong, moved, expired or foreign link, or unsigned request, is refused with 401 and its code', async () => {
  const link = packetLink(vendorA, base, 'p1', 1, inAnHour());
  const url = new URL(link.url);
  const expect401 = async (target: string, code: string, headers: Record<string, string> = {}) => {
    const { status, body } = await get(target, headers);
    expect([status, body.error?.code]).toEqual([401, code]);
  };
  // The same signature on another version's path.
  await expect401(link.url.replace('/p1/1?', '/p1/2?'), 'bad_link_signature');
  // The expiry pushed out without re-signing.
  url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
  await expect401(url.toString(), 'bad_link_signature');
  await expect401(packetLink(vendorA, base, 'p1', 1, new Date(Date.now() - 1000)).url, 'link_expired');
  // Vendor B's link presented at vendor A's path.
  const foreign = new URL(packetLink({ id: 'vendor-b', secrets: [secretB] }, base, 'p1', 1, inAnHour()).url);
  await expect401(`${base}${packetPath('vendor-a', 'p1', 1)}${foreign.search}`, 'bad_link_signature');
  await expect401(`${base}${packetPath('vendor-a', 'p1', 1)}`, 'missing_headers');
  // Headers signed over another path.
  await expect401(`${base}${packetPath('vendor-a', 'p1', 2)}`, 'bad_signature', {
    ...signHeaders(secretA, packetPath('vendor-a', 'p1', 1)),
  });
});

test('unknown vendor, program or version, or a program that is not the vendor’s: 404; a malformed version: 400', async () => {
  const at = async (vendorId: string, programId: string, version: number | 'latest', secret: string) => {
    const p = packetPath(vendorId, programId, version);
    return get(`${base}${p}`, { ...signHeaders(secret, p) });
  };
  const codes = async (...r: Awaited<ReturnType<typeof get>>[]) => r.map((x) => [x.status, x.body.error?.code]);
  expect(
    await codes(
      await at('vendor-a', 'p1', 9, secretA),
      await at('vendor-a', 'nope', 1, secretA),
      await at('vendor-b', 'p1', 1, secretB),
      await at('nobody', 'p1', 1, secretA),
    ),
  ).toEqual([
    [404, 'guidelines_not_found'],
    [404, 'guidelines_not_found'],
    [404, 'guidelines_not_found'],
    [404, 'vendor_not_found'],
  ]);
  const bad = `/v1/vendors/vendor-a/guidelines/p1/0`;
  expect(await codes(await get(`${base}${bad}`, { ...signHeaders(secretA, bad) }))).toEqual([[400, 'bad_version']]);
});

test('simulated raters work from the version they fetched: a notice helps only once its packet is read', async () => {
  const stats = { packetsFetched: 0, packetFetchFailures: 0, notices: 0 };
  const reader = packetReader(createLogger('test', 'silent'), stats);
  const task = (id: string, version: number): TaskDispatch => ({
    taskId: id,
    batchId: 'b',
    programId: 'p1',
    kind: 'rate',
    raterId: 'r1',
    item: { id: 'i', textHash: 'h', text: 't', locale: 'en-US' },
    show: {},
    criteria: ['tone'],
    guidelineVersion: version,
    guidelines: packetLink(vendorA, base, 'p1', version, inAnHour()),
    dueAt: '',
    context: {},
  });
  expect(await reader.versionFor('r1', task('t1', 1))).toBe(1);
  // A notice whose link cannot be opened: raters keep working from v1.
  const broken = packetLink({ id: 'vendor-a', secrets: [secretB] }, base, 'p1', 2, inAnHour());
  reader.notice('p1', broken);
  expect(await reader.versionFor('r1', task('t2', 1))).toBe(1);
  expect(stats.packetFetchFailures).toBe(1);
  // The real v2 notice: the next task of any rater is done from v2.
  reader.notice('p1', packetLink(vendorA, base, 'p1', 2, inAnHour()));
  expect(await reader.versionFor('r1', task('t3', 1))).toBe(2);
  expect(await reader.versionFor('r2', task('t4', 1))).toBe(2);
  // r1 and r2 shared one fetch of v2 after one of v1; a task without a link is done from what was read.
  expect(stats).toEqual({ packetsFetched: 2, packetFetchFailures: 1, notices: 2 });
  expect(await reader.versionFor('r3', { ...task('t5', 1), programId: 'other', guidelines: undefined })).toBe(0);
});

test("a multilingual program's link with ?locale opens that locale's packet: its guidelines, rubrics and gold", async () => {
  const [p1] = await database.db.select().from(programs).where(eq(programs.id, 'p1'));
  const spec = {
    ...(p1.spec as Record<string, unknown>),
    id: 'p2',
    locales: [
      { code: 'en-US', rubrics: {} },
      {
        code: 'es-ES',
        guidelines: { version: 1, text: 'Valora cada criterio: aprueba (1) o suspende (0).' },
        rubrics: { tone: 'Tono sobrio, sin exclamaciones ni reclamos.' },
      },
    ],
  };
  await database.db.insert(programs).values({ id: 'p2', name: 'p2', spec, budgetUsd: 10 });
  const [v1] = await database.db
    .select()
    .from(guidelineVersions)
    .where(and(eq(guidelineVersions.programId, 'p1'), eq(guidelineVersions.version, 1)));
  await database.db.insert(guidelineVersions).values({ ...v1, programId: 'p2' });
  const link = packetLink(vendorA, base, 'p2', 1, inAnHour());
  const spanish = raterPacketSchema.parse((await get(localeLink(link, 'es-ES')!.url)).body);
  expect(spanish).toMatchObject({ locale: 'es-ES', guidelines: 'Valora cada criterio: aprueba (1) o suspende (0).' });
  const rubric = (p: typeof spanish, id: string) => p.criteria.find((c) => c.id === id)!.rubric;
  expect(rubric(spanish, 'tone')).toBe('Tono sobrio, sin exclamaciones ni reclamos.');
  const english = raterPacketSchema.parse((await get(localeLink(link, 'en-US')!.url)).body);
  expect(english.locale).toBe('en-US');
  expect(english.guidelines).toBe(v1.text);
  // a criterion the locale gives no rubric keeps the program's; the en-US gold example is not in the Spanish packet
  expect(rubric(spanish, 'clarity')).toBe(rubric(english, 'clarity'));
  expect(rubric(spanish, 'tone')).not.toBe(rubric(english, 'tone'));
  expect(english.goldExamples.map((g) => g.itemId)).toEqual([goldItem]);
  expect(spanish.goldExamples).toEqual([]);
  const refused = async (locale: string) => {
    const { status, body } = await get(`${link.url}&locale=${encodeURIComponent(locale)}`);
    return [status, body.error?.code];
  };
  expect(await refused('fr-FR')).toEqual([404, 'guidelines_not_found']);
  expect(await refused('spanish')).toEqual([400, 'bad_locale']);
});
