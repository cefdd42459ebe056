import { sql } from 'drizzle-orm';
import { smokeChecks } from '../schema/tables';
import type { ActivityDeps } from './deps';

export function createSmokeActivities({ db }: ActivityDeps) {
  return {
    /** Idempotent by workflow id: a retry returns the row the first attempt wrote. */
    async recordSmokeCheck(id: string, message: string) {
      const [row] = await db
        .insert(smokeChecks)
        .values({ id, message })
        .onConflictDoUpdate({ target: smokeChecks.id, set: { id: sql`excluded.id` } })
        .returning();
      return { id: row.id, message: row.message, storedAt: row.createdAt.toISOString() };
    },
  };
}
