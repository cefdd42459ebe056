/**
 * The HTTP vendor adapter's errors name the vendor, what failed and the request, and say whether a
 * retry can help: unreachable and timeouts are retried, a 4xx or an endpoint that is not a URL is not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { createHttpVendorAdapter } from './http';
import type { VendorRow } from './adapter';

/** The error a call rejects with (it must reject). */
async function failure<E = Error>(call: Promise<unknown>): Promise<E> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as E,
  );
}

const row = (endpoint: string): VendorRow =>
  ({
    id: 'acme-labels',
    name: 'Acme',
    kind: 'http',
    endpoint,
    secrets: ['whsec_' + Buffer.from('k'.repeat(32)).toString('base64')],
    rateCard: {},
    config: {},
    createdAt: new Date(),
  }) as VendorRow;
let server: http.Server;
let base: string;
const answers: Record<string, [number, string]> = {};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    const [status, body] = answers[`${req.method} ${req.url}`] ?? [404, 'not found'];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/tasks`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('an endpoint whose host does not resolve: unreachable, with the reason and the request, retried', async () => {
  const err = await failure(createHttpVendorAdapter(row('http://vendor.invalid/judgeflow/tasks')).listRaters());
  expect(err.message).toMatch(
    /^vendor acme-labels unreachable: getaddrinfo (ENOTFOUND|EAI_AGAIN) vendor\.invalid \(GET \/raters http:\/\/vendor\.invalid\/judgeflow\/tasks\/raters\)$/,
  );
  expect(err).not.toBeInstanceOf(ApplicationFailure);
});

test('a port nobody listens on: unreachable (connection refused), retried', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const err = await failure(
    createHttpVendorAdapter(row(`http://127.0.0.1:${port}/v1/tasks`)).dispatch([{ taskId: 't' } as never]),
  );
  expect(err.message).toBe(
    `vendor acme-labels unreachable: connect ECONNREFUSED 127.0.0.1:${port} (POST / http://127.0.0.1:${port}/v1/tasks)`,
  );
});

test('a 401 says to check the secret and is not retried; a 503 is retried', async () => {
  answers['POST /v1/tasks'] = [401, '{"error":"bad signature"}'];
  const err = await failure<ApplicationFailure>(
    createHttpVendorAdapter(row(base)).dispatch([{ taskId: 't' } as never]),
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ nonRetryable: true, type: 'VendorRejected' });
  expect(err.message).toBe(
    'vendor acme-labels answered 401 to POST / (the vendor refused the signature or credentials: check the vendor secret): {"error":"bad signature"}',
  );
  answers['POST /v1/tasks/remind'] = [503, 'busy'];
  const busy = await failure(createHttpVendorAdapter(row(base)).remind!(['t']));
  expect(busy).not.toBeInstanceOf(ApplicationFailure);
  expect(busy.message).toBe('vendor acme-labels answered 503 to POST /remind: busy');
});

test('a rater list that is not one says what is wrong with it', async () => {
  answers['GET /v1/tasks/raters'] = [200, '{"raters": [{"qualification": {}}]}'];
  const err = await failure(createHttpVendorAdapter(row(base)).listRaters());
  expect(err.message).toMatch(/^vendor acme-labels answered GET \/raters with no valid rater list: raters\.0\.id: /);
});

test('an endpoint that is not a URL is not retried: the vendor record has to be fixed', async () => {
  const err = await failure<ApplicationFailure>(createHttpVendorAdapter(row('vendor.example.com/tasks')).listRaters());
  expect(err).toMatchObject({ nonRetryable: true, type: 'VendorMisconfigured' });
  expect(err.message).toBe(
    'vendor acme-labels has an endpoint that is not a URL: vendor.example.com/tasks/raters: fix the vendor endpoint',
  );
});
