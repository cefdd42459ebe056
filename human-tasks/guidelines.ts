/**
 * Guidelines on the vendor's side: the adapters of vendor records (one per record content, so a
 * vendor fixed meanwhile gets a new one), the rater-packet link every dispatch carries (after the
 * vendor's own tool is configured from the packet, for Label Studio), and the activity that takes
 * a published revision to each vendor — a failing vendor is retried on its own and blocks nothing.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, inArray, sql } from 'drizzle-orm';
import type { ActivityDeps } from '../activities/deps';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import { loadRaterPacket } from '../program/rater-packet';
import { programs } from '../schema/tables';
import type { PacketLink } from '../schema/vendor-events';
import { createVendorAdapter, type VendorAdapter, type VendorRow } from '../vendors';
import { packetLink } from '../vendors/packet-link';
import { loadVendor } from '../vendors/registry';

/** A dispatch's link outlives the task's due time, so a rater can re-read the packet while the task is reassigned. */
const DISPATCH_LINK_GRACE_MS = 7 * 86_400_000;
/** A notice's link counts from the publication, so a retried notice is the same delivery. */
const NOTICE_LINK_TTL_MS = 30 * 86_400_000;

export function vendorAdapterCache(db: Db, config: Config) {
  const adapters = new Map<string, VendorAdapter>();
  return async (vendorId: string): Promise<{ vendor: VendorRow; adapter: VendorAdapter }> => {
    const vendor = await loadVendor(db, vendorId, config);
    if (!vendor) throw new Error(`unknown vendor ${vendorId}`);
    const key = JSON.stringify([vendor.id, vendor.kind, vendor.endpoint, vendor.secrets, vendor.config]);
    let adapter = adapters.get(key);
    if (!adapter) {
      adapter = createVendorAdapter(vendor, config.env);
      adapters.set(key, adapter);
    }
    return { vendor, adapter };
  };
}

/** The programs of these with `locales:` in their spec: their raters read their own locale's packet. */
export async function multilingualPrograms(db: Db, programIds: string[]): Promise<Set<string>> {
  if (!programIds.length) return new Set();
  const rows = await db
    .select({ id: programs.id })
    .from(programs)
    .where(and(inArray(programs.id, programIds), sql`${programs.spec} ? 'locales'`));
  return new Set(rows.map((r) => r.id));
}

/** A packet link opening the packet of one locale (the signature covers the path, not the view). */
export const localeLink = (link: PacketLink | undefined, locale: string | undefined): PacketLink | undefined =>
  link && locale ? { ...link, url: `${link.url}&locale=${encodeURIComponent(locale)}` } : link;

/**
 * The packet links of one vendor's dispatch, by `programId/version`: each version's packet is
 * first applied to the vendor's tool when its adapter configures one.
 */
export async function dispatchLinks(
  db: Db,
  config: Config,
  { vendor, adapter }: { vendor: VendorRow; adapter: VendorAdapter },
  wanted: { programId: string; version: number }[],
  dueAt: Date,
): Promise<Map<string, PacketLink>> {
  const links = new Map<string, PacketLink>();
  const done = new Set<string>();
  for (const { programId, version } of wanted) {
    const key = `${programId}/${version}`;
    if (done.has(key)) continue;
    done.add(key);
    if (adapter.applyGuidelines) {
      const packet = await loadRaterPacket(db, programId, version);
      if (packet) await adapter.applyGuidelines(packet);
    }
    // A link is signed with the vendor's secret: a vendor without one gets none.
    const expires = new Date(dueAt.getTime() + DISPATCH_LINK_GRACE_MS);
    if (vendor.secrets.length)
      links.set(key, packetLink(vendor, config.gateway.publicUrl, programId, version, expires));
  }
  return links;
}

export function createGuidelineActivities({ db, config }: ActivityDeps) {
  const vendorAdapter = vendorAdapterCache(db, config);
  return {
    /**
     * A published revision reaches one vendor: its tool is reconfigured and it is told that the
     * revision applies to its open tasks. Idempotent (the same notice is the same delivery).
     */
    async announceGuidelines(input: { programId: string; version: number; vendorId: string }): Promise<void> {
      const packet = await loadRaterPacket(db, input.programId, input.version, input.vendorId);
      if (!packet)
        throw ApplicationFailure.nonRetryable(
          `no guidelines v${input.version} of program ${input.programId} for vendor ${input.vendorId}`,
          'GuidelinesNotFound',
        );
      const { vendor, adapter } = await vendorAdapter(input.vendorId);
      await adapter.applyGuidelines?.(packet);
      if (!adapter.notifyGuidelines || !vendor.secrets.length) return;
      const expires = new Date(Date.parse(packet.publishedAt) + NOTICE_LINK_TTL_MS);
      await adapter.notifyGuidelines({
        type: 'guidelines.published',
        programId: input.programId,
        version: input.version,
        note: packet.note,
        guidelines: packetLink(vendor, config.gateway.publicUrl, input.programId, input.version, expires),
      });
    },
  };
}
