/**
 * The gateway's hot path: completions by the assigned, active (and, where the program asks,
 * qualified) rater of an open task in one of the rater's locales, with exactly the task's criteria and labels inside the
 * program's rules (human-tasks/label-rules.ts: each event is checked in memory against the rules
 * of the running programs, and the statement keeps it only for its task's program). Requests that
 * arrive while a statement is running are applied together by the next ONE statement (task update, labels, charge and inbox row for each), without the query
 * builder. One statement and one commit for many events is what makes the gateway fast on a small
 * machine: per-statement costs (a socket write each way, planning, the WAL flush of the commit)
 * dominate the per-row work. Every event still commits before its 2xx is sent.
 *
 * An event that changes nothing here (a duplicate delivery, a closed, foreign or mismatched task, a
 * label or rater the rules refuse, a program whose rules are not cached yet) comes back null: the
 * caller's general path answers every other case, with the reason.
 */
import type postgres from 'postgres';
import {
  labelProblem,
  LabelRulesCache,
  programLabelRules,
  type ProgramLabelRules,
  type RulesSpec,
} from '../human-tasks/label-rules';
import type { VendorRow } from '../vendors';
import type { VendorEvent } from '../schema/vendor-events';

export type Completion = Extract<VendorEvent, { type: 'task.completed' }>;

/** Applied (stored now), or null: nothing changed, the general path answers. */
export type CompletionOutcome = { status: 202; body: Record<string, unknown>; eventId: number; batchId: string } | null;

interface Pending {
  vendor: Pick<VendorRow, 'id' | 'rateCard'>;
  deliveryId: string;
  event: Completion;
  resolve(outcome: CompletionOutcome): void;
  reject(err: unknown): void;
}

/** Postgres error codes after which each event of the batch is retried on its own. */
const GUARD = '22012'; // division by zero: a task was updated but its inbox row was not written
const DEADLOCK = '40P01'; // two concurrent batches locked shared tasks in opposite orders
/** judgeflow_task_cost_usd refused a rate card (invalid_parameter_value): only its vendor's events should fail. */
const BAD_PRICE = '22023';

/**
 * Applies completions in batches: at most `maxConcurrent` statements run at once, each taking
 * every request queued so far (up to `maxBatch`). Under light load a batch is one event and adds
 * no wait; under heavy load batches grow and the statement count per event falls.
 */
export class CompletionBatcher {
  private queue: Pending[] = [];
  private running = 0;
  /** Shared with the general path, which loads a program's rules the first time it sees one. */
  readonly rules = new LabelRulesCache();
  constructor(
    private readonly sql: postgres.Sql,
    private readonly opts: { maxConcurrent: number; maxBatch: number },
  ) {}

  apply(vendor: Pick<VendorRow, 'id' | 'rateCard'>, deliveryId: string, event: Completion): Promise<CompletionOutcome> {
    // A repeated criterion is refused by the general path, with details.
    const given = event.labels.map((l) => l.criterion);
    if (new Set(given).size !== given.length) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.queue.push({ vendor, deliveryId, event, resolve, reject });
      this.next();
    });
  }

  private next() {
    while (this.running < this.opts.maxConcurrent && this.queue.length) {
      const batch = this.take();
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.next();
      });
    }
  }

  /** The next batch: one event per task and per delivery id (the others wait for a later batch). */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const seen = new Set<string>();
    for (const p of this.queue) {
      const keys = [`t\0${p.event.taskId}`, `d\0${p.vendor.id}\0${p.deliveryId}`];
      if (batch.length >= this.opts.maxBatch || keys.some((k) => seen.has(k))) rest.push(p);
      else {
        keys.forEach((k) => seen.add(k));
        batch.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Pending[]) {
    try {
      const rules = await this.rules.snapshot(() => runningPrograms(this.sql));
      const outcomes = await applyCompletions(this.sql, batch, rules);
      batch.forEach((p, i) => p.resolve(outcomes[i]));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === GUARD || code === DEADLOCK || code === BAD_PRICE) && batch.length > 1) {
        // Rare (a reused delivery id, crossed locks, a broken rate card): the batch rolled back whole; apply one by one.
        await Promise.all(batch.map((p) => this.run([p])));
      } else if (code === GUARD || code === DEADLOCK) batch[0].resolve(null);
      else batch.forEach((p) => p.reject(err));
    }
  }
}

const accepted = (event: Completion) => ({
  accepted: true,
  taskId: event.taskId,
  type: event.type,
  labels: event.labels.length,
});

/**
 * One atomic statement for the whole batch. If any task was updated without its inbox row being
 * written (its delivery id is already stored), a division by zero aborts the statement whole.
 * `rules` by program id; without them they are read for the batch's tasks first (one query more).
 */
