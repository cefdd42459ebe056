import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new migration from schema/tables.ts; migrations are committed and
// applied idempotently at start by platform/db.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/tables.ts',
  out: './schema/migrations',
});
