/**
 * `npm run bench:cli`: how long the `judgeflow` command takes to start, as a user runs it
 * (node bin/judgeflow.js): the median of BENCH_RUNS runs (10, after one warm-up that fills tsx's
 * cache and the dependencies' code cache, bin/compile-cache.js) of `--help` and of `program status
 * <id>`, in wall time and in CPU time (user + system of the child, which a loaded machine inflates
 * less than wall time), with the load average.
 *
 * `program status` runs against BENCH_PROGRAM on the configured stack when it is set; otherwise a
 * private embedded stack is started with a small simulated catalog and a program waiting at its
 * scoping gate (manual gates: nothing runs meanwhile). Writes bench-results/cli.json and prints it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../platform/config';
import { newSecret } from '../../vendors/signing';
import { programStatusQuery } from '../../workflows/messages';
import { programWorkflowId } from '../../workflows/ids';
import { BIN, startStack, type Stack } from '../stack';
import { BENCH_OUT, useIsolatedStack } from './stack-env';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const PROGRAM = 'bench-cli';

/** CPU milliseconds of this process's finished children (cutime + cstime in /proc/self/stat). */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(args: string[], env: NodeJS.ProcessEnv) {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const cpu = childrenCpuMs();
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`judgeflow ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    if (i === 0) continue; // the warm-up: tsx compiles into its cache, V8 into the code cache
    walls.push(wall);
    cpus.push(childrenCpuMs() - cpu);
  }
  const round = (x: number) => Math.round(x);
  return {
    command: `judgeflow ${args.join(' ')}`,
    wallMs: { median: round(median(walls)), min: round(Math.min(...walls)), max: round(Math.max(...walls)) },
    cpuMs: { median: round(median(cpus)), min: round(Math.min(...cpus)), max: round(Math.max(...cpus)) },
  };
}

/** A private stack with a program waiting at its scoping gate. */
async function benchStack(): Promise<Stack> {
  const dataDir = await useIsolatedStack('cli', { VENDOR_SIM_SECRET: newSecret() });
  const config = loadConfig();
  const stack = await startStack(config, { log: (line) => console.error(`  ${line}`) });
  try {
    await programAtGate(stack, dataDir);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

async function programAtGate(stack: Stack, dataDir: string) {
  const env = { ...process.env, ...stack.env };
  const cli = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { env, stdio: 'pipe' });
  const catalog = path.join(dataDir, 'catalog.jsonl');
  cli('sim', 'catalog', '--shows', '20', '--seed', '1', '--out', catalog);
  cli('catalog', 'import', catalog);
  const spec = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/demo-program.yaml'), 'utf8'));
  Object.assign(spec, {
    id: PROGRAM,
    gates: { policy: 'manual', autoAfter: '0s' },
    raters: { ...spec.raters, goldRate: 0 },
    rounds: { pilotSize: 5, calibrationSize: 5, maxCalibrationRounds: 1, goldenSetSize: 10, testShare: 0.5 },
  });
  spec.vendors[0].endpoint = `http://127.0.0.1:${stack.config.vendorSim.port}/v1/tasks`;
  const specFile = path.join(dataDir, 'program.yaml');
  fs.writeFileSync(specFile, YAML.stringify(spec));
  cli('program', 'start', specFile, '--yes', '--json');
  const handle = stack.client.workflow.getHandle(programWorkflowId(PROGRAM));
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500)))
    if ((await handle.query(programStatusQuery).catch(() => undefined))?.gate) return;
  throw new Error(`program ${PROGRAM} did not reach its scoping gate within 120 s`);
}

async function main() {
  const stack = process.env.BENCH_PROGRAM ? undefined : await benchStack();
  try {
    const env = { ...process.env, ...stack?.env };
    const loadBefore = os.loadavg();
    const help = measure(['--help'], env);
    const status = measure(['program', 'status', process.env.BENCH_PROGRAM ?? PROGRAM], env);
    const result = {
      at: new Date().toISOString(),
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
      cpus: os.cpus().length,
      loadAverage: { before: loadBefore.map((l) => +l.toFixed(2)), after: os.loadavg().map((l) => +l.toFixed(2)) },
      runs: RUNS,
      targets: { helpMs: 300, statusMs: 1000 },
      help,
      status,
    };
    fs.mkdirSync(BENCH_OUT, { recursive: true });
    fs.writeFileSync(path.join(BENCH_OUT, 'cli.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stack?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
