/**
 * The load generator of `npm run bench:gateway`, run as its own process so it does not share an
 * event loop with the gateway: posts one signed completion per task (and duplicates, same
 * webhook-id) over keep-alive connections; prints throughput and latency. Two modes:
 * - closed loop (default): `concurrency` requests in flight, each sent when one finishes;
 * - open loop (`rate` events/s): request i is due at start + i/rate whatever the answers, over at
 *   most `concurrency` connections; latency counts from when it was due, so a slow gateway's
 *   queueing shows in the figures (no coordinated omission).
 * The first `warmup` requests go closed loop and are not measured: the figure is the sustained
 * rate of a running gateway, not its first connections and unoptimised code.
 */
import fs from 'node:fs';
import http from 'node:http';
import { signHeaders } from '../../vendors/signing';

interface Plan {
  gatewayUrl: string;
  vendorId: string;
  secret: string;
  criteria: string[];
  concurrency: number;
  /** Open loop at this many events/s; absent: closed loop. */
  rate?: number;
  /** Requests sent before measuring. */
  warmup: number;
  duplicateRate: number;
  tasks: { id: string; raterId: string }[];
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Plan;
  // Everything is signed before the clock starts: the figure is the gateway's, not the signer's.
  const requests = plan.tasks.map((t, i) => {
    const body = JSON.stringify({
      type: 'task.completed',
      taskId: t.id,
      raterId: t.raterId,
      labels: plan.criteria.map((criterion, c) => ({
        criterion,
        value: (i + c) % 3 ? 1 : 0,
        explanation: `bench label ${c}`,
      })),
    });
    return { body, headers: { 'content-type': 'application/json', ...signHeaders(plan.secret, body, `bench-${i}`) } };
  });
  // A vendor's retry comes soon after the original: each duplicate (same webhook-id) follows its
  // original by 32 requests (about the requests in flight), so duplicates are spread over the run
  // rather than bunched at its end, where the batch's workflow closes.
  const every = Math.round(1 / plan.duplicateRate);
  const retries = new Map<number, (typeof requests)[number][]>();
  requests.forEach((r, i) => {
    if (i % every !== Math.floor(every / 2)) return;
    const after = Math.min(i + 32, requests.length - 1);
    retries.set(after, [...(retries.get(after) ?? []), r]);
  });
  const all = requests.flatMap((r, i) => [r, ...(retries.get(i) ?? [])]);
  const url = new URL(`${plan.gatewayUrl}/v1/vendors/${plan.vendorId}/events`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const post = (r: (typeof all)[number]) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: r.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(r.body);
    });
  let latencies: number[] = [];
  /** [sent at (ms after the measured start), latency ms] per request: where the tail comes from. */
  let timeline: [number, number][] = [];
  let next = 0;
  let non2xx = 0;
  let started = performance.now();
  const send = async (r: (typeof all)[number], from: number) => {
    const status = await post(r);
    latencies.push(performance.now() - from);
    timeline.push([Math.round(from - started), Math.round((performance.now() - from) * 10) / 10]);
    if (status < 200 || status > 299) non2xx++;
  };
  const closedLoop = (until: number) =>
    Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (next < until) await send(all[next++], performance.now());
      }),
    );
  const warmup = Math.min(plan.warmup, all.length);
  await closedLoop(warmup);
  latencies = [];
  timeline = [];
  started = performance.now();
  if (plan.rate) {
    const rate = plan.rate;
    const sent: Promise<void>[] = [];
    const dueAt = (i: number) => started + ((i - warmup) * 1000) / rate;
    while (next < all.length) {
      // Sleep (never spin: the generator shares the CPUs with what it measures) until one is due.
      const wait = dueAt(next) - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.max(1, wait)));
      // What is due by now goes out (timers are coarse), a few at a time so that answers are read
      // in between; the agent queues beyond `concurrency`.
      for (let burst = 0; burst < 8 && next < all.length && dueAt(next) <= performance.now(); burst++)
        sent.push(send(all[next], dueAt(next++)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sent);
  } else await closedLoop(all.length);
  const elapsedMs = performance.now() - started;
  fs.writeFileSync(
    process.argv[2].replace(/plan\.json$/, 'latencies.json'),
    JSON.stringify(timeline.sort((a, b) => a[0] - b[0])),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 10) / 10;
  agent.destroy();
  console.log(
    JSON.stringify({
      total: all.length,
      warmup,
      measured: all.length - warmup,
      elapsedMs,
      latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
      non2xx,
    }),
  );
}

void main();
