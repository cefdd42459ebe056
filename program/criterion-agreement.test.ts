import { agreementReport, type Rating } from '../stats/index';
import { criterionAgreementOptions } from './criterion-agreement';

const likert = { scale: 'likert' as const, points: 5, passAt: 4 };

/** 40 items × 3 raters on a 1..5 scale: a true score per item, the third rater off by `offset` on every other item. */
function ratings(offset: (truth: number) => number): Rating[] {
  return Array.from({ length: 40 }, (_, u) => {
    const truth = 1 + (u % 5);
    const third = u % 2 ? truth : Math.min(5, Math.max(1, offset(truth)));
    return [
      { item: `s${u}`, rater: 'a', label: truth },
      { item: `s${u}`, rater: 'b', label: truth },
      { item: `s${u}`, rater: 'c', label: third },
    ];
  }).flat();
}

describe('agreement at the criterion’s level', () => {
  test('binary criteria stay nominal over the labels seen; Likert is ordinal (or its level) over every point', () => {
    expect(criterionAgreementOptions({ scale: 'binary' })).toEqual({ level: 'nominal' });
    expect(criterionAgreementOptions(likert)).toEqual({ level: 'ordinal', categories: [1, 2, 3, 4, 5] });
    expect(criterionAgreementOptions({ ...likert, agreementLevel: 'interval' }).level).toBe('interval');
  });

  test('near misses (one point off) count as partial agreement: ordinal alpha above nominal on the same ratings', () => {
    const data = ratings((t) => (t === 5 ? 4 : t + 1));
    const nominal = agreementReport(data, { level: 'nominal' });
    const ordinal = agreementReport(data, criterionAgreementOptions(likert));
    const interval = agreementReport(data, criterionAgreementOptions({ ...likert, agreementLevel: 'interval' }));
    expect(ordinal.krippendorff_alpha!).toBeGreaterThan(nominal.krippendorff_alpha! + 0.1);
    expect(interval.krippendorff_alpha!).toBeGreaterThan(nominal.krippendorff_alpha! + 0.1);
    // AC2 with ordinal weights credits the near misses too; exact agreement is the same number either way.
    expect(ordinal.gwet_ac1!).toBeGreaterThan(nominal.gwet_ac1!);
    expect(ordinal.percent_agreement).toBe(nominal.percent_agreement);
  });

  test('opposite ends of the scale (1 against 5) count as worse than any other miss: ordinal alpha below nominal', () => {
    const data = ratings((t) => (t <= 3 ? 5 : 1));
    const nominal = agreementReport(data, { level: 'nominal' });
    const ordinal = agreementReport(data, criterionAgreementOptions(likert));
    expect(ordinal.krippendorff_alpha!).toBeLessThan(nominal.krippendorff_alpha!);
  });
});
