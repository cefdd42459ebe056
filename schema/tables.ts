/**
 * Postgres is the system of record. Every fact has its natural key as a unique index, so that an
 * activity retried or replayed writes with `ON CONFLICT` and never doubles a label, a judgment or a
 * charge. Workflows carry only ids and small summaries; the data lives here.
 */
export * from './tables/program';
export * from './tables/catalog';
export * from './tables/vendors';
export * from './tables/human-tasks';
export * from './tables/golden-set';
export * from './tables/judging';
export * from './tables/production';
export * from './tables/operations';
export * from './tables/notifications';
