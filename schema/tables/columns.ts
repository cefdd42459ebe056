import { jsonb, timestamp } from 'drizzle-orm/pg-core';

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const json = <T>(name: string) => jsonb(name).$type<T>();
