/** The catalog: shows, items (synopses) with their revisions, each program's item set and the items it drew. */
import { bigint, bigserial, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';
import { programs } from './program';

export const shows = pgTable('shows', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  locale: text('locale').notNull().default('en-US'),
  /** genres, year, locations, talent, awards, plot summary… as the catalog gives them. */
  metadata: json<Record<string, unknown>>('metadata').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** An item to rate or judge: a synopsis. Its current text; past texts live in item_revisions. */
export const items = pgTable(
  'items',
  {
    id: text('id').primaryKey(),
    showId: text('show_id')
      .notNull()
      .references(() => shows.id),
    locale: text('locale').notNull().default('en-US'),
    text: text('text').notNull(),
    /** sha256 of the text: judgments are keyed by it, so an edit is judged again, an unchanged text never. */
    textHash: text('text_hash').notNull(),
    source: text('source').notNull().default('import'), // import|api|writer
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [index('items_show').on(t.showId), index('items_updated').on(t.updatedAt)],
);

export const itemRevisions = pgTable(
  'item_revisions',
  {
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    textHash: text('text_hash').notNull(),
    text: text('text').notNull(),
    source: text('source').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.textHash] })],
);

/**
 * Which items a program drew for which purpose (pilot, calibration round n, golden set). Drawing is
 * recorded before tasks exist, so a retried draw returns the same items and rounds never overlap.
 */
export const programItems = pgTable(
  'program_items',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    purpose: text('purpose').notNull(), // pilot | calibration/3 | golden-set
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId] }), index('program_items_purpose').on(t.programId, t.purpose)],
);

/**
 * How a program's items were selected: the spec's selection when it was registered (`spec`), and
 * each later catalog import into the program (`import`). `definition` is the selection as applied
 * (catalog file, locales, show ids, genres, updated since, sample). A program without a row was
 * registered before programs had item sets, and reads the whole catalog as it did then.
 */
export const programSelections = pgTable(
  'program_selections',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    kind: text('kind').notNull(), // spec | import
    definition: json<Record<string, unknown>>('definition').notNull(),
    /** Items this selection added to the set (an item already there is not counted again). */
    added: integer('added').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('program_selections_program').on(t.programId)],
);

/**
 * The program's item set: the only items its pilot, calibration and golden draws, production runs
 * and pre-launch read (catalog/item-set.ts). Two programs over one catalog each see their own.
 */
export const programItemSet = pgTable(
  'program_item_set',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    selectionId: bigint('selection_id', { mode: 'number' })
      .notNull()
      .references(() => programSelections.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId] })],
);
