/**
 * Standard Webhooks signing (HMAC-SHA256 over `id.timestamp.body`, `whsec_` secrets), used for
 * both directions: vendors sign the events they post to the gateway, judgeflow signs the task
 * batches it posts to vendors. The HMAC is node:crypto's (the `standardwebhooks` library's pure-JS
 * SHA-256 was a tenth of the gateway's CPU per event; signing.test.ts checks both agree); the
 * checks live here so that the clock skew is configurable and each failure has its own error code.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export type SignatureFailure = 'missing_headers' | 'timestamp_out_of_range' | 'bad_signature';

export class SignatureError extends Error {
  constructor(
    readonly code: SignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A fresh signing secret in the Standard Webhooks format (`whsec_` + base64 of 24 random bytes). */
export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

const keys = new Map<string, Buffer>();
/** The HMAC key of a `whsec_<base64>` secret (decoded once per secret). */
function key(secret: string): Buffer {
  let k = keys.get(secret);
  if (!k) {
    k = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    if (!k.length) throw new Error('a signing secret must not be empty');
    keys.set(secret, k);
  }
  return k;
}

/** `v1,<base64 HMAC-SHA256 of id.timestamp.body>` (Standard Webhooks). */
export function sign(secret: string, id: string, seconds: number, body: string): string {
  return `v1,${createHmac('sha256', key(secret)).update(`${id}.${seconds}.${body}`).digest('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one delivery; `id` must stay the same across retries of the same delivery. */
export function signHeaders(
  secret: string,
  body: string,
  id: string = `msg_${randomUUID()}`,
  at = new Date(),
): SignedHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': sign(secret, id, Math.floor(at.getTime() / 1000), body),
  };
}

/**
 * Verifies a delivery against every active secret (two during a rotation). Returns the delivery
 * id; throws SignatureError naming what failed.
 */
export function verifySignature(
  secrets: readonly string[],
  body: string,
  headers: Record<string, string | string[] | undefined>,
  maxSkewSeconds: number,
  now = Date.now(),
): string {
  const id = single(headers['webhook-id']);
  const timestamp = single(headers['webhook-timestamp']);
  const signature = single(headers['webhook-signature']);
  if (!id || !timestamp || !signature)
    throw new SignatureError(
      'missing_headers',
      'webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - seconds) > maxSkewSeconds)
    throw new SignatureError(
      'timestamp_out_of_range',
      `webhook-timestamp must be unix seconds within ${maxSkewSeconds}s of the server clock`,
    );
  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3)));
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, id, seconds, body).slice(3));
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) return id;
  }
  throw new SignatureError('bad_signature', 'no signature matches an active secret of this vendor');
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
