/**
 * An HTTP proxy in front of the LLM simulator that can answer 500 to everything, as a provider in
 * an outage does: tests make judgments error for real (through the LLM client and the judge engine)
 * and then let the provider recover, without touching the simulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LlmOutage {
  /** Base URL ending in /v1, for OPENAI_BASE_URL. */
  url: string;
  /** While true every request gets 500; otherwise requests reach the simulator. */
  down: boolean;
  /** Requests answered 500 so far. */
  readonly refused: number;
  /** The bodies of the requests that reached the simulator, so a test can read the prompts sent. */
  readonly bodies: string[];
  close(): Promise<void>;
}

export async function startLlmOutage(target: string): Promise<LlmOutage> {
  const upstream = new URL(target);
  const state = { down: true, refused: 0 };
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    if (state.down) {
      state.refused++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { message: 'The server had an error while processing your request.', type: 'server_error' },
        }),
      );
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => bodies.push(Buffer.concat(chunks).toString('utf8')));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    get refused() {
      return state.refused;
    },
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
