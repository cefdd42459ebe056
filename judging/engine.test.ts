import type { CriterionPlan } from './prompt-registry';
import { CHUNK, productionChunk } from './engine';

const plan = (criterion: string, agents = 1) =>
  ({ criterion, panel: agents > 1, units: Array.from({ length: agents }, () => ({})) }) as unknown as CriterionPlan;

describe('productionChunk', () => {
  it('checkpoints 50 items when an item is one request, so a checkpoint holds as many requests as at two', () => {
    expect(productionChunk([plan('clarity')], 1)).toBe(50);
  });

  it('keeps CHUNK items once an item is two requests or more', () => {
    expect(productionChunk([plan('clarity')], 2)).toBe(CHUNK);
    expect(productionChunk([plan('clarity'), plan('tone')], 1)).toBe(CHUNK);
    expect(productionChunk([plan('factuality', 4)], { factuality: 3 })).toBe(CHUNK);
  });

  it('counts each criterion with its own samples', () => {
    expect(productionChunk([plan('clarity')], { clarity: 1, tone: 5 })).toBe(50);
    expect(productionChunk([plan('clarity')], { clarity: 2, tone: 1 })).toBe(CHUNK);
  });
});
