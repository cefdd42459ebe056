/**
 * What LLM usage costs. Prices are USD per 1M tokens; LLM_PRICES (JSON) is merged over the built-in
 * table; a model in neither is priced as `*` (so a typo in a model name is never free).
 */
import { z } from 'zod';
import type { Config } from '../platform/config';
import { BUILT_IN_PRICES, priceFor, type ModelPrice } from './price-table';
import type { Usage } from './call';

export { BUILT_IN_PRICES, type ModelPrice };

const priceSchema = z.strictObject({
  input: z.number().nonnegative(),
  cachedInput: z.number().nonnegative(),
  output: z.number().nonnegative(),
  /** Batch API price as a share of the sync price. */
  batchDiscount: z.number().gt(0).max(1).default(0.5),
});
const tableSchema = z.record(z.string(), priceSchema);

export class PriceTableError extends Error {
  readonly exitCode = 2;
}

export function priceTable(config: Config): Record<string, ModelPrice> {
  if (!config.llm.prices) return BUILT_IN_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(config.llm.prices);
  } catch (err) {
    throw new PriceTableError(
      `LLM_PRICES is not JSON (${(err as Error).message}); expected {"model":{"input":0.4,"cachedInput":0.1,"output":1.6}}`,
    );
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success)
    throw new PriceTableError(
      `LLM_PRICES: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { ...BUILT_IN_PRICES, ...parsed.data };
}

/** Cost of `usage` in `mode`, and what it would have cost in the other mode. */
export function costOf(
  table: Record<string, ModelPrice>,
  model: string,
  usage: Usage,
  mode: 'sync' | 'batch',
): { costUsd: number; altCostUsd: number } {
  const p = priceFor(model, table);
  const uncached = Math.max(0, usage.promptTokens - usage.cachedTokens);
  const sync = (uncached * p.input + usage.cachedTokens * p.cachedInput + usage.completionTokens * p.output) / 1e6;
  const batch = sync * p.batchDiscount;
  return mode === 'batch' ? { costUsd: batch, altCostUsd: sync } : { costUsd: sync, altCostUsd: batch };
}
