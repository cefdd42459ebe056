/** Ratings in long form and their compact, typed-array encoding shared by every metric. */

export type Label = string | number;
export type Level = 'nominal' | 'ordinal' | 'interval' | 'ratio';

export interface Rating {
  item: string;
  rater: string;
  label: Label;
}

/** Input the statistics cannot use (a conflicting duplicate, a non-numeric interval label…). */
export class StatsInputError extends Error {
  override name = 'StatsInputError';
}

/**
 * Ratings grouped by item: item u's ratings are rater[start[u]..start[u+1]) and cat[…] (sorted by
 * rater), categories sorted (numerically when every label is a number or numeric string).
 */
export interface Units {
  itemIds: string[];
  raterIds: string[];
  categories: Label[];
  /** Numeric value of each category, or null when the labels are not all numeric. */
  values: number[] | null;
  start: Int32Array;
  rater: Int32Array;
  cat: Int32Array;
  /** Identical repeated ratings (same item, rater, label), counted once. */
  duplicates: number;
}

const isNumeric = (l: Label) =>
  typeof l === 'number' ? Number.isFinite(l) : l.trim() !== '' && Number.isFinite(Number(l));

/**
 * Encodes ratings in linear time (plus a per-item insertion sort by rater). Throws StatsInputError
 * when a rater gave one item two different labels, or when `level` needs numbers and a label is not.
 */
export function encodeRatings(
  ratings: readonly Rating[],
  opts: { level?: Level; categories?: readonly Label[] } = {},
): Units {
  const level = opts.level ?? 'nominal';
  const itemIndex = new Map<string, number>();
  const raterIndex = new Map<string, number>();
  const labelIndex = new Map<Label, number>();
  const itemIds: string[] = [];
  const raterIds: string[] = [];
  const labels: Label[] = [];
  const n = ratings.length;
  const itemOf = new Int32Array(n);
  const raterOf = new Int32Array(n);
  const labelOf = new Int32Array(n);
  const counts = new Int32Array(n + 1);
  for (const l of opts.categories ?? []) {
    if (!labelIndex.has(l)) {
      labelIndex.set(l, labels.length);
      labels.push(l);
    }
  }
  for (let i = 0; i < n; i++) {
    const r = ratings[i];
    let it = itemIndex.get(r.item);
    if (it === undefined) {
      it = itemIds.length;
      itemIndex.set(r.item, it);
      itemIds.push(r.item);
    }
    let ra = raterIndex.get(r.rater);
    if (ra === undefined) {
      ra = raterIds.length;
      raterIndex.set(r.rater, ra);
      raterIds.push(r.rater);
    }
    let la = labelIndex.get(r.label);
    if (la === undefined) {
      la = labels.length;
      labelIndex.set(r.label, la);
      labels.push(r.label);
    }
    itemOf[i] = it;
    raterOf[i] = ra;
    labelOf[i] = la;
    counts[it + 1]++;
  }

  const allNumeric = labels.every(isNumeric);
  if (level !== 'nominal' && !allNumeric) {
    const bad = labels.find((l) => !isNumeric(l));
    throw new StatsInputError(`level "${level}" needs numeric labels, got "${String(bad)}"`);
  }
  if (level === 'ratio' && labels.some((l) => Number(l) < 0)) {
    throw new StatsInputError('level "ratio" needs labels ≥ 0 (a ratio scale has a true zero)');
  }
  if (allNumeric && new Set(labels.map(Number)).size !== labels.length) {
    throw new StatsInputError(
      `labels ${labels.map((l) => JSON.stringify(l)).join(', ')} mix spellings of the same number`,
    );
  }
  const order = labels.map((_, i) => i);
  order.sort(
    allNumeric
      ? (a, b) => Number(labels[a]) - Number(labels[b])
      : (a, b) => (String(labels[a]) < String(labels[b]) ? -1 : String(labels[a]) > String(labels[b]) ? 1 : 0),
  );
  const rank = new Int32Array(labels.length);
  order.forEach((old, i) => (rank[old] = i));
  const categories = order.map((i) => labels[i]);

  // Counting sort by item, then insertion sort by rater inside each item (items hold few ratings).
  const nItems = itemIds.length;
  for (let u = 0; u < nItems; u++) counts[u + 1] += counts[u];
  const start = Int32Array.from(counts.subarray(0, nItems + 1));
  const fill = Int32Array.from(counts.subarray(0, nItems));
  const rater = new Int32Array(n);
  const cat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = fill[itemOf[i]]++;
    rater[p] = raterOf[i];
    cat[p] = rank[labelOf[i]];
  }
  let duplicates = 0;
  const keepRater = new Int32Array(n);
  const keepCat = new Int32Array(n);
  let w = 0;
  for (let u = 0; u < nItems; u++) {
    const s = start[u];
    const e = start[u + 1];
    for (let i = s + 1; i < e; i++) {
      const rr = rater[i];
      const cc = cat[i];
      let j = i - 1;
      while (j >= s && rater[j] > rr) {
        rater[j + 1] = rater[j];
        cat[j + 1] = cat[j];
        j--;
      }
      rater[j + 1] = rr;
      cat[j + 1] = cc;
    }
    start[u] = w;
    for (let i = s; i < e; i++) {
      if (i > s && rater[i] === rater[i - 1]) {
        if (cat[i] !== cat[i - 1]) {
          throw new StatsInputError(
            `rater "${raterIds[rater[i]]}" rated item "${itemIds[u]}" twice with different labels ("${String(categories[cat[i - 1]])}" and "${String(categories[cat[i]])}")`,
          );
        }
        duplicates++;
        continue;
      }
      keepRater[w] = rater[i];
      keepCat[w] = cat[i];
      w++;
    }
  }
  start[nItems] = w;
  return {
    itemIds,
    raterIds,
    categories,
    values: allNumeric ? categories.map(Number) : null,
    start,
    rater: keepRater.subarray(0, w),
    cat: keepCat.subarray(0, w),
    duplicates,
  };
}

/** Splits ratings by a key (criterion, round…) keeping first-seen order of the keys. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

/** Wilson score interval for k successes in n trials (95%); null when n = 0. */
export function wilsonInterval(k: number, n: number, z = 1.959963984540054): [number, number] | null {
  if (n === 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Percentile interval of bootstrap replicates (NaN replicates are skipped by the caller). */
export function percentileInterval(values: Float64Array | number[], lo = 0.025, hi = 0.975): [number, number] | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => {
    const pos = q * (sorted.length - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
  };
  return [at(lo), at(hi)];
}
