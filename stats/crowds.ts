/**
 * Simulated crowds with a known truth, to measure label aggregation: raters of varied accuracy,
 * spammers (uniform answers) and adversarial raters (always the next class), each item labelled by
 * a few raters drawn at random. Used by the aggregation test and `npm run bench:aggregation`.
 */
import type { Rating } from './data';
import { createRng } from './random';

export interface CrowdSpec {
  items: number;
  raters: number;
  perItem: number;
  classes: number;
  spammers: number;
  adversarial: number;
  /** Honest raters' accuracy, uniform in [lo, hi]. */
  accuracy: [number, number];
  seed: number;
}

/** The crowds the aggregation is held to: dense, sparse, very sparse, with spammers and adversaries, 2 to 4 classes. */
export const CROWDS: Record<string, CrowdSpec> = {
  'dense, 2 classes': {
    items: 500,
    raters: 10,
    perItem: 7,
    classes: 2,
    spammers: 2,
    adversarial: 0,
    accuracy: [0.6, 0.9],
    seed: 1,
  },
  'sparse, 2 classes': {
    items: 2000,
    raters: 100,
    perItem: 3,
    classes: 2,
    spammers: 10,
    adversarial: 0,
    accuracy: [0.6, 0.9],
    seed: 3,
  },
  'sparse, 3 classes': {
    items: 2000,
    raters: 100,
    perItem: 3,
    classes: 3,
    spammers: 10,
    adversarial: 0,
    accuracy: [0.6, 0.9],
    seed: 2,
  },
  'very sparse, 3 classes': {
    items: 2000,
    raters: 600,
    perItem: 3,
    classes: 3,
    spammers: 60,
    adversarial: 0,
    accuracy: [0.6, 0.9],
    seed: 6,
  },
  'sparse, 4 classes, adversaries': {
    items: 2000,
    raters: 200,
    perItem: 3,
    classes: 4,
    spammers: 20,
    adversarial: 2,
    accuracy: [0.6, 0.9],
    seed: 4,
  },
  'dense, 4 classes, one adversary': {
    items: 500,
    raters: 10,
    perItem: 5,
    classes: 4,
    spammers: 1,
    adversarial: 1,
    accuracy: [0.6, 0.9],
    seed: 7,
  },
  'adversarial, 3 classes': {
    items: 1000,
    raters: 20,
    perItem: 5,
    classes: 3,
    spammers: 2,
    adversarial: 2,
    accuracy: [0.6, 0.9],
    seed: 5,
  },
};

export function simulateCrowd(spec: CrowdSpec): { truth: Map<string, number>; ratings: Rating[] } {
  const rng = createRng(spec.seed);
  const kind = (r: number) =>
    r < spec.spammers ? 'spammer' : r < spec.spammers + spec.adversarial ? 'adversarial' : 'honest';
  const [lo, hi] = spec.accuracy;
  const accuracy = Array.from({ length: spec.raters }, () => lo + rng.next() * (hi - lo));
  // Unbalanced classes (weights 1, 2, 3, …), as real criteria are.
  const weights = Array.from({ length: spec.classes }, (_, k) => k + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const truth = new Map<string, number>();
  const ratings: Rating[] = [];
  for (let i = 0; i < spec.items; i++) {
    let x = rng.next() * total;
    let t = 0;
    while (x >= weights[t]) x -= weights[t++];
    truth.set(`item-${i}`, t);
    const chosen = new Set<number>();
    while (chosen.size < spec.perItem) chosen.add(rng.int(spec.raters));
    for (const r of chosen) {
      const label =
        kind(r) === 'spammer'
          ? rng.int(spec.classes)
          : kind(r) === 'adversarial'
            ? (t + 1) % spec.classes
            : rng.next() < accuracy[r]
              ? t
              : (t + 1 + rng.int(spec.classes - 1)) % spec.classes;
      ratings.push({ item: `item-${i}`, rater: `rater-${r}`, label });
    }
  }
  return { truth, ratings };
}

/** Share of items whose aggregated label is the truth (a tie or no label counts as wrong). */
export const accuracyAgainst = (truth: Map<string, number>, items: { item: string; label: unknown }[]) =>
  items.filter((x) => x.label === truth.get(x.item)).length / items.length;
