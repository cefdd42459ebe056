/**
 * The report of a program, assembled from Postgres by read-only queries (reporting/queries/, one
 * module per part of the report). Renderers (reporting/render.ts) turn this model into HTML or
 * Markdown; nothing here formats or writes.
 */
import { vendorReport } from '../human-tasks/accounting';
import { readAuditTrail } from '../governance/audit-trail';
import type { Db } from '../platform/db';
import type { ProgramReport } from './model';
import { agreementSection, goldenSection, raterQuality } from './queries/agreement';
import { disagreementSection } from './queries/disagreements';
import { programBehaviorValidation } from './queries/behavior';
import { judgeSection } from './queries/judges';
import { localeGuidelinesSection, localeSection } from './queries/locales';
import { fixLoopSection, productionSection } from './queries/production';
import { costSection, decisionsSection, guidelinesSection, programRow, readTargets, timeline } from './queries/program';
import { iso } from './queries/values';

export async function buildProgramReport(db: Db, programId: string, now = new Date()): Promise<ProgramReport> {
  const program = await programRow(db, programId);
  const targets = readTargets(program.spec);
  const locales = await localeSection(db, programId, program.spec);
  const localeGuidelines = await localeGuidelinesSection(db, programId, program.spec);
  return {
    generatedAt: now.toISOString(),
    program: {
      id: program.id,
      name: program.name,
      status: program.status,
      phase: program.phase,
      budgetUsd: program.budgetUsd,
      createdAt: iso(program.createdAt) as string,
      ...targets,
    },
    timeline: await timeline(db, programId),
    agreement: await agreementSection(db, programId, targets.agreementMetric),
    disagreements: await disagreementSection(db, programId, targets.criteria),
    raters: await raterQuality(db, programId),
    golden: await goldenSection(db, programId),
    judges: await judgeSection(db, programId),
    production: await productionSection(db, programId),
    ...(locales && { locales }),
    fixLoop: await fixLoopSection(db, programId),
    cost: await costSection(db, programId, program.budgetUsd),
    vendors: await vendorReport(db, programId),
    decisions: await decisionsSection(db, programId),
    guidelines: await guidelinesSection(db, programId),
    ...(localeGuidelines && { localeGuidelines }),
    audit: await readAuditTrail(db, programId),
    behavior: await programBehaviorValidation(db, programId),
  };
}
