/**
 * A fake Label Studio for tests (the real one cannot run here), answering the calls judgeflow makes
 * with the shapes a real Label Studio 1.23.2 gave scripts/label-studio-check.ts
 * (test/fixtures/label-studio/recorded.json): token authentication, `GET /api/annotations/:id/`,
 * `GET|PATCH /api/projects/:id/`; every other path is 404 like Django's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLabelStudio {
  url: string;
  /** Annotations by id, as `GET /api/annotations/:id/` returns them. */
  annotations: Map<number, Record<string, unknown>>;
  /** The project's settings, as `GET /api/projects/:id/` returns them. */
  project: Record<string, unknown>;
  calls: { method: string; url: string; body: string }[];
  /** Answer every call with this status (e.g. 503) until set back to null. */
  failWith: number | null;
  close(): Promise<void>;
}

export async function startFakeLabelStudio(opts: { token: string; projectId: number }): Promise<FakeLabelStudio> {
  const fake: Omit<FakeLabelStudio, 'url' | 'close'> = {
    annotations: new Map(),
    project: { id: opts.projectId, title: 'judgeflow', label_config: '<View></View>', expert_instruction: '' },
    calls: [],
    failWith: null,
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      fake.calls.push({ method: req.method!, url: req.url!, body });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (fake.failWith) return json(fake.failWith, { detail: 'fake Label Studio failing on purpose' });
      if (req.headers.authorization !== `Token ${opts.token}`)
        return json(401, { detail: 'Authentication credentials were not provided.' });
      const annotation = /^\/api\/annotations\/(\d+)\/$/.exec(req.url!);
      if (req.method === 'GET' && annotation) {
        const found = fake.annotations.get(Number(annotation[1]));
        return found ? json(200, found) : json(404, { detail: 'Not found.' });
      }
      if (req.url === `/api/projects/${opts.projectId}/`) {
        if (req.method === 'GET') return json(200, fake.project);
        if (req.method === 'PATCH') {
          Object.assign(fake.project, JSON.parse(body));
          return json(200, fake.project);
        }
      }
      return json(404, { detail: 'Not found.' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
