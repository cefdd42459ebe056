/**
 * `npm run demo`: the example synopsis program end to end on the embedded stack and the simulated
 * world (LLM simulator, simulated vendor), with a scripted program manager who publishes guideline
 * revisions when a calibration round misses the target and approves the gates. Prints a summary
 * and the Temporal UI links; `--keep` leaves the stack up to explore.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import YAML from 'yaml';
import { programSpend } from '../human-tasks/accounting';
import { checkProgramPrerequisites, registerProgram } from '../program/registration';
import { newSecret } from '../vendors/signing';
import { describeVendors, rotateVendorSecret } from '../vendors/registry';
import { SIM_SECRET_KEY } from './sim/vendor/world';
import { loadConfig, usesLlmSimulator, type Config } from '../platform/config';
import { connectDatabase, type Database } from '../platform/db';
import { validateProgramSpec, type ProgramSpec } from '../schema/program-spec';
import { approveGateUpdate, publishGuidelinesUpdate, type ProgramStatus } from '../workflows/messages';
import { programWorkflow } from '../workflows/program';
import { PhaseKey, ProgramKey, StatusKey } from '../workflows/search-attributes';
import { formatStatus, programStatus, UnknownProgramError } from './commands/program';
import { programFailure } from './commands/failure';
import { revisionFromDisagreements } from './demo-revision';
import {
  formatLocaleSummaries,
  localeSummaries,
  specLocales,
  worldDirOf,
  type LocaleSummary,
  type PassRate,
} from './demo-locales';
import type { DisagreementDigest } from '../stats/disagreement';
import { programWorkflowId } from '../workflows/ids';
import { BIN, startStack, waitForShutdownSignal, type Stack } from './stack';

export interface DemoOptions {
  keep: boolean;
  shows: number;
  seed: number;
  /** Also write the summary to this file as JSON. */
  summaryJson?: string;
  /** Another program spec to run (default examples/demo-program.yaml); with `locales:`, a world per locale. */
  spec?: string;
}

const EXAMPLE = path.resolve(__dirname, '../examples/demo-program.yaml');

