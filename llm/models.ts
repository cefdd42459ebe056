/**
 * What a model accepts, applied when a request is built (sync and Batch API lines alike). OpenAI's
 * reasoning models (o-series, gpt-5 except its chat variants) reject `temperature` and `top_p`,
 * take `reasoning_effort`, and count output with `max_completion_tokens` (they reject `max_tokens`);
 * other models take `temperature` and `max_tokens` (which every OpenAI-compatible server knows)
 * and may reject `reasoning_effort`. Azure deployments are named freely: LLM_REASONING_MODELS adds
 * names to treat as reasoning models. docs/judges.md has the table.
 */
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

export interface ModelCapabilities {
  /** A reasoning model: no temperature/top_p, reasoning_effort, max_completion_tokens. */
  reasoning: boolean;
  /** The reasoning efforts it accepts (empty: none, the parameter is left out). */
  efforts: readonly ReasoningEffort[];
}

const CHAT: ModelCapabilities = { reasoning: false, efforts: [] };
const ALL_EFFORTS: readonly ReasoningEffort[] = ['minimal', 'low', 'medium', 'high'];

/** First match wins; names are matched without a provider prefix such as `openai/`. */
export const MODEL_CAPABILITIES: readonly { pattern: RegExp; capabilities: ModelCapabilities }[] = [
  { pattern: /^gpt-5(\.\d+)?-chat/, capabilities: CHAT },
  { pattern: /^gpt-5/, capabilities: { reasoning: true, efforts: ALL_EFFORTS } },
  { pattern: /^o\d+(-|$)/, capabilities: { reasoning: true, efforts: ['low', 'medium', 'high'] } },
];

/** Capabilities by reasoning-model list and model: every request asks, with the same few models. */
const known = new WeakMap<readonly string[], Map<string, ModelCapabilities>>();
const NO_REASONING_MODELS: readonly string[] = [];

export function modelCapabilities(model: string, reasoningModels: readonly string[] = []): ModelCapabilities {
  // Callers without a list pass a new empty one each time: they all share one entry.
  const list = reasoningModels.length ? reasoningModels : NO_REASONING_MODELS;
  let byModel = known.get(list);
  if (!byModel) known.set(list, (byModel = new Map()));
  let caps = byModel.get(model);
  if (!caps) {
    const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
    caps = reasoningModels.includes(model)
      ? { reasoning: true, efforts: ALL_EFFORTS }
      : (MODEL_CAPABILITIES.find((m) => m.pattern.test(name))?.capabilities ?? CHAT);
    byModel.set(model, caps);
  }
  return caps;
}

/** The nearest effort the model accepts (o-series have no `minimal`: it becomes `low`). */
function supportedEffort(effort: ReasoningEffort, efforts: readonly ReasoningEffort[]): ReasoningEffort | undefined {
  if (efforts.includes(effort)) return effort;
  const order = ALL_EFFORTS.indexOf(effort);
  return efforts.find((e) => ALL_EFFORTS.indexOf(e) >= order) ?? efforts.at(-1);
}

/** `params` as the model accepts them: unsupported parameters dropped or renamed, never an error. */
export function applyModelCapabilities(
  params: ChatCompletionCreateParamsNonStreaming,
  reasoningModels: readonly string[] = [],
): ChatCompletionCreateParamsNonStreaming {
  const caps = modelCapabilities(params.model, reasoningModels);
  const { temperature, top_p, reasoning_effort, max_tokens, max_completion_tokens, ...rest } = params;
  const limit = max_completion_tokens ?? max_tokens;
  if (caps.reasoning) {
    const effort = reasoning_effort ? supportedEffort(reasoning_effort as ReasoningEffort, caps.efforts) : undefined;
    return {
      ...rest,
      ...(effort ? { reasoning_effort: effort } : {}),
      ...(limit != null ? { max_completion_tokens: limit } : {}),
    };
  }
  return {
    ...rest,
    ...(temperature != null ? { temperature } : {}),
    ...(top_p != null ? { top_p } : {}),
    ...(limit != null ? { max_tokens: limit } : {}),
  };
}
