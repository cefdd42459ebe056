/**
 * `program status` / `watch`: the program workflow's status query, completed on the client side with
 * what the workflow cannot know cheaply — a running production's live figures, spend from the
 * ledger now, verdicts per criterion with errors as errors, fix cycles by outcome — and with what
 * is failing right now: the activities of the program's open workflows that Temporal is retrying,
 * with their last error and attempt (from describe), so a vendor or provider outage shows where the
 * program manager looks instead of only in a child workflow's pending activity in the Web UI.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { sql } from 'drizzle-orm';
import { programSpend, vendorReport, type VendorScore } from '../../human-tasks/accounting';
import type { Db } from '../../platform/db';
import { formatVerdictCounts, runVerdictCounts } from '../../production/verdicts';
import { productionRunKey, productionWorkflowId, programWorkflowId } from '../../workflows/ids';
import {
  programStatusQuery,
  type CriterionAgreement,
  type GoldenSetSummary,
  type LocaleProduction,
  type ProgramStatus,
  type RetryingActivity,
} from '../../workflows/messages';
import { productionStatusQuery } from '../../workflows/production-messages';
import { formatScorecard } from './scorecard';

/** No such program (exit code 2, as a CliError; defined here so the module loads without the CLI's stack, e.g. in tests). */
export class UnknownProgramError extends Error {
  readonly exitCode = 2;
}

/** Open workflows described per status at most: a program with thousands of open fix loops stays a quick call. */
const MAX_DESCRIBED = 100;
const DESCRIBE_CONCURRENCY = 8;

export interface ProgramStatusOptions {
  /** Look into the program's open workflows for retrying activities (a describe per workflow). Default true. */
  retrying?: boolean;
  /** Read the vendor scorecard (a grouped query over the program's tasks). Default true. */
  scorecard?: boolean;
}

/** The status query's answer with what the CLI adds from the database: the vendor scorecard. */
export type ProgramStatusView = ProgramStatus & { vendors?: VendorScore[] };

/** Raters shown per vendor in status (the lowest SLA hit rates); `vendor report` lists them all. */
const STATUS_RATERS = 5;

/**
 * The program's status query, completed on the client side: a running production's live figures
 * and, given the database, spend from the ledger now (the workflow's figure is from its last budget
 * checkpoint, and fix loops go on spending after the program completes), the production run's
 * verdicts per criterion, the fix cycles by outcome and the vendor scorecard; and the activities
 * being retried.
 */
export async function programStatus(
  client: Client,
  programId: string,
  db?: Db,
  opts: ProgramStatusOptions = {},
): Promise<ProgramStatusView> {
  // The query, the database's figures and the look for retries do not wait for each other: while
  // the worker answers the query, the database and Temporal's visibility answer the rest.
  const [queried, recorded, retried] = await Promise.allSettled([
    client.workflow
      .getHandle(programWorkflowId(programId))
      .query(programStatusQuery)
      .then((status) => withLiveProduction(client, status)),
    db ? recordedFigures(db, programId, opts) : undefined,
    opts.retrying === false ? undefined : retryingActivities(client, programId),
  ]);
  if (queried.status === 'rejected' && queried.reason instanceof WorkflowNotFoundError)
    throw new UnknownProgramError(`no program "${programId}" (see \`judgeflow program list\`)`);
  let out: ProgramStatusView = { ...settled(queried), ...settled(recorded) };
  if (db && out.production)
    out = {
      ...out,
      production: {
        ...out.production,
        verdicts: await runVerdictCounts(db, productionRunKey(programId, out.production.runId)),
        ...(out.production.locales ? { locales: await localeVerdicts(db, programId, out.production.locales) } : {}),
      },
    };
  return { ...out, ...settled(retried) };
}

/** A settled promise's value, or its error thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** What the database records now: spend from the ledger, fix cycles by outcome, the vendor scorecard. */
export async function recordedFigures(db: Db, programId: string, opts: ProgramStatusOptions) {
  return {
    spendUsd: (await programSpend(db, programId)).totalUsd,
    fixLoop: await fixLoopCounts(db, programId),
    ...(opts.scorecard === false ? {} : { vendors: await vendorReport(db, programId) }),
  };
}

