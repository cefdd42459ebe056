/**
 * The one configuration module. Every setting (platform/settings.ts) is read from the environment
 * (and `.env` when it exists), validated with zod, and has a default that selects the embedded stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RedactionSettings } from '../llm/redaction';
import { SETTINGS, type Setting, type SettingName } from './settings';

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
    /** The shared limit's pool name (LLM_LIMIT_POOL); unset: the provider endpoint. */
    limitPool?: string;
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
  /** JUDGEFLOW_SECRET_KEY: seals vendor secrets stored as values (vendors/secrets.ts). */
  secretKey?: string;
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
      limitPool: v.LLM_LIMIT_POOL,
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
    secretKey: v.JUDGEFLOW_SECRET_KEY as string | undefined,
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
/** The URL of the embedded PostgreSQL a stack with this config starts (same for every process). */
export const databaseUrl = (config: Config) =>
  config.database.url ?? `postgres://judgeflow:judgeflow@127.0.0.1:${config.database.embeddedPort}/judgeflow`;
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
