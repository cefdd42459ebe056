/**
 * List prices of the models judgeflow knows, USD per 1M tokens (pure data: the scoping estimate
 * and the usage ledger both price from it). `*` prices an unknown model as the most expensive, so a
 * typo in a model name is never free.
 */
export interface ModelPrice {
  input: number;
  cachedInput: number;
  output: number;
  /** Batch API price as a share of the sync price. */
  batchDiscount: number;
}

export const BUILT_IN_PRICES: Record<string, ModelPrice> = {
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8, batchDiscount: 0.5 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6, batchDiscount: 0.5 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4, batchDiscount: 0.5 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6, batchDiscount: 0.5 },
  '*': { input: 2, cachedInput: 0.5, output: 8, batchDiscount: 0.5 },
};

export const priceFor = (model: string, table: Record<string, ModelPrice> = BUILT_IN_PRICES): ModelPrice =>
  table[model] ?? table['*'] ?? BUILT_IN_PRICES['*'];