/**
 * A running production phase reports its progress to the program only when it ends (a signal per
 * shard would grow the program's history with the catalog); the live figures come from the run's
 * own query.
 */
async function withLiveProduction(client: Client, status: ProgramStatus): Promise<ProgramStatus> {
  if (status.phase !== 'production' || !status.production || status.status === 'completed') return status;
  if (status.production.locales) return withLiveLocales(client, status, status.production.locales);
  const live = await liveRun(client, status.programId, status.production.runId);
  return live
    ? {
        ...status,
        production: {
          ...status.production,
          judged: live.judged,
          total: live.total,
          failing: live.failing,
          errors: live.errors,
        },
      }
    : status;
}

/** A run's own progress; null when not started yet, or just finished (the program's own figures stand). */
export const liveRun = (client: Client, programId: string, runId: string) =>
  client.workflow
    .getHandle(productionWorkflowId(programId, runId))
    .query(productionStatusQuery)
    .catch(() => null);

/** A multilingual program's production: each locale's run queried live, the program's figures their sum. */
async function withLiveLocales(
  client: Client,
  status: ProgramStatus,
  runs: Record<string, LocaleProduction>,
): Promise<ProgramStatus> {
  const locales = Object.fromEntries(
    await Promise.all(
      Object.entries(runs).map(async ([locale, run]) => {
        const live = run.runId && !run.skipped ? await liveRun(client, status.programId, run.runId) : null;
        const { judged, total, failing, errors } = live ?? run;
        return [locale, { ...run, judged, total, failing, errors }] as const;
      }),
    ),
  );
  const judgedRuns = Object.values(locales).filter((l) => !l.skipped);
  const sum = (k: 'judged' | 'total' | 'failing' | 'errors') => judgedRuns.reduce((n, l) => n + (l[k] ?? 0), 0);
  return {
    ...status,
    production: {
      ...status.production!,
      judged: sum('judged'),
      total: sum('total'),
      failing: sum('failing'),
      errors: sum('errors'),
      locales,
    },
  };
}

/** Each judged locale's verdicts per criterion, from its own run. */
async function localeVerdicts(db: Db, programId: string, runs: Record<string, LocaleProduction>) {
  return Object.fromEntries(
    await Promise.all(
      Object.entries(runs).map(async ([locale, run]) => [
        locale,
        run.runId ? { ...run, verdicts: await runVerdictCounts(db, productionRunKey(programId, run.runId)) } : run,
      ]),
    ),
  ) as Record<string, LocaleProduction>;
}

async function fixLoopCounts(db: Db, programId: string): Promise<NonNullable<ProgramStatus['fixLoop']>> {
  const rows = await db.execute<{ status: string; n: number }>(
    sql`select status, count(*)::int as n from fix_cycles where program_id = ${programId} group by status`,
  );
  const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  return {
    open: n('open'),
    passed: n('passed'),
    escalated: n('escalated'),
    needsReview: n('needs_review'),
    cancelled: n('cancelled'),
  };
}

/**
 * The program's open workflows: from visibility (`program/<id>` and every id under `program/<id>/`,
 * running), so prelaunch runs, `judge run` runs and abandoned fix loops are included; on a server
 * whose visibility cannot answer that query (the time-skipping test server), the tree of pending
 * children from the program workflow. Shallow ids first; at most MAX_DESCRIBED are described.
 */
