/**
 * A seeded simulated rating round with planted disagreements, for the disagreement tests (stats,
 * CLI, report): five careful raters right 92 % of the time, one contrarian who answers against
 * the truth 85 % of the time, one item every rater saw and split 3–3 on tone, and an error code
 * (`clarity.spoiler`) the careful raters cite at random when they fail clarity.
 */
import type { RoundLabel } from '../disagreement';
import { createRng } from '../random';

export const PLANTED = {
  contrarian: 'r-contrarian',
  contestedItem: 'item-contested',
  contestedCriterion: 'tone',
  contestedCode: 'clarity.spoiler',
  raters: ['r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-contrarian'],
  criteria: ['tone', 'clarity'],
} as const;

const CODES: Record<string, string> = { tone: 'tone.register', clarity: 'clarity.jargon' };

export function plantedRound(seed = 42, items = 24): RoundLabel[] {
  const rng = createRng(seed);
  const out: RoundLabel[] = [];
  for (let i = 0; i < items; i++) {
    const item = `item-${String(i).padStart(2, '0')}`;
    // four of the six raters per item
    const pool = [...PLANTED.raters];
    for (let k = pool.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [pool[k], pool[j]] = [pool[j], pool[k]];
    }
    for (const criterion of PLANTED.criteria) {
      const truth = rng.next() < 0.6 ? 1 : 0;
      for (const rater of pool.slice(0, 4)) {
        const right = rater === PLANTED.contrarian ? rng.next() < 0.15 : rng.next() < 0.92;
        const label = right ? truth : 1 - truth;
        const errorCodes =
          label === 1 || rater === PLANTED.contrarian
            ? []
            : [CODES[criterion], ...(criterion === 'clarity' && rng.next() < 0.5 ? [PLANTED.contestedCode] : [])];
        out.push({ item, rater, criterion, label, errorCodes, explanation: label ? 'reads well' : 'has a defect' });
      }
    }
  }
  PLANTED.raters.forEach((rater, k) => {
    const label = k < 3 ? 1 : 0;
    out.push({
      item: PLANTED.contestedItem,
      rater,
      criterion: 'tone',
      label,
      errorCodes: label ? [] : ['tone.register'],
      explanation: label ? 'dry humour fits the show' : 'too flippant for a drama',
    });
    out.push({ item: PLANTED.contestedItem, rater, criterion: 'clarity', label: 1, explanation: 'clear' });
  });
  return out;
}
