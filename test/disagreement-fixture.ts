/**
 * The seeded rounds with planted disagreements (stats/__fixtures__/planted-round.ts) stored as a
 * program's pilot and calibration labels, the way the gateway stores them: a task batch per round,
 * a task per (item, rater), a label per criterion.
 */
import type { Db } from '../platform/db';
import { labels, taskBatches, tasks } from '../schema/tables';
import { PLANTED, plantedRound } from '../stats/__fixtures__/planted-round';
import { seedWorld } from '../scripts/sim/vendor/world';

export { PLANTED } from '../stats/__fixtures__/planted-round';

/** Stores the pilot (seed 7) and calibration round 1 (seed 42); item ids are the world's, `items` maps the planted names to them. */
export async function seedPlantedRounds(db: Db, programId: string) {
  const vendorId = `${programId}-vendor`;
  const world = await seedWorld(db, {
    programId,
    items: 25,
    vendors: [{ id: vendorId, secrets: ['whsec_unused'], raters: [...PLANTED.raters] }],
  });
  const items = new Map<string, string>();
  const itemOf = (name: string) => {
    if (!items.has(name)) items.set(name, world.itemIds[items.size]);
    return items.get(name) as string;
  };
  for (const [phase, round, seed] of [
    ['pilot', 0, 7],
    ['calibration', 1, 42],
  ] as const) {
    const batchId = `program/${programId}/${phase === 'pilot' ? 'pilot' : `calibration/${round}`}/tasks`;
    await db
      .insert(taskBatches)
      .values({ id: batchId, programId, phase, round, kind: 'rate', guidelineVersion: round + 1 });
    const round_ = plantedRound(seed, phase === 'pilot' ? 6 : 24);
    const taskIds = new Map<string, string>();
    for (const l of round_) {
      const key = `${l.item}/${l.rater}`;
      if (taskIds.has(key)) continue;
      const id = `${batchId}/${key}`;
      taskIds.set(key, id);
      await db.insert(tasks).values({
        id,
        batchId,
        programId,
        itemId: itemOf(l.item),
        textHash: 'h',
        slot: taskIds.size,
        vendorId,
        raterId: `${vendorId}:${l.rater}`,
        kind: 'rate',
        guidelineVersion: round + 1,
        status: 'completed',
      });
    }
    await db.insert(labels).values(
      round_.map((l) => ({
        taskId: taskIds.get(`${l.item}/${l.rater}`) as string,
        programId,
        itemId: itemOf(l.item),
        raterId: `${vendorId}:${l.rater}`,
        criterion: l.criterion,
        value: Number(l.label),
        explanation: l.explanation ?? '',
        errorCodes: [...(l.errorCodes ?? [])],
        guidelineVersion: round + 1,
        phase,
        round,
      })),
    );
  }
  return { vendorId, items, rater: (name: string) => `${vendorId}:${name}` };
}