export async function applyCompletions(
  sql: postgres.Sql,
  batch: Pick<Pending, 'vendor' | 'deliveryId' | 'event'>[],
  rules?: Record<string, ProgramLabelRules>,
): Promise<CompletionOutcome[]> {
  rules ??= await rulesOfTasks(
    sql,
    batch.map((p) => p.event.taskId),
  );
  const input = batch.map(({ vendor, deliveryId, event }, i) => ({
    i,
    vendor_id: vendor.id,
    rate_card: vendor.rateCard,
    delivery_id: deliveryId,
    task_id: event.taskId,
    rater_key: `${vendor.id}:${event.raterId}`,
    criteria: event.labels.map((l) => l.criterion),
    labels: event.labels.map((l) => ({
      criterion: l.criterion,
      value: l.value,
      explanation: l.explanation,
      error_codes: l.errorCodes,
    })),
    body: event,
    response: accepted(event),
    // The programs whose rules these labels meet: a check in memory per event, not per label in SQL.
    valid_programs: Object.keys(rules).filter((id) => !labelProblem(rules[id], event.labels, [])),
  }));
  const qualifying = Object.keys(rules).filter((id) => rules[id].qualification);
  // The input goes as text (then cast), so it does not depend on the client's json serializers.
  // The statement text never changes, so postgres.js prepares it once per connection.
  const rows = await sql<{ i: number; event_id: string; batch_id: string }[]>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::text::jsonb) as x(
        i int, vendor_id text, rate_card jsonb, delivery_id text, task_id text, rater_key text, criteria jsonb, labels jsonb, body jsonb, response jsonb, valid_programs jsonb)
    ), upd as (
      update tasks t
      set status = 'completed', completed_at = now(),
        cost_usd = judgeflow_task_cost_usd(x.rate_card, t.kind)
      from input x, task_batches b, raters r
      -- The id list lets the planner find each task by primary key: joined on the open-status
      -- index instead, every statement would read all open tasks of every batch. (Only a
      -- prefilter: an id containing the separator matches nothing and takes the general path.)
      where t.id = any(string_to_array(${batch.map((p) => p.event.taskId).join('\n')}::text, E'\n')) and t.id = x.task_id and b.id = t.batch_id and t.vendor_id = x.vendor_id and t.rater_id = x.rater_key
        and t.kind <> 'write' and t.status in ('pending', 'dispatched')
        and t.payload -> 'criteria' @> x.criteria and jsonb_array_length(t.payload -> 'criteria') = jsonb_array_length(x.criteria)
        and r.id = x.rater_key and r.status = 'active'
        -- A rater with locales answers only in them (inbox.ts words the refusal).
        and (not (r.qualification ? 'locales') or r.qualification -> 'locales' ? (select i.locale from items i where i.id = t.item_id))
        -- The labels meet the rules of the task's program (label-rules.ts); a program not cached yet takes the general path.
        and x.valid_programs ? t.program_id
        and (not (${JSON.stringify(qualifying)}::text::jsonb ? t.program_id) or t.payload ->> 'qualification' = 'true'
          or exists (select 1 from rater_qualifications q where q.program_id = t.program_id and q.rater_id = x.rater_key and q.status = 'passed'
            and q.locale = (select i.locale from items i where i.id = t.item_id)))
      returning x.i, x.vendor_id, x.delivery_id, x.rater_key, x.labels, x.body, x.response,
        t.id, t.program_id, t.item_id, t.guideline_version, t.batch_id, t.cost_usd, b.phase, b.round
    ), lab as (
      insert into labels (task_id, program_id, item_id, rater_id, criterion, value, explanation, error_codes, guideline_version, phase, round)
      select upd.id, upd.program_id, upd.item_id, upd.rater_key, l.criterion, l.value, l.explanation, l.error_codes, upd.guideline_version, upd.phase, upd.round
      from upd, jsonb_to_recordset(upd.labels) as l(criterion text, value int, explanation text, error_codes jsonb)
      on conflict do nothing
    ), led as (
      insert into usage_ledger (request_key, program_id, phase, kind, vendor_id, cost_usd)
      select upd.id, upd.program_id, upd.phase, 'human_task', upd.vendor_id, upd.cost_usd from upd
      on conflict do nothing
    ), ev as (
      insert into vendor_events (vendor_id, delivery_id, type, task_id, body, response_status, response_body, disposition)
      select upd.vendor_id, upd.delivery_id, 'task.completed', upd.id, upd.body, 202, upd.response, 'applied' from upd
      on conflict do nothing
      returning id, vendor_id, delivery_id
    ), done as (
      select upd.i, upd.batch_id, ev.id as event_id from upd left join ev on ev.vendor_id = upd.vendor_id and ev.delivery_id = upd.delivery_id
    )
    select done.i, done.event_id, done.batch_id, 1 / (case when exists (select 1 from done where done.event_id is null) then 0 else 1 end) as guard
    from done`;
  const out: CompletionOutcome[] = batch.map(() => null);
  for (const r of rows)
    out[r.i] = { status: 202, body: input[r.i].response, eventId: Number(r.event_id), batchId: r.batch_id };
  return out;
}

/** The rules of the programs these tasks belong to (for callers without a cache). */
async function rulesOfTasks(sql: postgres.Sql, taskIds: string[]): Promise<Record<string, ProgramLabelRules>> {
  const rows = await sql<{ id: string; spec: RulesSpec }[]>`
    select p.id, p.spec from programs p where p.id in (select program_id from tasks where id = any(${taskIds}))`;
  return Object.fromEntries(rows.map((r) => [r.id, programLabelRules(r.spec)]));
}

/** Programs that may still receive completions (a finished program's tasks are closed). */
const runningPrograms = (sql: postgres.Sql) =>
  sql<{ id: string; spec: RulesSpec }[]>`
    select id, spec from programs where status not in ('completed', 'cancelled', 'failed')`;