async function openWorkflows(
  client: Client,
  programId: string,
): Promise<{ described: Map<string, WorkflowExecutionDescription>; open: number }> {
  const root = programWorkflowId(programId);
  const described = new Map<string, WorkflowExecutionDescription>();
  const describeAll = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += DESCRIBE_CONCURRENCY)
      await Promise.all(
        ids.slice(i, i + DESCRIBE_CONCURRENCY).map(async (id) => {
          const d = await client.workflow
            .getHandle(id)
            .describe()
            .catch(() => null); // closed meanwhile
          if (d && d.status.name === 'RUNNING') described.set(id, d);
        }),
      );
  };
  let listed: string[] | null = [];
  try {
    for await (const wf of client.workflow.list({
      query: `(WorkflowId = "${root}" OR WorkflowId STARTS_WITH "${root}/") AND ExecutionStatus = "Running"`,
      pageSize: 1000,
    })) {
      listed.push(wf.workflowId);
      if (listed.length >= 10_000) break;
    }
  } catch {
    listed = null;
  }
  if (listed) {
    const depth = (id: string) => id.split('/').length;
    const ids = [...new Set(listed)].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
    await describeAll(ids.slice(0, MAX_DESCRIBED));
    return { described, open: ids.length };
  }
  // Breadth first from the program workflow through its pending children.
  let level = [root];
  const seen = new Set(level);
  while (level.length && described.size < MAX_DESCRIBED) {
    await describeAll(level.slice(0, MAX_DESCRIBED - described.size));
    const next: string[] = [];
    for (const id of level)
      for (const child of described.get(id)?.raw.pendingChildren ?? [])
        if (child.workflowId && !seen.has(child.workflowId)) {
          seen.add(child.workflowId);
          next.push(child.workflowId);
        }
    level = next;
  }
  return { described, open: seen.size };
}

/** Activities of the program's open workflows that failed at least once and are being retried, with their last error. */
export async function retryingActivities(
  client: Client,
  programId: string,
): Promise<{ retrying: RetryingActivity[]; inspected: { workflows: number; skipped: number } }> {
  const root = programWorkflowId(programId);
  const { described, open } = await openWorkflows(client, programId);
  const retrying: RetryingActivity[] = [];
  for (const [workflowId, d] of described)
    for (const a of d.raw.pendingActivities ?? []) {
      const attempt = a.attempt ?? 1;
      if (attempt <= 1 && !a.lastFailure) continue;
      retrying.push({
        workflowId,
        where: workflowId === root ? 'program' : workflowId.slice(root.length + 1),
        activityType: a.activityType?.name ?? 'activity',
        attempt,
        maximumAttempts: a.maximumAttempts ? a.maximumAttempts : null,
        lastError: failureMessage(a.lastFailure),
        nextAttemptAt: optionalTsToDate(a.nextAttemptScheduleTime)?.toISOString() ?? null,
      });
    }
  retrying.sort((x, y) => x.workflowId.localeCompare(y.workflowId) || x.activityType.localeCompare(y.activityType));
  return { retrying, inspected: { workflows: described.size, skipped: Math.max(0, open - described.size) } };
}

/** A failure's message, with its causes' where they add something (an activity's own error is usually the first). */
function failureMessage(f: { message?: string | null; cause?: unknown } | null | undefined): string {
  const parts: string[] = [];
  for (let e = f, depth = 0; e && depth < 4; e = e.cause as typeof f, depth++)
    if (e.message && !parts.some((p) => p.includes(e!.message!))) parts.push(e.message);
  return parts.join(': ') || 'no error recorded yet';
}

export const formatRetrying = (r: RetryingActivity) =>
  `${r.where}: ${r.activityType} retrying (attempt ${r.attempt}${r.maximumAttempts ? ` of ${r.maximumAttempts}` : ''}): ${r.lastError}`;

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

