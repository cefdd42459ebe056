import { createLlmClient, type LlmClient, type LlmTelemetry } from '../llm/client';
import { priceTable, type ModelPrice } from '../llm/pricing';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { noMetrics, type WorkerMetrics } from '../platform/metrics';

/** What activities may touch. Tests build it against the real stack; nothing here is global. */
export interface ActivityDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** The process's one LLM client: judging and Batch API calls share its pacer (and the pool with other workers). */
  llm: LlmClient;
  /** USD per 1M tokens by model (the built-in table merged with LLM_PRICES). */
  prices: Record<string, ModelPrice>;
  /** The process's metrics (the worker's Prometheus registry; noMetrics elsewhere). */
  metrics: WorkerMetrics;
}

/**
 * The activity deps of one process: builds its LLM client and price table once (a bad LLM_PRICES
 * fails here, at start); `telemetry` is the worker's metrics and tracer, none by default.
 */
export function createActivityDeps(
  base: Pick<ActivityDeps, 'db' | 'config' | 'logger'>,
  telemetry: LlmTelemetry = {},
): ActivityDeps {
  const metrics = telemetry.metrics ?? noMetrics;
  return {
    ...base,
    // Paced against the pool every worker on this database shares (llm/shared-limit.ts).
    llm: createLlmClient(base.config, { ...telemetry, metrics }, { db: base.db, logger: base.logger }),
    prices: priceTable(base.config),
    metrics,
  };
}
