/**
 * How the SIMULATED vendor's raters read guidelines: over HTTP, from the packet link a dispatch or a
 * `guidelines.published` notice carries, as a real vendor would. A rater reads the newest version
 * the vendor has heard of before their next task and works from the version they actually got:
 * when a fetch fails, or a notice never arrived, they keep working from what they read before.
 */
import { raterPacketSchema, type PacketLink, type RaterPacket, type TaskDispatch } from '../../../schema/vendor-events';
import type { LikertScale } from '../../../judging/prompts/judge';
import type { Logger } from '../../../platform/logger';

export interface PacketReaderStats {
  packetsFetched: number;
  packetFetchFailures: number;
  notices: number;
}

export function packetReader(log: Logger, stats: PacketReaderStats) {
  /** The newest link heard of per program (from a dispatch or a notice). */
  const newest = new Map<string, PacketLink>();
  /** The version each rater has read, per program. */
  const read = new Map<string, number>();
  /** The Likert criteria of each program's packets (raters score them on their scale). */
  const scales = new Map<string, Record<string, LikertScale>>();
  /** Each program's error taxonomy by criterion, as its packets list it (the gateway takes no other code). */
  const taxonomies = new Map<string, Record<string, string[]>>();
  /** One fetch per link at a time, shared by the raters waiting for it. */
  const fetching = new Map<string, Promise<number | null>>();

  const hear = (programId: string, link: PacketLink | undefined) => {
    const known = newest.get(programId);
    if (link && (!known || link.version >= known.version)) newest.set(programId, link);
  };

  const fetchVersion = (link: PacketLink): Promise<number | null> => {
    let pending = fetching.get(link.url);
    if (!pending) {
      pending = (async () => {
        try {
          const res = await fetch(link.url, { signal: AbortSignal.timeout(10_000) });
          if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
          const packet = raterPacketSchema.parse(await res.json());
          stats.packetsFetched++;
          scales.set(packet.programId, likertScales(packet));
          taxonomies.set(
            packet.programId,
            Object.fromEntries(packet.criteria.map((c) => [c.id, c.errorCodes.map((e) => e.code)])),
          );
          return packet.version;
        } catch (err) {
          stats.packetFetchFailures++;
          fetching.delete(link.url); // the next task tries again
          log.warn({ err, url: link.url }, '[simulated vendor] could not fetch the guidelines packet');
          return null;
        }
      })();
      fetching.set(link.url, pending);
    }
    return pending;
  };

  return {
    /** A `guidelines.published` notice: raters read the new version before their next task. */
    notice(programId: string, link: PacketLink) {
      stats.notices++;
      hear(programId, link);
    },
    /** The Likert criteria of a program as its packets describe them (none before a packet is read). */
    scalesOf: (programId: string): Record<string, LikertScale> => scales.get(programId) ?? {},
    /** A program's taxonomy codes by criterion; undefined before a packet is read. */
    taxonomyOf: (programId: string): Record<string, string[]> | undefined => taxonomies.get(programId),
    /** The guideline version `raterId` works from on this task (0: never got a packet). */
    async versionFor(raterId: string, task: TaskDispatch): Promise<number> {
      hear(task.programId, task.guidelines);
      const key = `${raterId}\u0000${task.programId}`;
      const had = read.get(key) ?? 0;
      const link = newest.get(task.programId);
      if (!link || link.version <= had) return had;
      const got = await fetchVersion(link);
      const now = Math.max(read.get(key) ?? 0, got ?? 0);
      read.set(key, now);
      return now;
    },
  };
}

/** A packet's Likert criteria: the scale's top value is its points. */
function likertScales(packet: RaterPacket): Record<string, LikertScale> {
  return Object.fromEntries(
    packet.criteria
      .filter((c) => c.scale === 'likert' && c.passAt !== undefined)
      .map((c) => [c.id, { points: Math.max(...c.values.map((v) => v.value)), passAt: c.passAt! }]),
  );
}
