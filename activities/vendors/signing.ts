/**
 * Standard Webhooks signing (HMAC-SHA256 over `id.timestamp.body`, `whsec_` secrets), used for
 * both directions: vendors sign the events they post to the gateway, judgeflow signs the task
 * batches it posts to vendors. The `standardwebhooks` library computes the signature; the checks
 * live here so that the clock skew is configurable and each failure has its own error code.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

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

const webhooks = new Map<string, Webhook>();
function webhook(secret: string): Webhook {
  let hook = webhooks.get(secret);
  if (!hook) {
    hook = new Webhook(secret);
    webhooks.set(secret, hook);
  }
  return hook;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one delivery; `id` must stay the same across retries of the same delivery. */
export function signHeaders(secret: string, body: string, id: string = `msg_${randomUUID()}`, at = new Date()): SignedHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook(secret).sign(id, at, body),
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
  if (!id || !timestamp || !signature) throw new SignatureError('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature headers are required');
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - seconds) > maxSkewSeconds)
    throw new SignatureError('timestamp_out_of_range', `webhook-timestamp must be unix seconds within ${maxSkewSeconds}s of the server clock`);
  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3)));
  const at = new Date(seconds * 1000);
  for (const secret of secrets) {
    const expected = Buffer.from(webhook(secret).sign(id, at, body).slice(3));
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) return id;
  }
  throw new SignatureError('bad_signature', 'no signature matches an active secret of this vendor');
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