export async function runDemo(opts: DemoOptions): Promise<void> {
  const started = Date.now();
  // The simulated vendor signs its events with this secret; the program spec reads it by name.
  process.env.VENDOR_SIM_SECRET ??= newSecret();
  // What the demo's data dir seals (an older database's plaintext secrets) uses the simulation key unless one is set.
  process.env.JUDGEFLOW_SECRET_KEY ??= SIM_SECRET_KEY;
  // The simulator answers at once, so more requests in flight per worker keep both cores busy.
  process.env.LLM_CONCURRENCY ??= '64';
  // Nor does it have a rate limit: paced at the default 10,000 rpm (a real provider's), the program's
  // ~40,000 calls took 4 of the demo's 10–11 minutes. 30,000 rpm is OpenAI's tier-5 limit for
  // gpt-4.1-mini. A real provider keeps its configured limit.
  if (usesLlmSimulator(loadConfig())) process.env.LLM_RPM_LIMIT ??= '30000';
  const config = loadConfig();
  const specFile = opts.spec ? path.resolve(opts.spec) : EXAMPLE;
  const raw = YAML.parse(fs.readFileSync(specFile, 'utf8')) as { locales?: { code: string }[] };
  const locales = specLocales(raw);
  // One simulated world per locale, its synopses in that language (one, in en-US, for a single-locale spec).
  const catalogs = (locales ?? [undefined]).map((locale) => {
    const worldDir = worldDirOf(config.dataDir, opts.seed, opts.shows, locale);
    const catalog = path.join(worldDir, 'catalog.jsonl');
    if (!fs.existsSync(catalog)) {
      step(
        `generating a simulated world: ${opts.shows} shows (seed ${opts.seed}${locale ? `, ${locale}` : ''}) → ${worldDir}`,
      );
      fs.mkdirSync(worldDir, { recursive: true });
      const language = locale && locale !== 'en-US' ? ['--locale', locale] : [];
      cli([
        'sim',
        'catalog',
        '--shows',
        String(opts.shows),
        '--seed',
        String(opts.seed),
        ...language,
        '--out',
        catalog,
      ]);
    }
    return catalog;
  });

  step(
    'starting the embedded stack (Temporal dev server, PostgreSQL, LLM simulator, vendor gateway, simulated vendor, worker)',
  );
  // A multilingual spec's tasks go to raters native in their locale (none for a single-locale spec, as before).
  const stack = await startStack(config, { log: (line) => console.log(`  ${line}`), vendorLocales: locales });
  const stopSignal = waitForShutdownSignal();
  try {
    for (const catalog of catalogs) {
      step(`importing the catalog ${catalog}`);
      cli(['catalog', 'import', catalog], stack.env);
    }
    const database = await connectDatabase(stack.env.DATABASE_URL, { max: 4 });
    try {
      const spec = demoSpec(
        config,
        raw,
        specFile,
        catalogs.map((c) => c.replace(/\.jsonl$/, '.truth.jsonl')),
      );
      step(`starting program ${spec.id}`);
      await startProgram(stack, database, spec);
      const status = await Promise.race([steerUntilDone(stack.client, database, spec), stopSignal.then(() => null)]);
      if (!status) return;
      await waitForFixLoops(database, spec.id);
      console.log(`\n${formatStatus(status)}`);
      const summary = await collectSummary(database, spec, status, stack, started);
      if (locales) summary.locales = await localeSummaries(database.db, spec.id, locales, status);
      printSummary(summary);
      if (opts.summaryJson) fs.writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
      if (summary.status === 'failed')
        throw new Error(`the program failed: ${await programFailure(stack.client, spec.id)}`);
      if (summary.status !== 'completed') throw new Error(`the program ended ${summary.status}, not completed`);
      step('validating judge scores against simulated member behaviour, and writing the report');
      cli(
        ['validate', 'behavior', '--program', spec.id, '--metrics', behaviorFile(config, spec.id, catalogs)],
        stack.env,
      );
      const report = path.join(config.dataDir, `report-${spec.id}.html`);
      cli(['report', spec.id, '--out', report], stack.env);
      console.log(`  report: ${report}`);
    } finally {
      await database.close();
    }
    if (opts.keep) {
      console.log(`\nThe stack stays up (--keep). Temporal Web UI: ${stack.uiUrl}   Ctrl-C to stop.`);
      await stopSignal;
    }
  } finally {
    await stack.stop();
  }
}

function step(message: string) {
  console.log(`\n▶ ${message}`);
}

/** Runs a judgeflow subcommand as a separate process (exactly what a user would type). */
function cli(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(`judgeflow ${args.join(' ')} failed with exit code ${run.status}`);
}

/** The demo's spec, pointed at this stack's simulated vendor and given a unique id per run. */
function demoSpec(config: Config, parsed: object, file: string, truthFiles: string[]): ProgramSpec {
  const raw = structuredClone(parsed) as {
    id: string;
    vendors: { endpoint: string }[];
    criteria: { id: string }[];
    goldExamples?: unknown;
  };
  raw.id = `${raw.id}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '').toLowerCase()}`;
  raw.vendors[0].endpoint = `http://127.0.0.1:${config.vendorSim.port}/v1/tasks`;
  const criteria = raw.criteria.map((c) => c.id);
  // The gold questions come from every locale's world, in equal shares.
  const perWorld = Math.ceil(GOLD_EXAMPLES / truthFiles.length);
  raw.goldExamples = truthFiles.flatMap((truth) => goldExamples(truth, perWorld, criteria));
  const result = validateProgramSpec(raw);
  if (!result.ok) throw new Error(`${file} is invalid: ${JSON.stringify(result.problems)}`);
  return result.spec;
}

/** The member metrics of every world the program drew from, in one file. */
function behaviorFile(config: Config, programId: string, catalogs: string[]) {
  const files = catalogs.map((c) => c.replace(/\.jsonl$/, '.behavior.jsonl'));
  if (files.length === 1) return files[0];
  const merged = path.join(config.dataDir, `behavior-${programId}.jsonl`);
  fs.writeFileSync(merged, files.map((f) => fs.readFileSync(f, 'utf8').trimEnd()).join('\n') + '\n');
  return merged;
}

