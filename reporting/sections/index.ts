/**
 * The report's content, once, as sections of text, tables and charts (one module per part of the
 * report); render.ts turns the same sections into HTML or Markdown so the two formats never disagree.
 */
import type { ProgramReport } from '../model';
import { agreement, golden, raters } from './agreement';
import { auditTrail } from './audit';
import { behavior } from './behavior';
import { disagreements } from './disagreements';
import type { Section } from './blocks';
import { confusion, judges } from './judges';
import { fixLoop, production } from './production';
import { cost, decisions, timeline } from './program';
import { vendors } from './vendors';

export const SECTION_IDS = [
  'timeline',
  'agreement',
  'disagreements',
  'raters',
  'golden-set',
  'judges',
  'confusion',
  'production',
  'fix-loop',
  'cost',
  'vendors',
  'decisions',
  'audit',
  'behavior',
] as const;

export function reportSections(r: ProgramReport): Section[] {
  return [
    timeline(r),
    agreement(r),
    disagreements(r),
    raters(r),
    golden(r),
    judges(r),
    confusion(r),
    production(r),
    fixLoop(r),
    cost(r),
    vendors(r),
    decisions(r),
    auditTrail(r),
    behavior(r),
  ];
}