export function formatStatus(s: ProgramStatusView): string {
  const lines = [
    `program   ${s.programId}   ${s.status.toUpperCase()}   phase ${s.phase}${s.phase === 'calibration' ? ` (round ${s.round})` : ''}   guidelines v${s.guidelineVersion}`,
    `spend     $${s.spendUsd.toFixed(2)} of $${s.budgetUsd.toFixed(2)}   ETA ${s.eta ?? '—'}   decisions ${s.decisions}`,
    `tasks     ${s.tasks.completed} completed, ${s.tasks.reassigned} reassigned, ${s.tasks.expired} expired, ${s.tasks.labels} labels`,
  ];
  if (s.gate) lines.push(`GATE      ${s.gate.name}: ${s.gate.reason}   → judgeflow program approve ${s.programId}`);
  if (s.pausedReason) lines.push(`PAUSED    ${s.pausedReason}`);
  for (const r of s.retrying ?? []) lines.push(`RETRYING  ${formatRetrying(r)}`);
  if (s.inspected?.skipped)
    lines.push(`          (${s.inspected.skipped} more open workflows not inspected for retries)`);
  if (s.rounds.length) {
    const criteria = Object.keys(s.rounds[0].agreement);
    lines.push(
      '',
      `round        guidelines  ${criteria.map((c) => c.padEnd(22)).join('')}  target ${pct(s.targets.agreement)} (${s.targets.agreementMetric})`,
    );
    const cell = (a: Pick<CriterionAgreement, 'value' | 'ci95' | 'meetsTarget'> | undefined) => {
      const ci = a?.ci95 ? ` [${pct(a.ci95[0])},${pct(a.ci95[1])}]` : '';
      return `${pct(a?.value)}${ci}${a?.meetsTarget ? ' ✓' : ''}`.padEnd(22);
    };
    for (const r of s.rounds) {
      lines.push(
        `${(r.phase === 'pilot' ? 'pilot' : `calibration ${r.round}`).padEnd(13)}v${String(r.guidelineVersion).padEnd(11)}${criteria.map((c) => cell(r.agreement[c])).join('')}`,
      );
      // A multilingual round: each locale's agreement under it (the round meets the target only when every locale does).
      const locales = Object.keys(Object.values(r.agreement)[0]?.byLocale ?? {});
      for (const locale of locales)
        lines.push(`  ${locale.padEnd(23)}${criteria.map((c) => cell(r.agreement[c]?.byLocale?.[locale])).join('')}`);
    }
  }
  if (s.goldenSet)
    lines.push(
      '',
      `golden    ${s.goldenSet.items} items (dev ${s.goldenSet.dev}, test ${s.goldenSet.test}), ${s.goldenSet.reviewed} reviewed${goldenMethod(s.goldenSet)}`,
      ...Object.entries(s.goldenSet.byLocale ?? {}).map(
        ([locale, g]) => `  ${locale.padEnd(7)} ${g.items} items (dev ${g.dev}, test ${g.test})`,
      ),
    );
  if (s.judges.length) {
    lines.push('', `judge          dev      test     TPR      TNR      target ${pct(s.targets.judgeAccuracy)}`);
    for (const j of s.judges)
      lines.push(
        `${(j.locale ? `${j.criterion} ${j.locale}` : j.criterion).padEnd(15)}${pct(j.devAccuracy).padEnd(9)}${pct(j.testAccuracy).padEnd(9)}${pct(j.tpr).padEnd(9)}${pct(j.tnr).padEnd(9)}${j.meetsTarget ? '✓' : '✗'}`,
      );
  }
  if (s.production) {
    const p = s.production;
    lines.push(
      '',
      `production ${p.runId}: ${p.judged}/${p.total} judged, ${p.failing} failing${p.errors !== undefined ? `, ${p.errors} with errors` : ''}`,
    );
    if (p.verdicts && Object.keys(p.verdicts).length) lines.push(`  verdicts ${formatVerdictCounts(p.verdicts)}`);
    for (const [locale, l] of Object.entries(p.locales ?? {}))
      lines.push(
        l.skipped
          ? `  ${locale.padEnd(7)} SKIPPED: ${l.total} item(s) not judged — ${l.skipped}`
          : `  ${locale.padEnd(7)} ${l.judged}/${l.total} judged, ${l.failing} failing${l.errors ? `, ${l.errors} with errors` : ''}${l.verdicts && Object.keys(l.verdicts).length ? `   verdicts ${formatVerdictCounts(l.verdicts)}` : ''}`,
      );
  }
  const f = s.fixLoop;
  if (f && f.open + f.passed + f.escalated + f.needsReview + f.cancelled > 0)
    lines.push(
      `fix loop  ${f.open} open, ${f.passed} passed, ${f.escalated} escalated, ${f.needsReview} need review (re-judge errored)${f.cancelled ? `, ${f.cancelled} cancelled` : ''}`,
    );
  if (s.vendors?.length) lines.push('', ...formatScorecard(s.vendors, { maxRaters: STATUS_RATERS }));
  return lines.join('\n');
}

/** How the golden labels were made, where recorded: ", dawid-skene, mean confidence 93.1%, 2.4 ratings per label". */
const goldenMethod = (g: GoldenSetSummary) =>
  g.method
    ? `, ${g.method}${g.meanConfidence != null ? `, mean confidence ${pct(g.meanConfidence)}` : ''}${g.ratingsPerLabel != null ? `, ${g.ratingsPerLabel.toFixed(1)} ratings per label` : ''}`
    : '';