/**
 * The spec names the simulated vendor's secret VENDOR_SIM_SECRET, new each run; a data dir from an
 * earlier demo may hold the vendor with another (an older database's, sealed): it is replaced at once.
 */
async function simVendorSecretByName(database: Database, config: Config) {
  const [vendor] = (await describeVendors(database.db)).filter((v) => v.id === config.vendorSim.id);
  if (vendor && vendor.secrets[0]?.source !== 'env VENDOR_SIM_SECRET')
    await rotateVendorSecret(database.db, vendor.id, { env: 'VENDOR_SIM_SECRET' }, 0, config, { actor: 'demo' });
}

const GOLD_EXAMPLES = 20;

/**
 * The PM's gold questions: synopses whose answers are known (here, from the simulated world's
 * answer key, the way a PM would write them from expert review), mixed into rating batches.
 */
function goldExamples(truthFile: string, count: number, criteria: string[]) {
  const lines = fs.readFileSync(truthFile, 'utf8').split('\n').filter(Boolean);
  // From the end of the catalog: the first shows feed the demo's rounds and production sample.
  return lines.slice(-count).map((line) => {
    const truth = JSON.parse(line) as {
      synopsisId: string;
      criteria: Record<string, number>;
      defects: { detail: string }[];
    };
    const labels = Object.fromEntries(criteria.map((c) => [c, truth.criteria[c]]));
    return {
      itemId: truth.synopsisId,
      labels,
      explanation: truth.defects.map((d) => d.detail).join('; ') || 'no defect',
    };
  });
}

async function startProgram(stack: Stack, database: Database, spec: ProgramSpec) {
  const { config } = stack;
  await simVendorSecretByName(database, config);
  const {
    estimate,
    vendors: vendorPlan,
    selection,
  } = await checkProgramPrerequisites(database.db, spec, process.env, {
    rpmLimit: config.llm.rpmLimit,
    model: config.llm.model,
  });
  console.log(
    `  estimate: ${estimate.humanTasks.total} human tasks, ${estimate.llmCalls.total} LLM calls, $${estimate.costUsd.total}, ${estimate.days.expected} days at production SLAs`,
  );
  await registerProgram(database.db, spec, estimate, vendorPlan, selection);
  await stack.client.workflow.start(programWorkflow, {
    workflowId: programWorkflowId(spec.id),
    taskQueue: config.temporal.taskQueue,
    args: [{ programId: spec.id }],
    staticSummary: `${spec.name}`,
    typedSearchAttributes: [
      { key: ProgramKey, value: spec.id },
      { key: PhaseKey, value: 'scoping' },
      { key: StatusKey, value: 'running' },
    ],
  });
  console.log(
    `  ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(programWorkflowId(spec.id))}`,
  );
}

/** Status queries in a row the worker may leave unanswered (30 s each) before the demo fails. */
const MAX_UNANSWERED_QUERIES = 6;

/**
 * The scripted PM: at a calibration gate below target, publishes a revision citing the round's most
 * split items and contested error codes (the simulated raters agree more under newer guidelines);
 * approves every gate that waits for a human.
 */
