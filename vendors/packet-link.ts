/**
 * Links to rater packets (`GET /v1/vendors/:vendorId/guidelines/:programId/:version`) that a vendor
 * can open without signing a request: the URL carries its expiry and a Standard Webhooks signature
 * (the vendor's secret, the path as the message id, the expiry as the timestamp, an empty body),
 * so only the vendor's own secret makes one and a link cannot be moved to another path or extended.
 */
import { timingSafeEqual } from 'node:crypto';
import type { PacketLink } from '../schema/vendor-events';
import { sign } from './signing';

export const packetPath = (vendorId: string, programId: string, version: number | 'latest') =>
  `/v1/vendors/${encodeURIComponent(vendorId)}/guidelines/${encodeURIComponent(programId)}/${version}`;

/** A link valid until `expiresAt`, signed with the vendor's first (newest) secret. */
export function packetLink(
  vendor: { id: string; secrets: readonly string[] },
  publicUrl: string,
  programId: string,
  version: number,
  expiresAt: Date,
): PacketLink {
  const path = packetPath(vendor.id, programId, version);
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const signature = sign(vendor.secrets[0], path, expires, '').slice('v1,'.length);
  const query = new URLSearchParams({ expires: String(expires), signature });
  return { version, url: `${publicUrl}${path}?${query}`, expiresAt: new Date(expires * 1000).toISOString() };
}

export type LinkFailure = 'link_expired' | 'bad_link_signature';

/** Why a link's `expires` and `signature` do not open `path` for any of these secrets, or null. */
export function packetLinkProblem(
  secrets: readonly string[],
  path: string,
  expires: string,
  signature: string,
  now = Date.now(),
): LinkFailure | null {
  if (!/^\d{1,12}$/.test(expires)) return 'bad_link_signature';
  const offered = Buffer.from(signature);
  const valid = secrets.some((secret) => {
    const expected = Buffer.from(sign(secret, path, Number(expires), '').slice('v1,'.length));
    return expected.length === offered.length && timingSafeEqual(expected, offered);
  });
  if (!valid) return 'bad_link_signature';
  return Number(expires) * 1000 < now ? 'link_expired' : null;
}
