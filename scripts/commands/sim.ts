/**
 * `judgeflow sim …`: the SIMULATED world. `sim catalog` writes a synthetic catalog with its hidden
 * answer key; `sim llm` runs the OpenAI-compatible LLM simulator. (`sim vendor` joins the same
 * group from scripts/commands/sim-vendor.ts.) Bad options exit 2 naming the option to fix: the
 * errors thrown here carry exitCode 2 (CatalogOptionsError, LlmSimConfigError, PortInUseError).
 * The stack module is loaded only when the simulator runs: it pulls in the embedded services.
 */
import { Command, InvalidArgumentError } from 'commander';
import { TRUTH_CRITERIA, truthKey } from '../sim/model/assess';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { writeCatalogFiles } from '../sim/catalog-files';
import { PortInUseError } from '../../platform/ports';
import { parseLlmSimOptions, readLlmSimConfigFile } from '../sim/llm/options';
import { startLlmSimulator } from '../sim/llm/server';
import { waitForShutdownSignal } from '../../platform/signals';

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return n;
};
const number = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
};

const synopsisRange = (v: string): [number, number] => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected min-max, e.g. 2-5');
  return [Number(m[1]), Number(m[2] ?? m[1])];
};

/** `tone=0.9,factuality.talent=0.8` → {tone: 0.9, factuality_talent: 0.8}; names are criteria. */
const criterionMap = (v: string) => {
  const out: Record<string, number> = {};
  for (const pair of v.split(',').filter(Boolean)) {
    const [name, value] = pair.split('=');
    const key = truthKey(name ?? '');
    const n = Number(value);
    if (!key || key === 'factuality')
      throw new InvalidArgumentError(`unknown criterion "${name}" (one of ${TRUTH_CRITERIA.join(', ')})`);
    if (value === undefined || !Number.isFinite(n))
      throw new InvalidArgumentError(`"${pair}" needs a number: criterion=value`);
    out[key] = n;
  }
  return out;
};

/** `malformed=0.1,serverError=0.05` → {malformed: 0.1, serverError: 0.05} (names checked by the options schema). */
const nameMap = (v: string) => {
  const out: Record<string, number> = {};
  for (const pair of v.split(',').filter(Boolean)) {
    const [name, value] = pair.split('=');
    if (!name || value === undefined || !Number.isFinite(Number(value)))
      throw new InvalidArgumentError(`"${pair}" must be name=number`);
    out[name] = Number(value);
  }
  return out;
};

