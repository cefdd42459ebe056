/**
 * How a criterion's ratings are compared: binary criteria at the nominal level; Likert criteria at
 * their level (ordinal by default) over every scale point, so Gwet's AC2 counts the points nobody
 * used. The program's rounds and `judgeflow agreement --spec` both read it.
 */
import { criterionAgreementLevel, criterionLabelRange, type CriterionSpec } from '../schema/program-spec';
import type { AgreementOptions, Level } from '../stats/index';

type AgreementCriterion = Pick<CriterionSpec, 'scale' | 'points' | 'agreementLevel'>;

export function criterionAgreementOptions(criterion: AgreementCriterion): { level: Level } & AgreementOptions {
  const level = criterionAgreementLevel(criterion);
  if (criterion.scale === 'binary') return { level };
  const { min, max } = criterionLabelRange(criterion);
  return { level, categories: Array.from({ length: max - min + 1 }, (_, i) => min + i) };
}
