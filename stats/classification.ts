/** Judge-vs-gold metrics for binary verdicts, with Wilson and seeded bootstrap intervals. */
import { StatsInputError, percentileInterval, wilsonInterval } from './data';
import { createRng } from './random';

export interface BinaryMetrics {
  n: number;
  /** Which value counts as positive (default 1). */
  positive: 0 | 1;
  confusion: { tp: number; fp: number; fn: number; tn: number };
  accuracy: number | null;
  precision: number | null;
  /** = recall. */
  tpr: number | null;
  recall: number | null;
  tnr: number | null;
  f1: number | null;
  kappa: number | null;
  mcc: number | null;
  ci95: {
    accuracy: [number, number] | null;
    precision: [number, number] | null;
    tpr: [number, number] | null;
    tnr: [number, number] | null;
    /** Bootstrap (null unless opts.bootstrap > 0). */
    f1: [number, number] | null;
    kappa: [number, number] | null;
    mcc: [number, number] | null;
  };
  notes: string[];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function fromCounts(tp: number, fp: number, fn: number, tn: number) {
  const n = tp + fp + fn + tn;
  const precision = ratio(tp, tp + fp);
  const tpr = ratio(tp, tp + fn);
  const f1 = ratio(2 * tp, 2 * tp + fp + fn);
  const po = n > 0 ? (tp + tn) / n : null;
  const pe = n > 0 ? ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n) : null;
  const kappa = po !== null && pe !== null && pe < 1 - 1e-12 ? (po - pe) / (1 - pe) : null;
  const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  const mcc = den > 0 ? (tp * tn - fp * fn) / den : null;
  return { accuracy: po, precision, tpr, tnr: ratio(tn, tn + fp), f1, kappa, mcc };
}

/** pred[i] and gold[i] are 0/1 verdicts for the same item. */
export function binaryClassificationMetrics(
  pred: readonly number[],
  gold: readonly number[],
  opts: { positive?: 0 | 1; bootstrap?: number; seed?: number } = {},
): BinaryMetrics {
  if (pred.length !== gold.length)
    throw new StatsInputError(`binaryClassificationMetrics: ${pred.length} predictions vs ${gold.length} gold labels`);
  const positive = opts.positive ?? 1;
  const cell = new Uint8Array(pred.length); // 0 tp, 1 fp, 2 fn, 3 tn
  const c = [0, 0, 0, 0];
  for (let i = 0; i < pred.length; i++) {
    if ((pred[i] !== 0 && pred[i] !== 1) || (gold[i] !== 0 && gold[i] !== 1))
      throw new StatsInputError(`binaryClassificationMetrics: row ${i} is not 0/1 (${pred[i]}, ${gold[i]})`);
    const p = pred[i] === positive;
    const g = gold[i] === positive;
    cell[i] = p ? (g ? 0 : 1) : g ? 2 : 3;
    c[cell[i]]++;
  }
  const [tp, fp, fn, tn] = c;
  const m = fromCounts(tp, fp, fn, tn);
  const notes: string[] = [];
  if (m.precision === null) notes.push('precision is undefined: nothing was predicted positive');
  if (m.tpr === null) notes.push('tpr/recall is undefined: no gold positives');
  if (m.tnr === null) notes.push('tnr is undefined: no gold negatives');
  if (m.kappa === null && pred.length)
    notes.push('kappa is undefined: predictions and gold use one and the same class');
  if (m.mcc === null && pred.length) notes.push('mcc is undefined: a row or column of the confusion matrix is empty');
  const ci95: BinaryMetrics['ci95'] = {
    accuracy: wilsonInterval(tp + tn, pred.length),
    precision: wilsonInterval(tp, tp + fp),
    tpr: wilsonInterval(tp, tp + fn),
    tnr: wilsonInterval(tn, tn + fp),
    f1: null,
    kappa: null,
    mcc: null,
  };
  const B = opts.bootstrap ?? 0;
  if (B > 0 && pred.length > 0) {
    const rng = createRng(opts.seed ?? 1);
    const reps = { f1: [] as number[], kappa: [] as number[], mcc: [] as number[] };
    for (let b = 0; b < B; b++) {
      const k = [0, 0, 0, 0];
      for (let i = 0; i < cell.length; i++) k[cell[rng.int(cell.length)]]++;
      const r = fromCounts(k[0], k[1], k[2], k[3]);
      for (const name of ['f1', 'kappa', 'mcc'] as const) if (r[name] !== null) reps[name].push(r[name]);
    }
    for (const name of ['f1', 'kappa', 'mcc'] as const)
      ci95[name] = reps[name].length >= B / 2 ? percentileInterval(reps[name]) : null;
  }
  return { n: pred.length, positive, confusion: { tp, fp, fn, tn }, ...m, recall: m.tpr, ci95, notes };
}