/** The `sim` command group (found or created), with `catalog` and `llm`. */
export function registerSimCommands(program: Command): Command {
  const sim =
    program.commands.find((c) => c.name() === 'sim') ??
    program.command('sim').description('The SIMULATED world: catalog, LLM, vendor.');

  sim
    .command('catalog')
    .description(
      'Write a SIMULATED catalog (shows + synopses), its hidden answer key and member-behaviour metrics as JSONL.',
    )
    .requiredOption('--shows <n>', 'number of shows', integer(1))
    .option('--seed <n>', 'seed (same seed, same catalog)', integer(0), 1)
    .requiredOption('--out <file>', 'catalog JSONL (show and synopsis records)')
    .option('--truth <file>', 'answer key JSONL (default: <out>.truth.jsonl)')
    .option('--behavior <file>', 'member behaviour JSONL (default: <out>.behavior.jsonl)')
    .option('--synopses <min-max>', 'synopsis variants per show, e.g. 2-5 or 3', synopsisRange, [2, 5] as [
      number,
      number,
    ])
    .option('--defect-rates <list>', 'per-criterion defect rates, e.g. tone=0.3,factuality.talent=0.1', criterionMap)
    .option('--behavior-effect <n>', 'logit effect of latent quality on take fraction (0 = none)', number, 1.5)
    .option('--locale <code>', 'language of the synopses: en-US, es-ES or fr-FR', 'en-US')
    .option('--json', 'print the summary as JSON')
    .action(
      async (o: {
        shows: number;
        seed: number;
        out: string;
        truth?: string;
        behavior?: string;
        synopses: [number, number];
        defectRates?: Record<string, number>;
        behaviorEffect: number;
        locale: string;
        json?: boolean;
      }) => {
        const summary = await writeCatalogFiles(
          {
            shows: o.shows,
            seed: o.seed,
            synopsesPerShow: o.synopses,
            defectRates: o.defectRates,
            behaviorEffect: o.behaviorEffect,
            locale: o.locale,
          },
          { out: o.out, truth: o.truth, behavior: o.behavior },
        );
        if (o.json) console.log(JSON.stringify({ simulated: true, ...summary }));
        else {
          console.log(`[simulated] ${summary.shows} shows, ${summary.synopses} synopses in ${summary.seconds}s`);
          console.log(
            `  catalog   ${summary.files.out}\n  truth     ${summary.files.truth}  (hidden answer key: never give it to judges or raters)\n  behavior  ${summary.files.behavior}`,
          );
          console.log(
            `  pass rates ${Object.entries(summary.passRates)
              .map(([c, r]) => `${c} ${(r * 100).toFixed(1)}%`)
              .join(', ')}`,
          );
        }
      },
    );

  sim
    .command('llm')
    .description('Run the SIMULATED OpenAI-compatible LLM (chat completions, Batch API) on LLM_SIM_PORT until Ctrl-C.')
    .option('--config <file>', 'JSON or YAML options file (see docs/simulation.md); flags override it')
    .option('--port <n>', 'listen port (default LLM_SIM_PORT)', integer(0))
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--seed <n>', 'seed', integer(0))
    .option('--accuracy <list>', 'per-criterion judge accuracy, e.g. tone=0.85,factuality.talent=0.92', criterionMap)
    .option('--per-sample-share <p>', 'share of judge error drawn per sample (consensus removes it)', number)
    .option('--latency <median[,p99]>', 'log-normal latency in ms, e.g. 300,1500 (one number: fixed)')
    .option('--rpm <n>', 'requests per minute before 429 (0: unlimited)', integer(0))
    .option('--tpm <n>', 'tokens per minute before 429 (0: unlimited)', integer(0))
    .option(
      '--faults <list>',
      'fault rates, e.g. serverError=0.01,hang=0.001,malformed=0.01,schemaViolation=0.01,truncated=0.01',
      nameMap,
    )
    .option('--batch-ms <validating,perRequest,finalizing>', 'Batch API timing in ms')
    .action(
      async (o: {
        config?: string;
        port?: number;
        host: string;
        seed?: number;
        accuracy?: Record<string, number>;
        perSampleShare?: number;
        latency?: string;
        rpm?: number;
        tpm?: number;
        faults?: Record<string, number>;
        batchMs?: string;
      }) => {
        const config = loadConfig();
        const logger = createLogger('sim-llm', config.logLevel);
        const file = o.config ? readLlmSimConfigFile(o.config) : {};
        const merged: Record<string, unknown> = { ...file };
        const nested = (key: string, value: Record<string, unknown> | undefined) => {
          if (value) merged[key] = { ...((file[key] as object | undefined) ?? {}), ...value };
        };
        if (o.seed !== undefined) merged.seed = o.seed;
        if (o.perSampleShare !== undefined) merged.perSampleShare = o.perSampleShare;
        if (o.rpm !== undefined) merged.rpm = o.rpm;
        if (o.tpm !== undefined) merged.tpm = o.tpm;
        nested('accuracy', o.accuracy);
        nested('faults', o.faults);
        if (o.latency) {
          const [median, p99] = o.latency.split(',').map(Number);
          nested('latency', { medianMs: median, p99Ms: p99 ?? median });
        }
        if (o.batchMs) {
          const [validatingMs, msPerRequest, finalizingMs] = o.batchMs.split(',').map(Number);
          nested('batch', { validatingMs, msPerRequest, finalizingMs });
        }
        const options = parseLlmSimOptions(merged, o.config ? `config (${o.config} + flags)` : 'flags');
        const port = o.port ?? config.llm.simPort;
        const sim = await startLlmSimulator({ ...options, port, host: o.host, logger }).catch(
          (err: NodeJS.ErrnoException) => {
            if (err.code === 'EADDRINUSE') throw new PortInUseError(port, 'LLM simulator', 'LLM_SIM_PORT (or --port)');
            throw err;
          },
        );
        console.log(
          `[simulated] judgeflow LLM simulator listening on ${sim.url} (point OPENAI_BASE_URL here; any API key is accepted)`,
        );
        await waitForShutdownSignal();
        await sim.close();
        logger.info({ stats: sim.stats(), simulated: true }, '[simulated] LLM simulator stopped');
      },
    );
  return sim;
}
