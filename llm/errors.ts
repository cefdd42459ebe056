/**
 * Provider errors, classified as the openai SDK classifies them (status → error class), split into
 * what a retry or another item can fix and what only a setting can fix. Authentication (401),
 * permission (403), not found (404: the model, the deployment or the URL), bad request (400/422) and
 * a 429 with `insufficient_quota` answer every request the same way: they stop the run at its first
 * page with a non-retryable ApplicationFailure naming the setting to fix and quoting the provider.
 * Rate limits (429) and 5xx are retried by the client; a bad request that concerns one item only
 * (content filter, context too long) stays that item's error judgment.
 */
import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** Which API a client talks to: OpenAI, Azure OpenAI, or any OpenAI-compatible server (the simulator is one). */
export type ProviderKind = 'openai' | 'azure' | 'compatible';

export interface ProviderInfo {
  kind: ProviderKind;
  /** The base URL requests go to (Azure: `<endpoint>/openai`). */
  baseUrl: string;
  /** Azure OpenAI only. */
  apiVersion?: string;
}

export type FatalKind = 'authentication' | 'permission' | 'not_found' | 'bad_request' | 'quota';

/** The ApplicationFailure type of each fatal provider error (what the Temporal UI and the CLI show). */
export const PROVIDER_FAILURE_TYPES: Record<FatalKind, string> = {
  authentication: 'ProviderAuthenticationError',
  permission: 'ProviderPermissionDeniedError',
  not_found: 'ProviderNotFoundError',
  bad_request: 'ProviderBadRequestError',
  quota: 'ProviderQuotaExceededError',
};

/** 400 codes that concern the one request's content, not the setup: that item's error judgment, the run goes on. */
const PER_ITEM_BAD_REQUEST = new Set([
  'content_filter',
  'context_length_exceeded',
  'invalid_prompt',
  'string_above_max_length',
]);

/** OpenAI's 429 for an account out of credit (type and code `insufficient_quota`): retrying cannot help. */
export function isInsufficientQuota(body: unknown): boolean {
  const error = (body as { error?: { code?: unknown; type?: unknown } } | null | undefined)?.error;
  return error?.code === 'insufficient_quota' || error?.type === 'insufficient_quota';
}

/** A request abandoned because the caller aborted it (activity cancelled, page stopped): never an error judgment. */
export const isAbort = (err: unknown) =>
  err instanceof APIUserAbortError || (err instanceof Error && err.name === 'AbortError');

/** The kind of a fatal provider error, or undefined for anything a retry or another item may fix. */
export function fatalKind(err: unknown): FatalKind | undefined {
  if (!(err instanceof APIError) || err.status === undefined || isAbort(err)) return undefined;
  const code = typeof err.code === 'string' ? err.code : undefined;
  switch (err.status) {
    case 401:
      return 'authentication';
    case 403:
      return 'permission';
    case 404:
      return 'not_found';
    case 400:
    case 422:
      return code && PER_ITEM_BAD_REQUEST.has(code) ? undefined : 'bad_request';
    case 429:
      return isInsufficientQuota({ error: err.error }) ||
        code === 'insufficient_quota' ||
        err.type === 'insufficient_quota'
        ? 'quota'
        : undefined;
    default:
      return undefined;
  }
}

/**
 * The class of an LLM call's error for metrics: a fatal kind, or what a retry or another item may
 * fix — rate_limit (429), server (5xx), timeout, connection, or per_item (a request this item's
 * content made invalid); `invalid_output` is the caller's, for answers that failed their schema.
 */
export function errorClass(err: unknown): string {
  const kind = fatalKind(err);
  if (kind) return kind;
  if (err instanceof APIConnectionTimeoutError) return 'timeout';
  if (!(err instanceof APIError) || err.status === undefined) return 'connection';
  if (err.status === 429) return 'rate_limit';
  return err.status >= 500 ? 'server' : 'per_item';
}

/** The provider's own message (Azure sometimes answers `{statusCode, message}` without `error`). */
function providerMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  const text = typeof body?.message === 'string' ? body.message : err.message.replace(/^\d{3}\s+/, '');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** What to fix, per kind and provider: the settings a program manager or operator can change. */
function advice(kind: FatalKind, err: APIError, provider: ProviderInfo, model: string): string {
  const azure = provider.kind === 'azure';
  const keySetting = azure ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY';
  const endpoint = azure
    ? `AZURE_OPENAI_ENDPOINT (${provider.baseUrl.replace(/\/openai$/, '')})`
    : `OPENAI_BASE_URL (${provider.baseUrl})`;
  const modelSetting = `JUDGE_MODEL or the program spec's judges.model`;
  const code = typeof err.code === 'string' ? err.code : '';
  switch (kind) {
    case 'authentication':
      return `the LLM provider rejected the API key (401 ${code || 'unauthorized'}): fix ${keySetting} — it must be a valid key for ${endpoint}`;
    case 'permission':
      return `the LLM provider denied access (403 ${code || 'forbidden'}) to model "${model}": give the key in ${keySetting} access to it, or choose another model in ${modelSetting}`;
    case 'not_found':
      if (azure)
        return `Azure OpenAI has no deployment "${model}" (404 ${code || 'not found'}): the model name is the deployment name — fix ${modelSetting}, or deploy it in ${endpoint}; check OPENAI_API_VERSION (${provider.apiVersion ?? 'unset'})`;
      return code === 'model_not_found' || /model/i.test(providerMessage(err))
        ? `the LLM provider has no model "${model}" (404 ${code || 'not found'}): fix ${modelSetting}`
        : `the LLM provider answered 404 for ${provider.baseUrl}/chat/completions: check ${endpoint} (it usually ends in /v1) and the model "${model}" (${modelSetting})`;
    case 'bad_request':
      return `the LLM provider rejected the request as invalid (${err.status}${code ? ` ${code}` : ''}${err.param ? `, parameter ${err.param}` : ''}) for model "${model}": check that ${modelSetting} names a model with structured outputs and these parameters (LLM_REASONING_MODELS for a reasoning model the built-in table does not know, docs/judges.md)`;
    case 'quota':
      return `the account behind ${keySetting} has no quota left (429 insufficient_quota): add credit or raise its limit, or set another key in ${keySetting}`;
  }
}

/**
 * The non-retryable ApplicationFailure that stops the run: its type names the kind
 * (PROVIDER_FAILURE_TYPES), its message the setting to fix and the provider's own words.
 */
export function providerFailure(
  err: APIError,
  kind: FatalKind,
  provider: ProviderInfo,
  model: string,
): ApplicationFailure {
  return ApplicationFailure.create({
    type: PROVIDER_FAILURE_TYPES[kind],
    nonRetryable: true,
    message: `${advice(kind, err, provider, model)}. Provider said: ${providerMessage(err)}`,
    details: [
      {
        status: err.status,
        code: err.code ?? null,
        type: err.type ?? null,
        param: err.param ?? null,
        model,
        provider: provider.kind,
        baseUrl: provider.baseUrl,
      },
    ],
  });
}

/** True for the failures providerFailure makes (they pass through every layer unchanged). */
export const isProviderFailure = (err: unknown): err is ApplicationFailure =>
  err instanceof ApplicationFailure &&
  err.nonRetryable === true &&
  Object.values(PROVIDER_FAILURE_TYPES).includes(err.type ?? '');
