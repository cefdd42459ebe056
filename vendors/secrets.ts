/**
 * Vendor secrets at rest: a value is sealed with AES-256-GCM under JUDGEFLOW_SECRET_KEY (base64 of
 * 32 bytes) as `jf1:<key id>:<iv>:<tag>:<ciphertext>`. The key id (a hash prefix of the key) lets a
 * wrong key be named as such instead of failing as a corrupt value.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** What reading a vendor's secrets needs: the environment (for named variables) and the sealing key. */
export interface SecretSource {
  env: Record<string, string | undefined>;
  /** JUDGEFLOW_SECRET_KEY: base64 of 32 bytes. */
  secretKey?: string;
}

/** A secret that cannot be read or written: the message says what to set. Exit code 2 in the CLI. */
export class VendorSecretError extends Error {
  readonly exitCode = 2;
}

const PREFIX = 'jf1';

function key(source: SecretSource, what: string): { key: Buffer; id: string } {
  if (!source.secretKey)
    throw new VendorSecretError(
      `${what}: JUDGEFLOW_SECRET_KEY is not set; it seals and opens vendor secrets stored as values (generate one with \`openssl rand -base64 32\`, or give the secret as --secret-env NAME)`,
    );
  const k = Buffer.from(source.secretKey, 'base64');
  if (k.length !== 32) throw new VendorSecretError('JUDGEFLOW_SECRET_KEY must be the base64 of 32 bytes');
  return { key: k, id: createHash('sha256').update(k).digest('hex').slice(0, 8) };
}

export function sealSecret(value: string, source: SecretSource, what: string): string {
  const { key: k, id } = key(source, what);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return [PREFIX, id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(
    ':',
  );
}

export function openSecret(sealed: string, source: SecretSource, what: string): string {
  const [prefix, keyId, iv, tag, data] = sealed.split(':');
  if (prefix !== PREFIX || !data) throw new VendorSecretError(`${what}: the stored value is not a sealed secret`);
  const { key: k, id } = key(source, what);
  if (keyId !== id)
    throw new VendorSecretError(
      `${what} was sealed with another JUDGEFLOW_SECRET_KEY (key id ${keyId}; the one set is ${id}): set the key it was sealed with`,
    );
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new VendorSecretError(
      `${what}: the sealed value does not open with JUDGEFLOW_SECRET_KEY (altered in the database?)`,
    );
  }
}

/** The values a stored secret stands for: its environment variable's (comma-separated) or its sealed value. */
export function secretValues(
  stored: { envName: string | null; sealed: string | null },
  source: SecretSource,
  what: string,
): string[] {
  if (stored.sealed !== null) return [openSecret(stored.sealed, source, what)];
  const raw = source.env[stored.envName ?? ''];
  if (!raw) throw new VendorSecretError(`${what}: environment variable ${stored.envName} is not set`);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
