/**
 * Who is acting. Where the Temporal connection carries a credential, the actor is its identity: the
 * subject of a JWT API key (an opaque key: `apikey:` and a fingerprint), else the CN of the mTLS
 * client certificate. The server refuses a connection whose credential it does not accept, so a
 * change that went through was made with that credential. Without one (the embedded dev server)
 * the actor is the OS user, marked unverified: anyone can set USER. The actor is what steering
 * updates carry, the decision and audit logs record, and the Temporal client reports as its identity.
 */
import { createHash, X509Certificate } from 'node:crypto';
import os from 'node:os';
import { UNVERIFIED_MARK } from '../workflows/program-access';

export interface Identity {
  /** What a spec's owners and viewers name: `ann@example.com`, `apikey:1a2b3c4d`, `os:ann`. */
  principal: string;
  source: 'api-key' | 'mtls' | 'os';
  verified: boolean;
  /** What is recorded: the principal, and for an OS user the unverified mark. */
  actor: string;
}

/** The credentials of a Temporal connection (platform/temporal.ts TemporalTarget). */
export interface ConnectionCredentials {
  apiKey?: string;
  tls?: unknown;
}

/** A JWT's claim that names who holds it: `sub`, else `email`; undefined for a key that is not a JWT. */
function jwtSubject(key: string): string | undefined {
  const parts = key.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const subject = [claims.sub, claims.email].find((c) => typeof c === 'string' && c.trim());
    return (subject as string | undefined)?.trim();
  } catch {
    return undefined;
  }
}

/** The subject's common name of a PEM client certificate (the whole subject when it has no CN). */
function certificateSubject(pem: string | Buffer): string {
  const subject = new X509Certificate(pem).subject;
  const cn = subject.split('\n').find((part) => part.startsWith('CN='));
  return cn ? cn.slice(3) : subject.replace(/\n/g, ', ');
}

function clientCertificate(tls: unknown): Buffer | string | undefined {
  if (!tls || typeof tls !== 'object') return undefined;
  return (tls as { clientCertPair?: { crt?: Buffer | string } }).clientCertPair?.crt;
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown'; // a uid without a passwd entry (containers)
  }
}

/** The identity of a connection with these credentials: its API key, else its client certificate, else the OS user. */
export function resolveIdentity(credentials: ConnectionCredentials, user: string = osUser()): Identity {
  if (credentials.apiKey) {
    const subject = jwtSubject(credentials.apiKey);
    const principal = subject ?? `apikey:${createHash('sha256').update(credentials.apiKey).digest('hex').slice(0, 8)}`;
    return { principal, source: 'api-key', verified: true, actor: principal };
  }
  const cert = clientCertificate(credentials.tls);
  if (cert) {
    const principal = certificateSubject(cert);
    return { principal, source: 'mtls', verified: true, actor: principal };
  }
  const principal = `os:${user}`;
  return { principal, source: 'os', verified: false, actor: `${principal}${UNVERIFIED_MARK})` };
}

/**
 * The actor with the CLI's `--actor` label. A label only qualifies an unverified OS user
 * (`os:ann (unverified: night shift)`); with a verified identity it is refused, since the record
 * would otherwise name someone the credential does not.
 */
export function labelledActor(identity: Identity, label: string | undefined): string {
  if (label === undefined) return identity.actor;
  if (identity.verified)
    throw new Error(
      `--actor is not taken: this connection is authenticated as ${identity.principal} (${identity.source === 'api-key' ? 'API key' : 'mTLS certificate'}), which is the actor`,
    );
  if (!label.trim() || /[()]/.test(label)) throw new Error('--actor: give a short label without parentheses');
  return `${identity.principal}${UNVERIFIED_MARK}: ${label.trim()})`;
}
