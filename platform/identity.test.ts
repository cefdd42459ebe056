/** Who the actor is: a JWT API key's subject, an opaque key's fingerprint, an mTLS certificate's CN, else the OS user. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { principalOf, steeringRefusal } from '../workflows/program-access';
import { labelledActor, resolveIdentity } from './identity';

const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'ES256', typ: 'JWT' }, claims]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
    .concat('c2lnbmF0dXJl')
    .join('.');

/** A self-signed client certificate made by openssl, as an operator would for mTLS. */
function certificate(subject: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-identity-'));
  try {
    const [key, crt] = [path.join(dir, 'client.key'), path.join(dir, 'client.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        subject,
        '-keyout',
        key,
        '-out',
        crt,
      ],
      { stdio: 'pipe' },
    );
    return fs.readFileSync(crt);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a JWT API key: its subject (else its email) is the actor, verified', () => {
  expect(resolveIdentity({ apiKey: jwt({ sub: 'ann@example.com', account_id: 'a1' }) }, 'root')).toEqual({
    principal: 'ann@example.com',
    source: 'api-key',
    verified: true,
    actor: 'ann@example.com',
  });
  expect(resolveIdentity({ apiKey: jwt({ email: 'bob@example.com' }) }).actor).toBe('bob@example.com');
});

test('an opaque API key (or a JWT naming nobody): a stable fingerprint, never the key itself', () => {
  const key = 'tmprl_0123456789abcdefSECRET';
  const identity = resolveIdentity({ apiKey: key }, 'root');
  expect(identity).toMatchObject({ source: 'api-key', verified: true });
  expect(identity.actor).toMatch(/^apikey:[0-9a-f]{8}$/);
  expect(resolveIdentity({ apiKey: key }).actor).toBe(identity.actor);
  expect(resolveIdentity({ apiKey: `${key}x` }).actor).not.toBe(identity.actor);
  expect(identity.actor).not.toContain('SECRET');
  expect(resolveIdentity({ apiKey: jwt({ account_id: 'a1' }) }).actor).toMatch(/^apikey:[0-9a-f]{8}$/);
  expect(resolveIdentity({ apiKey: 'a.b.c' }).actor).toMatch(/^apikey:/); // three parts, no JSON
});

test("an mTLS client certificate: its subject's CN, verified; the API key wins when both are set", () => {
  const crt = certificate('/O=Acme Ratings/CN=ann.ops');
  const tls = { clientCertPair: { crt, key: Buffer.from('unused') } };
  expect(resolveIdentity({ tls }, 'root')).toEqual({
    principal: 'ann.ops',
    source: 'mtls',
    verified: true,
    actor: 'ann.ops',
  });
  expect(resolveIdentity({ tls: { clientCertPair: { crt: certificate('/O=Acme/OU=pm'), key: '' } } }).actor).toBe(
    'O=Acme, OU=pm',
  );
  expect(resolveIdentity({ tls, apiKey: jwt({ sub: 'svc-ci' }) }).actor).toBe('svc-ci');
  // TLS without a client certificate (server TLS only) proves nothing about the user.
  expect(resolveIdentity({ tls: true }, 'ann')).toMatchObject({ source: 'os', verified: false });
});

test('no credential: the OS user, marked unverified; --actor only labels it', () => {
  const identity = resolveIdentity({}, 'ann');
  expect(identity).toEqual({ principal: 'os:ann', source: 'os', verified: false, actor: 'os:ann (unverified)' });
  expect(resolveIdentity({}).principal).toBe(`os:${os.userInfo().username}`);
  expect(labelledActor(identity, undefined)).toBe('os:ann (unverified)');
  const labelled = labelledActor(identity, 'night shift');
  expect(labelled).toBe('os:ann (unverified: night shift)');
  expect(principalOf(labelled)).toBe('os:ann');
  expect(() => labelledActor(identity, 'x) (y')).toThrow(/without parentheses/);
  expect(() => labelledActor(resolveIdentity({ apiKey: jwt({ sub: 'ann@example.com' }) }), 'bob')).toThrow(
    /--actor is not taken: this connection is authenticated as ann@example\.com \(API key\)/,
  );
});

test('owners decide who steers: the principal must be listed; a viewer is told so; no owners means anyone', () => {
  const access = { owners: ['ann@example.com', 'os:ann'], viewers: ['bob@example.com'] };
  expect(steeringRefusal('p1', access, 'ann@example.com')).toBeUndefined();
  expect(steeringRefusal('p1', access, 'os:ann (unverified: on call)')).toBeUndefined();
  expect(steeringRefusal('p1', access, 'mallory')).toBe(
    'mallory is not an owner of program p1; owners: ann@example.com, os:ann',
  );
  expect(steeringRefusal('p1', access, 'bob@example.com')).toBe(
    'bob@example.com is a viewer of program p1 (viewers may only query); owners: ann@example.com, os:ann',
  );
  // Only an owner listed as os:<user> admits an unverified user: the verified name does not.
  expect(steeringRefusal('p1', { owners: ['ann'] }, 'os:ann (unverified)')).toMatch(/is not an owner/);
  expect(steeringRefusal('p1', access, '')).toMatch(/must name its actor/);
  expect(steeringRefusal('p1', access, undefined)).toMatch(/must name its actor/);
  expect(steeringRefusal('p1', undefined, 'anyone')).toBeUndefined();
  expect(steeringRefusal('p1', { owners: [], viewers: ['bob'] }, 'bob')).toBeUndefined();
});
