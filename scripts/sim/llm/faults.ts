/**
 * The faults the simulator injects, each drawn per request with its configured rate (options
 * `faults`), and the errors it answers them with as OpenAI would.
 */
import { Rng } from '../model/rng';
import { RequestError } from './errors';
import type { LlmSimOptions } from './options';

/** Faults answered with an error as OpenAI answers a misconfigured client (chat completions only). */
export type ProviderFault =
  'unauthorized' | 'forbidden' | 'modelNotFound' | 'badRequest' | 'insufficientQuota' | 'rateLimited';
const PROVIDER_FAULTS: readonly ProviderFault[] = [
  'unauthorized',
  'forbidden',
  'modelNotFound',
  'badRequest',
  'insufficientQuota',
  'rateLimited',
];
const FAULTS = ['serverError', 'hang', 'malformed', 'schemaViolation', 'truncated', ...PROVIDER_FAULTS] as const;
export type Fault = (typeof FAULTS)[number];

export const isProviderFault = (fault: Fault | undefined): fault is ProviderFault =>
  (PROVIDER_FAULTS as readonly string[]).includes(fault as string);

/** Draws each request's fault (or none) from the configured rates, on its own seeded stream. */
export function faultPicker(options: LlmSimOptions): () => Fault | undefined {
  const rng = Rng.for(options.seed, 'faults');
  return () => {
    const f = options.faults;
    let u = rng.next();
    for (const name of FAULTS) {
      if (u < f[name]) return name;
      u -= f[name];
    }
    return undefined;
  };
}

export const serverError = () =>
  new RequestError(
    500,
    'The server had an error while processing your request. Sorry about that! (simulated fault)',
    null,
    null,
    'server_error',
  );

/** OpenAI's status and error body for each, as its API documents them ({"error":{"message","type","param","code"}}). */
export function providerFaultError(fault: ProviderFault, model: string): RequestError {
  switch (fault) {
    case 'unauthorized':
      return new RequestError(
        401,
        'Incorrect API key provided: sk-judge*****flow. You can find your API key at https://platform.openai.com/account/api-keys. (simulated fault)',
        null,
        'invalid_api_key',
      );
    case 'forbidden':
      return new RequestError(
        403,
        `Project does not have access to model ${model} (simulated fault)`,
        null,
        'model_not_found',
      );
    case 'modelNotFound':
      return new RequestError(
        404,
        `The model \`${model}\` does not exist or you do not have access to it. (simulated fault)`,
        null,
        'model_not_found',
      );
    case 'badRequest':
      return new RequestError(
        400,
        "Unsupported parameter: 'temperature' is not supported with this model. (simulated fault)",
        'temperature',
        'unsupported_parameter',
      );
    case 'insufficientQuota':
      return new RequestError(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors. (simulated fault)',
        null,
        'insufficient_quota',
        'insufficient_quota',
      );
    case 'rateLimited':
      return new RequestError(
        429,
        `Rate limit reached for ${model} (judgeflow simulator) on requests per min (RPM). Please try again in 200ms. (simulated fault)`,
        null,
        'rate_limit_exceeded',
        'requests',
      );
  }
}
