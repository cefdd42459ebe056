/**
 * Human-task ids and the compact form in which a batch's tasks travel from the opening activity to
 * the workflow: item and rater indexes instead of repeated strings, so a batch of 1,000 items × 15
 * raters stays far below Temporal's payload limit. Pure code: the workflow imports it too.
 */

/** Stable per item × slot × attempt: the external id sent to the vendor. */
export const taskId = (batchId: string, itemId: string, slot: number, attempt: number) =>
  `${batchId}:${itemId}:${slot}:${attempt}`;

/** What the workflow keeps per task: ids only. */
export interface TaskRef {
  id: string;
  itemId: string;
  raterId: string;
  gold: boolean;
}

export interface OpenedBatch {
  /** Gold items mixed in, after the batch's own items. */
  goldItemIds: string[];
  raters: string[];
  /** [index into itemIds ++ goldItemIds, slot, index into raters]; attempt 0. */
  tasks: [number, number, number][];
  unassignedSlots: number;
}

export function packOpenedBatch(
  itemIds: string[],
  rows: { itemId: string; slot: number; raterId: string; gold: boolean }[],
  unassignedSlots: number,
): OpenedBatch {
  const goldItemIds = [...new Set(rows.filter((r) => r.gold).map((r) => r.itemId))];
  const itemIndex = new Map([...itemIds, ...goldItemIds].map((id, i) => [id, i]));
  const raters = [...new Set(rows.map((r) => r.raterId))];
  const raterIndex = new Map(raters.map((id, i) => [id, i]));
  return {
    goldItemIds,
    raters,
    tasks: rows.map((r) => [itemIndex.get(r.itemId)!, r.slot, raterIndex.get(r.raterId)!]),
    unassignedSlots,
  };
}

export function unpackOpenedBatch(batchId: string, itemIds: string[], opened: OpenedBatch): TaskRef[] {
  const all = [...itemIds, ...opened.goldItemIds];
  return opened.tasks.map(([item, slot, rater]) => ({
    id: taskId(batchId, all[item], slot, 0),
    itemId: all[item],
    raterId: opened.raters[rater],
    gold: item >= itemIds.length,
  }));
}
