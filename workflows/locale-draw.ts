/**
 * A multilingual program's draws: the same count in each locale, so each locale's agreement, golden
 * set and judges rest on as many items as a single-locale program's would. Behind each caller's
 * patch: a history recorded before locales drew once.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import { DATABASE } from './activity-options';

const { drawItems } = proxyActivities<Activities>(DATABASE);

/** The locales a draw is split by, or undefined (a single-locale program, or a history from before the patch). */
export const drawLocales = (plan: Pick<ProgramPlan, 'locales'>, patchId: string): string[] | undefined =>
  plan.locales && plan.locales.length > 1 && patched(patchId) ? plan.locales : undefined;

/** `count` fresh items for `purpose`, or `count` in each locale (purpose `<purpose>/<locale>`). */
export async function drawByLocale(
  programId: string,
  purpose: string,
  count: number,
  locales: string[] | undefined,
): Promise<string[]> {
  if (!locales) return drawItems({ programId, purpose, count });
  const itemIds: string[] = [];
  for (const locale of locales)
    itemIds.push(...(await drawItems({ programId, purpose: `${purpose}/${locale}`, count, locale })));
  return itemIds;
}
