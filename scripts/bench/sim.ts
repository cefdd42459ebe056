/**
 * `npm run bench:sim`: is the simulated world ever the bottleneck?
 *  1. catalog generation: N shows (default ≈500k synopses) written to JSONL, wall time and peak RSS;
 *  2. LLM simulator throughput: the simulator in a child process (zero latency, no limits), a
 *     keep-alive HTTP load generator here sending strict-schema judge requests; req/s, p50, p99.
 * Writes bench-results/sim.json and prints the same JSON object.
 *   npm run bench:sim -- [--shows 143000] [--seconds 8] [--concurrency 32]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { wrapTag } from '../../judging/prompts/contract';
import { generateCatalog } from '../sim/model/catalog';
import { createLogger } from '../../platform/logger';
import { writeCatalogFiles } from '../sim/catalog-files';
import { startLlmSimulator } from '../sim/llm/server';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function serve() {
  const sim = await startLlmSimulator({ logger: createLogger('sim-llm', 'silent') });
  process.stdout.write(`${sim.url}\n`);
  // the parent asks for the CPU used so far (before and after the load): a figure the shared
  // machine's load cannot inflate; `stop` ends the process
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
    if (line === 'stop') break;
  }
  await sim.close();
}

async function benchCatalog(shows: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-bench-sim-'));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    const summary = await writeCatalogFiles({ shows, seed: 1 }, { out: path.join(dir, 'catalog.jsonl') });
    const bytes = Object.values(summary.files).reduce((n, f) => n + fs.statSync(f).size, 0);
    return {
      shows: summary.shows,
      synopses: summary.synopses,
      seconds: summary.seconds,
      synopsesPerSecond: Math.round(summary.synopses / summary.seconds),
      peakRssMb: Math.round(peak / 2 ** 20),
      megabytesWritten: Math.round(bytes / 2 ** 20),
    };
  } finally {
    clearInterval(sampler);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchLlm(seconds: number, concurrency: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const nextLine = async () => {
      const line = await lines.next();
      if (line.done) throw new Error('the simulator process exited early');
      return line.value;
    };
    const url = await nextLine();
    const cpu = async (command: string) => {
      child.stdin.write(`${command}\n`);
      return (JSON.parse(await nextLine()) as { cpuMs: number }).cpuMs;
    };
    const cpuBefore = await cpu('cpu');
    const { hostname, port } = new URL(url);
    const bodies = [...generateCatalog({ shows: 200, seed: 3 })].flatMap(({ show, synopses }) =>
      synopses.map((s) =>
        JSON.stringify({
          model: 'gpt-4.1-mini',
          messages: [
            { role: 'system', content: 'Judge the tone of a show synopsis.' },
            {
              role: 'user',
              content: [
                wrapTag('criterion', 'tone'),
                wrapTag('show', JSON.stringify({ title: show.title, genres: show.genres })),
                wrapTag('synopsis', s.text),
              ].join('\n'),
            },
          ],
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'judge_verdict',
              strict: true,
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['reasoning', 'summary', 'verdict'],
                properties: {
                  reasoning: { type: 'string' },
                  summary: { type: 'string' },
                  verdict: { type: 'string', enum: ['pass', 'fail'] },
                },
              },
            },
          },
        }),
      ),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const post = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: hostname,
            port,
            path: '/v1/chat/completions',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          const status = await post(bodies[next++ % bodies.length]);
          latencies.push(performance.now() - t);
          if (status !== 200) errors++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    agent.destroy();
    const serverCpuMs = (await cpu('stop')) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const q = (p: number) =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
    return {
      requests: latencies.length,
      errors,
      seconds: Math.round(elapsed * 100) / 100,
      requestsPerSecond: Math.round(latencies.length / elapsed),
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      concurrency,
      serverCpuMsPerRequest: Math.round((serverCpuMs / latencies.length) * 1000) / 1000,
      /** What one core could serve: requests ÷ CPU seconds the simulator process used. */
      requestsPerCpuSecond: Math.round(latencies.length / (serverCpuMs / 1000)),
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}

async function main() {
  if (process.argv.includes('--serve')) return serve();
  const catalog = await benchCatalog(arg('shows', 143_000));
  const llm = await benchLlm(arg('seconds', 8), arg('concurrency', 32));
  const result = {
    benchmark: 'sim',
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    catalog,
    llm,
    at: new Date().toISOString(),
  };
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(path.join('bench-results', 'sim.json'), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
}

void main();
