/**
 * The program-wide parts of the report: the program's row and targets, its phases over time, spend
 * against budget, and the decision log with the guideline revisions.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { decisionLog, guidelineVersions, programs, usageLedger } from '../../schema/tables';
import type { PhaseSpan, ProgramReport } from '../model';
import { iso, num } from './values';

/** A program id with no program: the CLI exits 2 on it. */
export class UnknownProgramError extends Error {
  readonly exitCode = 2;
}

export async function programRow(db: Db, programId: string) {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program)
    throw new UnknownProgramError(`no program "${programId}": list programs with \`judgeflow program list\``);
  return program;
}

/** The criteria and targets from the program's spec, with defaults for those it leaves out. */
export function readTargets(spec: Record<string, unknown>) {
  const targets = (spec.targets ?? {}) as Record<string, unknown>;
  const criteria = Array.isArray(spec.criteria)
    ? spec.criteria.map((c) => String((c as Record<string, unknown>).id))
    : [];
  return {
    criteria,
    agreementTarget: num(targets.agreement) ?? 0.8,
    agreementMetric: typeof targets.agreementMetric === 'string' ? targets.agreementMetric : 'percent_agreement',
    judgeAccuracyTarget: num(targets.judgeAccuracy) ?? 0.85,
  };
}

export async function timeline(db: Db, programId: string): Promise<PhaseSpan[]> {
  const spans = await db.execute<{ phase: string; start: Date; end: Date | null }>(sql`
    select phase, min(s) as start, max(e) as end from (
      select phase, created_at as s, closed_at as e from task_batches where program_id = ${programId}
      union all select 'judge-development', created_at, null from judge_prompts where program_id = ${programId}
      union all select 'judge-development', created_at, created_at from judge_evaluations where program_id = ${programId}
      union all select 'production', started_at, finished_at from production_runs where program_id = ${programId}
      union all select 'fix-loop', created_at, closed_at from fix_cycles where program_id = ${programId}
    ) spans group by phase order by min(s)`);
  return spans.map((r) => ({ phase: r.phase, start: iso(r.start) as string, end: iso(r.end) }));
}

export async function costSection(db: Db, programId: string, budgetUsd: number): Promise<ProgramReport['cost']> {
  const by = async (key: ReturnType<typeof sql<string>>) =>
    db
      .select({ key, costUsd: sql<number>`sum(${usageLedger.costUsd})::float8` })
      .from(usageLedger)
      .where(eq(usageLedger.programId, programId))
      .groupBy(sql`1`)
      .orderBy(sql`2 desc`, sql`1`);
  const byPhase = await by(sql<string>`${usageLedger.phase}`);
  const byVendor = await by(sql<string>`coalesce(${usageLedger.vendorId}, 'LLM provider')`);
  const byModel = await by(sql<string>`coalesce(${usageLedger.model}, 'human tasks')`);
  return { totalUsd: byPhase.reduce((s, r) => s + r.costUsd, 0), budgetUsd, byPhase, byVendor, byModel };
}

export async function decisionsSection(db: Db, programId: string): Promise<ProgramReport['decisions']> {
  const decisions = await db
    .select()
    .from(decisionLog)
    .where(eq(decisionLog.programId, programId))
    .orderBy(asc(decisionLog.createdAt), asc(decisionLog.id));
  return decisions.map((d) => ({
    at: iso(d.createdAt) as string,
    kind: d.kind,
    phase: d.phase,
    actor: d.actor,
    note: d.note,
    guidelineVersion: num(d.data.version) ?? num(d.data.guidelineVersion),
  }));
}

export async function guidelinesSection(db: Db, programId: string): Promise<ProgramReport['guidelines']> {
  const guidelines = await db
    .select()
    .from(guidelineVersions)
    .where(eq(guidelineVersions.programId, programId))
    .orderBy(asc(guidelineVersions.version));
  return guidelines.map((g) => ({
    version: g.version,
    locale: g.locale,
    author: g.author,
    note: g.note,
    at: iso(g.createdAt) as string,
  }));
}