async function steerUntilDone(client: Client, database: Database, spec: ProgramSpec): Promise<ProgramStatus> {
  const handle = client.workflow.getHandle(programWorkflowId(spec.id));
  let lastLine = '';
  const handledGates = new Set<string>();
  let unanswered = 0;
  for (;;) {
    // Steering needs phase, gate and rounds only: the scan for retrying activities (a describe per open
    // workflow) every 500 ms would load the Temporal server more than the program itself does, and
    // the vendor scorecard (a grouped query over every task) is not shown here.
    const s = await programStatus(client, spec.id, database.db, { retrying: false, scorecard: false }).catch(
      (err: Error) => {
        if (/starting/.test(err.message)) return null;
        // A worker busy with a backlog (the data dir's earlier programs resuming) answers a query late:
        // Temporal gives up after 30 s. Ask again for a few minutes before calling the demo failed.
        if (err instanceof UnknownProgramError || ++unanswered > MAX_UNANSWERED_QUERIES) throw err;
        console.log(`  (status query not answered: ${err.message}; asking again)`);
        return null;
      },
    );
    if (!s) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    unanswered = 0;
    const line = `  [${s.phase}${s.phase === 'calibration' ? ` r${s.round}` : ''}] ${s.status}${s.gate ? ` at gate ${s.gate.name}` : ''} · tasks ${s.tasks.completed} · labels ${s.tasks.labels} · $${s.spendUsd.toFixed(2)}${s.production ? ` · judged ${s.production.judged}/${s.production.total}` : ''}`;
    if (line !== lastLine) console.log(line);
    lastLine = line;
    if (s.status === 'completed' || s.status === 'cancelled' || s.status === 'failed') return s;
    if (s.gate && !handledGates.has(s.gate.name)) {
      handledGates.add(s.gate.name);
      const latest = s.rounds.at(-1);
      if (s.gate.name.startsWith('calibration/') && latest && !latest.allMeetTarget) {
        const below = Object.entries(latest.agreement)
          .filter(([, a]) => !a.meetsTarget)
          .map(([c]) => c);
        const version = s.guidelineVersion + 1;
        // the revision is written from what the gate shows: the round's disagreement digest
        const revision = revisionFromDisagreements(
          version,
          latest.round,
          below,
          s.gate.evidence.disagreements as DisagreementDigest | undefined,
        );
        await handle.executeUpdate(publishGuidelinesUpdate, {
          args: [{ requestId: randomUUID(), actor: 'demo-pm', version, ...revision }],
        });
        console.log(`  PM published guidelines v${version}: ${revision.note}`);
      }
      if (s.status === 'waiting_gate') {
        await handle.executeUpdate(approveGateUpdate, {
          args: [{ requestId: randomUUID(), actor: 'demo-pm', gate: s.gate.name, note: 'demo: approved' }],
        });
        console.log(`  PM approved gate ${s.gate.name}`);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Fix loops outlive the production run (writers take their time); the demo waits for them a while, then reports what is still open. */
async function waitForFixLoops(database: Database, programId: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const [{ open }] = (await database.db.execute(
      sql`select count(*)::int as open from fix_cycles where program_id = ${programId} and status = 'open'`,
    )) as unknown as { open: number }[];
    if (open !== last) console.log(`  fix loops still open: ${open}`);
    last = open;
    if (open === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** What the demo did, as data: printed for people, written as JSON with `--summary-json` for scripts and the demo test. */
export interface DemoSummary {
  programId: string;
  status: string;
  roundsToTarget: number | null;
  calibrationRounds: number;
  goldenSet: ProgramStatus['goldenSet'];
  judgeTestAccuracy: Record<string, number | null>;
  passRates: PassRate[];
  production: { judged: number; total: number } | null;
  fixCycles: Record<string, number>;
  costUsd: Record<string, number>;
  spendUsd: number;
  budgetUsd: number;
  workflows: number;
  largestHistory: { workflowId: string; events: number } | null;
  wallSeconds: number;
  uiUrl: string;
  /** A multilingual spec: what each locale reached, by locale code. */
  locales?: Record<string, LocaleSummary>;
}

async function collectSummary(
  database: Database,
  spec: ProgramSpec,
  status: ProgramStatus,
  stack: Stack,
  started: number,
): Promise<DemoSummary> {
  const q = async <T>(query: ReturnType<typeof sql>) => (await database.db.execute(query)) as unknown as T[];
  const calibration = status.rounds.filter((r) => r.phase === 'calibration');
  const passRates = await q<{ criterion: string; pass_rate: number | null; n: number; errors: number }>(sql`
    select criterion, avg(verdict)::float as pass_rate, count(*)::int as n, count(*) filter (where verdict is null)::int as errors from item_verdicts
    where program_id = ${spec.id} group by criterion order by criterion`);
  const fixes = await q<{ status: string; n: number }>(
    sql`select status, count(*)::int as n from fix_cycles where program_id = ${spec.id} group by status order by status`,
  );
  const cost = await q<{ kind: string; usd: number }>(
    sql`select kind, sum(cost_usd)::float as usd from usage_ledger where program_id = ${spec.id} group by kind order by kind`,
  );
  const histories = (await historySizes(stack.client, spec.id)).sort((a, b) => b.events - a.events);
  return {
    programId: spec.id,
    status: status.status,
    roundsToTarget: calibration.find((r) => r.allMeetTarget)?.round ?? null,
    calibrationRounds: calibration.length,
    goldenSet: status.goldenSet,
    // A multilingual program's judges are per locale: in `locales`.
    judgeTestAccuracy: Object.fromEntries(
      status.judges.filter((j) => !j.locale).map((j) => [j.criterion, j.testAccuracy]),
    ),
    passRates: passRates.map((r) => ({ criterion: r.criterion, passRate: r.pass_rate, items: r.n, errors: r.errors })),
    production: status.production ? { judged: status.production.judged, total: status.production.total } : null,
    fixCycles: Object.fromEntries(fixes.map((f) => [f.status, f.n])),
    costUsd: Object.fromEntries(cost.map((c) => [c.kind, c.usd])),
    // From the ledger now: fix loops went on spending after the program's last status.
    spendUsd: (await programSpend(database.db, spec.id)).totalUsd,
    budgetUsd: status.budgetUsd,
    workflows: histories.length,
    largestHistory: histories[0] ?? null,
    wallSeconds: Math.round((Date.now() - started) / 1000),
    uiUrl: `${stack.config.temporal.uiUrl}/namespaces/${stack.config.temporal.namespace}/workflows`,
  };
}

function printSummary(s: DemoSummary) {
  const money = (usd: number) => `$${usd.toFixed(2)}`;
  console.log(`
══ judgeflow demo summary (simulated world) ══
rounds to target      ${s.roundsToTarget ? `${s.roundsToTarget} calibration round(s)` : `not reached in ${s.calibrationRounds} rounds`}
golden set            ${s.goldenSet ? `${s.goldenSet.items} items (dev ${s.goldenSet.dev}, test ${s.goldenSet.test}, reviewed ${s.goldenSet.reviewed})` : '—'}
judge accuracy (test) ${
    Object.entries(s.judgeTestAccuracy)
      .map(([c, a]) => `${c} ${pct(a)}`)
      .join(' · ') || '—'
  }
pass rates            ${s.passRates.map((r) => `${r.criterion} ${r.passRate === null ? 'n/a' : pct(r.passRate)} of ${r.items}${r.errors ? ` (${r.errors} errors)` : ''}`).join(' · ') || '—'}
fix loop              ${
    Object.entries(s.fixCycles)
      .map(([status, n]) => `${status} ${n}`)
      .join(' · ') || 'no fix cycles'
  }
cost                  ${
    Object.entries(s.costUsd)
      .map(([kind, usd]) => `${kind} ${money(usd)}`)
      .join(' · ') || '$0'
  } (total ${money(s.spendUsd)} of $${s.budgetUsd})
workflows             ${s.workflows}, largest history ${s.largestHistory ? `${s.largestHistory.events} events (${s.largestHistory.workflowId})` : '—'}
${s.locales ? `${formatLocaleSummaries(s.locales)}\n` : ''}wall time             ${s.wallSeconds} s
Temporal UI           ${s.uiUrl}/${encodeURIComponent(programWorkflowId(s.programId))}
                      ${s.uiUrl}?query=${encodeURIComponent(`JudgeflowProgram="${s.programId}"`)}`);
}

/** Every workflow of the program (ids start with program/<id>) and its history length. */
export async function historySizes(
  client: Client,
  programId: string,
): Promise<{ workflowId: string; events: number }[]> {
  const out: { workflowId: string; events: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${programWorkflowId(programId)}"` })) {
    out.push({ workflowId: wf.workflowId, events: wf.historyLength });
  }
  return out;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
