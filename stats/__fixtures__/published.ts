/** Published example datasets used by the stats tests (sources cited at each one). */
import type { Rating } from '../data';

/** A units × raters matrix (null = missing) in long form. */
export function fromMatrix(rows: (number | null)[][], raters: string[]): Rating[] {
  return rows.flatMap((row, u) =>
    row.flatMap((label, r) => (label === null ? [] : [{ item: `unit-${u + 1}`, rater: raters[r], label }])),
  );
}

/** A subjects × categories count table in long form (rater identity is irrelevant to these metrics). */
export function fromCounts(table: number[][], categories: (string | number)[]): Rating[] {
  return table.flatMap((row, u) => {
    let r = 0;
    return row.flatMap((count, c) =>
      Array.from({ length: count }, () => ({ item: `subject-${u + 1}`, rater: `rater-${++r}`, label: categories[c] })),
    );
  });
}

/** Two raters' contingency table (rows rater A, columns rater B) in long form. */
export function fromContingency(table: number[][], categories: (string | number)[]): Rating[] {
  const out: Rating[] = [];
  let u = 0;
  table.forEach((row, a) =>
    row.forEach((count, b) => {
      for (let i = 0; i < count; i++) {
        u++;
        out.push(
          { item: `case-${u}`, rater: 'A', label: categories[a] },
          { item: `case-${u}`, rater: 'B', label: categories[b] },
        );
      }
    }),
  );
  return out;
}

/**
 * Krippendorff (2011) "Computing Krippendorff's alpha-reliability", section C: 4 observers × 12 units
 * with missing values. Also irrCAC's `cac.raw4raters` (Gwet 2014, Handbook of Inter-Rater
 * Reliability, 4th ed., p. 120).
 */
export const krippendorff2011 = fromMatrix(
  [
    [1, 1, null, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [null, 5, 5, 5],
    [null, null, 1, 1],
    [null, null, 3, null],
  ],
  ['A', 'B', 'C', 'D'],
);

/**
 * Fleiss (1971) "Measuring nominal scale agreement among many raters", Table 1: 30 patients, 6
 * psychiatrists each, 5 diagnoses (1 depression, 2 personality disorder, 3 schizophrenia,
 * 4 neurosis, 5 other); as distributed in R irr::diagnoses and statsmodels' test suite.
 */
export const fleiss1971 = fromMatrix(
  [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
  ].map((r) => r as (number | null)[]),
  ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'],
);

/** Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories (κ = 0.210). */
export const wikipediaFleiss = fromCounts(
  [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ],
  [1, 2, 3, 4, 5],
);

/** irrCAC `distrib.6raters` (Gwet 2014): 15 patients, 6 psychiatrists, 5 conditions. */
export const distrib6raters = fromCounts(
  [
    [0, 0, 0, 6, 0],
    [0, 3, 0, 0, 3],
    [0, 1, 4, 0, 1],
    [0, 0, 0, 0, 6],
    [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0],
    [0, 0, 4, 0, 2],
    [2, 0, 3, 1, 0],
    [2, 0, 0, 4, 0],
    [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0],
    [1, 1, 0, 4, 0],
    [0, 3, 3, 0, 0],
    [1, 0, 0, 5, 0],
    [0, 2, 0, 3, 1],
  ],
  ['Depression', 'Personality Disorder', 'Schizophrenia', 'Neurosis', 'Other'],
);

/** irrCAC `cont3x3abstractors`: two abstractors classifying 100 pregnancies (Ectopic, AIU, NIU). */
export const abstractors = fromContingency(
  [
    [13, 0, 0],
    [0, 20, 7],
    [0, 4, 56],
  ],
  ['Ectopic', 'AIU', 'NIU'],
);

/** Wikipedia, "Cohen's kappa", simple example: 50 grant proposals, Yes/Yes 20, Yes/No 5, No/Yes 10, No/No 15 (κ = 0.4). */
export const wikipediaCohen = fromContingency(
  [
    [20, 5],
    [10, 15],
  ],
  ['Yes', 'No'],
);
