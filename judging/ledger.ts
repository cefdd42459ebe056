/** The usage ledger: what each LLM request cost, keyed by what was paid for. */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { type Usage } from '../llm/call';
import { costOf, type ModelPrice } from '../llm/pricing';

export interface LedgerEntry {
  requestKey: string;
  programId: string;
  phase: string;
  kind: string;
  model: string;
  mode: 'sync' | 'batch';
  usage: Usage;
}

function ledgerValues(prices: Record<string, ModelPrice>, e: LedgerEntry) {
  const { costUsd, altCostUsd } = costOf(prices, e.model, e.usage, e.mode);
  return {
    requestKey: e.requestKey,
    programId: e.programId,
    phase: e.phase,
    kind: e.kind,
    model: e.model,
    mode: e.mode,
    promptTokens: e.usage.promptTokens,
    cachedTokens: e.usage.cachedTokens,
    completionTokens: e.usage.completionTokens,
    redactions: e.usage.redactions ?? 0,
    costUsd,
    altCostUsd,
  };
}

/**
 * Records spend. The key is what was paid for; a key seen again (an errored judgment requested
 * anew) adds its usage, because that second request was really paid for too. The rows travel as
 * one jsonb parameter: building a many-row insert with drizzle cost more CPU than the LLM call.
 */
export async function writeLedger(db: Db, prices: Record<string, ModelPrice>, entries: LedgerEntry[]) {
  if (!entries.length) return;
  await db.execute(ledgerInsert(prices, entries));
}

/** writeLedger's statement, to run with the judgments it paid for as one (judging/judgments.ts). */
export function ledgerInsert(prices: Record<string, ModelPrice>, entries: LedgerEntry[]): SQL {
  return sql`
    insert into usage_ledger (request_key, program_id, phase, kind, model, mode, prompt_tokens, cached_tokens, completion_tokens, redactions, cost_usd, alt_cost_usd)
    select "requestKey", "programId", phase, kind, model, mode, "promptTokens", "cachedTokens", "completionTokens", redactions, "costUsd", "altCostUsd"
    from jsonb_to_recordset(${JSON.stringify(entries.map((e) => ledgerValues(prices, e)))}::jsonb) as x(
      "requestKey" text, "programId" text, phase text, kind text, model text, mode text,
      "promptTokens" int, "cachedTokens" int, "completionTokens" int, redactions int, "costUsd" float8, "altCostUsd" float8)
    on conflict (request_key) do update set
      prompt_tokens = usage_ledger.prompt_tokens + excluded.prompt_tokens,
      cached_tokens = usage_ledger.cached_tokens + excluded.cached_tokens,
      completion_tokens = usage_ledger.completion_tokens + excluded.completion_tokens,
      redactions = usage_ledger.redactions + excluded.redactions,
      cost_usd = usage_ledger.cost_usd + excluded.cost_usd,
      alt_cost_usd = usage_ledger.alt_cost_usd + excluded.alt_cost_usd`;
}
