/**
 * Rater packets for vendors: `GET /v1/vendors/:vendorId/guidelines/:programId/:version` (a version
 * number or `latest`), opened either by the signed link a dispatch carries (`?expires&signature`)
 * or by Standard Webhooks headers signed like an event whose body is the request path. `?locale=`
 * gives a multilingual program's packet for that locale's raters.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import { loadRaterPacket } from '../program/rater-packet';
import { localeSpecSchema } from '../schema/program-spec';
import type { VendorRow } from '../vendors';
import { packetLinkProblem, packetPath } from '../vendors/packet-link';
import { SignatureError, verifySignature } from '../vendors/signing';
import { sendError } from './gateway-validation';

const LINK_MESSAGES = {
  link_expired: 'this guidelines link has expired: use the link of a newer dispatch or notice, or sign the request',
  bad_link_signature: "the link's signature does not match an active secret of this vendor",
} as const;

export function packetRoute(
  app: FastifyInstance,
  db: Db,
  config: Config,
  vendorOf: (p: unknown) => Promise<VendorRow>,
) {
  app.get('/v1/vendors/:vendorId/guidelines/:programId/:version', async (req, reply) => {
    const row = await vendorOf(req.params);
    const { programId, version } = req.params as { programId: string; version: string };
    const query = req.query as { expires?: string; signature?: string; locale?: string };
    if (version !== 'latest' && !/^[1-9]\d{0,8}$/.test(version))
      return sendError(reply, 400, 'bad_version', `version must be a positive integer or "latest", not "${version}"`);
    if (query.locale !== undefined && !localeSpecSchema.shape.code.safeParse(query.locale).success)
      return sendError(reply, 400, 'bad_locale', `locale must be a code like es-ES, not "${query.locale}"`);
    const wanted = version === 'latest' ? 'latest' : Number(version);
    // The path as judgeflow signs it: encoding differences in the request URL do not matter.
    const path = packetPath(row.id, programId, wanted);
    if (query.expires !== undefined || query.signature !== undefined) {
      const problem = packetLinkProblem(row.secrets, path, query.expires ?? '', query.signature ?? '');
      if (problem) return sendError(reply, 401, problem, LINK_MESSAGES[problem]);
    } else {
      try {
        verifySignature(row.secrets, path, req.headers, config.gateway.maxSkewSeconds);
      } catch (err) {
        if (err instanceof SignatureError)
          return sendError(
            reply,
            401,
            err.code,
            `${err.message} (sign the request path ${path} as the body, or use the signed link of a dispatch)`,
          );
        throw err;
      }
    }
    // The locale picks a view of the same packet (no other program or version): the link's signature covers the path.
    const packet = await loadRaterPacket(db, programId, wanted, row.id, query.locale);
    if (!packet)
      return sendError(
        reply,
        404,
        'guidelines_not_found',
        `no guidelines ${version === 'latest' ? '' : `v${version} `}of program ${programId}${query.locale ? ` in ${query.locale}` : ''} for vendor ${row.id}`,
      );
    return reply.header('cache-control', 'private, no-store').send(packet);
  });
}
