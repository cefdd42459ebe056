/**
 * Label Studio (open source) as a vendor. Tasks are imported into a project through its REST API
 * with judgeflow's task id in `data.judgeflow_task_id`; annotations come back through a Label
 * Studio webhook (ANNOTATION_CREATED / ANNOTATION_UPDATED) to
 * `POST /v1/vendors/:vendorId/label-studio`, which the gateway translates into `task.completed`
 * (a skipped task, i.e. a cancelled annotation, into `task.declined`).
 * Label Studio webhooks are not signed (static custom headers only) and never retried, so the
 * gateway checks a static token header and then re-reads the annotation from the API
 * (`annotation`): only what Label Studio itself holds is stored. `poll` lists the annotations saved
 * since the last poll: the gateway stores them through the same inbox under the same delivery id,
 * so an annotation that arrived both ways is one event, and one whose webhook was lost still arrives.
 *
 * Vendor config: { projectId: number, apiTokenEnv?: string, apiToken?: string }. The project's
 * labeling config and instructions are generated from the guideline version's rater packet
 * (label-studio-config.ts) and updated when a revision is published (`applyGuidelines`).
 */
import { z } from 'zod';
import {
  storableText,
  type LabelInput,
  type RaterPacket,
  type TaskDispatch,
  type VendorEvent,
} from '../schema/vendor-events';
import type { PolledEvent, VendorAdapter, VendorRow } from './adapter';
import { vendorFailure } from './errors';
import {
  choiceValue,
  ERRORS_SUFFIX,
  EXPLANATION_SUFFIX,
  labelStudioConfig,
  labelStudioInstructions,
} from './label-studio-config';

const TIMEOUT_MS = 15_000;
const PAGE_SIZE = 500;
/**
 * A poll re-reads tasks saved up to this long before the newest annotation it has seen: Label
 * Studio stamps `updated_at` before its transaction commits, so a save can become visible after
 * a later one. Re-read annotations are the same deliveries and change nothing.
 */
const POLL_OVERLAP_MS = 120_000;

const configSchema = z.object({
  projectId: z.coerce.number().int().positive(),
  apiTokenEnv: z.string().optional(),
  apiToken: z.string().optional(),
});

const lsTaskSchema = z.object({ id: z.number(), data: z.record(z.string(), z.unknown()) });

export interface LabelStudioAdapter extends VendorAdapter {
  /** The annotation as Label Studio holds it (`GET /api/annotations/:id/`), or null if it has none by that id. */
  annotation(id: number): Promise<(Annotation & { task?: number }) | null>;
}

export function createLabelStudioAdapter(
  vendor: VendorRow,
  env: Record<string, string | undefined>,
): LabelStudioAdapter {
  const config = configSchema.parse(vendor.config);
  const token = config.apiToken ?? (config.apiTokenEnv ? env[config.apiTokenEnv] : undefined);
  if (!token)
    throw new Error(`label-studio vendor ${vendor.id}: set config.apiTokenEnv to the variable holding the API token`);
  if (!vendor.endpoint) throw new Error(`label-studio vendor ${vendor.id} has no endpoint`);
  const base = vendor.endpoint.replace(/\/$/, '');

  const call = async (method: string, path: string, body?: unknown, missing?: 404) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Token ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (res.status === missing) return null;
    if (!res.ok) throw await vendorFailure(vendor.id, `${method} ${path}`, res);
    return res;
  };
  /** The project settings last applied by this adapter, so an unchanged packet costs nothing. */
  let applied: string | null = null;

  /** Every task of the project (with its annotations when `fields=all`), page by page. */
  const listTasks = async (params: string): Promise<unknown[]> => {
    const all: unknown[] = [];
    for (let page = 1; ; page++) {
      const res = await fetch(
        `${base}/api/tasks?project=${config.projectId}&page=${page}&page_size=${PAGE_SIZE}${params}`,
        {
          headers: { authorization: `Token ${token}` },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        },
      );
      if (res.status === 404) break; // past the last page
      if (!res.ok) throw await vendorFailure(vendor.id, 'GET /api/tasks', res);
      const json = (await res.json()) as { tasks?: unknown[] } | unknown[];
      const list = Array.isArray(json) ? json : (json.tasks ?? []);
      all.push(...list);
      if (list.length < PAGE_SIZE) break;
    }
    return all;
  };

  /** Label Studio has no idempotent import, so existing tasks are looked up by judgeflow id first. */
  const existing = async (): Promise<Map<string, number>> => {
    const found = new Map<string, number>();
    for (const t of z.array(lsTaskSchema).parse(await listTasks('')))
      if (typeof t.data.judgeflow_task_id === 'string') found.set(t.data.judgeflow_task_id, t.id);
    return found;
  };

  return {
    async dispatch(tasks: TaskDispatch[]) {
      const known = await existing();
      const fresh = tasks.filter((t) => !known.has(t.taskId));
      if (fresh.length) await call('POST', `/api/projects/${config.projectId}/import`, fresh.map(toLabelStudioTask));
    },
    async applyGuidelines(packet: RaterPacket) {
      const settings = {
        label_config: labelStudioConfig(packet),
        expert_instruction: labelStudioInstructions(packet),
        show_instruction: true,
      };
      const wanted = JSON.stringify(settings);
      if (applied === wanted) return;
      // Another worker (or an earlier process) may have applied it already: PATCH only what differs.
      const path = `/api/projects/${config.projectId}/`;
      const project = z
        .object({ label_config: z.string().nullish(), expert_instruction: z.string().nullish() })
        .parse(await (await call('GET', path))!.json());
      if (project.label_config !== settings.label_config || project.expert_instruction !== settings.expert_instruction)
        await call('PATCH', path, settings);
      applied = wanted;
    },
    async annotation(id: number) {
      const res = await call('GET', `/api/annotations/${id}/`, undefined, 404);
      return res && annotationSchema.extend({ task: z.number().optional() }).parse(await res.json());
    },
    async cancel(taskIds: string[]) {
      const known = await existing();
      for (const id of taskIds) {
        const lsId = known.get(id);
        if (lsId !== undefined) await call('DELETE', `/api/tasks/${lsId}`);
      }
    },
    async poll(cursor: string | null) {
      // Saving an annotation also saves its task (Label Studio's Annotation.update_task), so the
      // Data Manager's updated_at filter finds every task with an annotation saved since then.
      const since = cursor === null ? null : new Date(Date.parse(cursor) - POLL_OVERLAP_MS).toISOString();
      const filter = since && {
        filters: {
          conjunction: 'and',
          items: [{ filter: 'filter:tasks:updated_at', operator: 'greater', type: 'Datetime', value: since }],
        },
      };
      const listed = z
        .array(annotatedTaskSchema)
        .parse(await listTasks(`&fields=all${filter ? `&query=${encodeURIComponent(JSON.stringify(filter))}` : ''}`));
      const events: PolledEvent[] = [];
      let next = cursor;
      for (const task of listed) {
        if (typeof task.data.judgeflow_task_id !== 'string') continue; // not a judgeflow task
        for (const annotation of task.annotations) {
          const translated = translateAnnotation(task.data.judgeflow_task_id, annotation, 'ANNOTATION_UPDATED');
          // Refused exactly as its webhook is: an answer with a choice judgeflow does not offer is never stored.
          const usable = !translated.unknownChoices.length;
          if (usable && (since === null || Date.parse(translated.updatedAt) > Date.parse(since)))
            events.push({ deliveryId: translated.deliveryId, event: translated.event });
          if (next === null || Date.parse(translated.updatedAt) > Date.parse(next)) next = translated.updatedAt;
        }
      }
      return { events, cursor: next };
    },
    async listRaters() {
      const res = await call('GET', '/api/users');
      const users = z.array(z.object({ id: z.number() })).parse(await res!.json());
      return users.map((u) => ({ id: String(u.id), qualification: {} }));
    },
  };
}

export function toLabelStudioTask(t: TaskDispatch) {
  return {
    data: {
      judgeflow_task_id: t.taskId,
      text: t.item.text,
      title: String(t.show.title ?? ''),
      criteria: t.criteria.join(', '),
      guideline_version: t.guidelineVersion,
      assigned_to: t.raterId,
    },
  };
}

const annotationSchema = z
  .object({
    id: z.number(),
    completed_by: z.union([z.number(), z.object({ id: z.number() }).passthrough()]),
    was_cancelled: z.boolean().optional(),
    result: z.array(
      z.object({ from_name: z.string(), type: z.string(), value: z.record(z.string(), z.unknown()) }).passthrough(),
    ),
    updated_at: z.string().optional(),
  })
  .passthrough();
export type Annotation = z.infer<typeof annotationSchema>;
/** A choice of the annotation that no generated labeling config offers. */
export interface UnknownChoice {
  field: string;
  choices: unknown;
}
/** One annotation translated: the event, its delivery id, and the choices that make it unusable. */
export interface TranslatedAnnotation {
  deliveryId: string;
  updatedAt: string;
  event: VendorEvent;
  unknownChoices: UnknownChoice[];
}

// The webhook's fields become the event's task id and delivery id: validated here, so a refusal
// names the Label Studio field (the event itself is validated by the gateway like any other).
const webhookSchema = z.object({
  action: z.string(),
  task: z
    .object({ id: z.number(), data: z.object({ judgeflow_task_id: storableText().min(1).max(300) }).passthrough() })
    .passthrough(),
  annotation: annotationSchema.extend({ updated_at: storableText().max(100).optional() }),
});

/** A task of `GET /api/tasks?fields=all`: its data and every annotation. */
const annotatedTaskSchema = z
  .object({
    id: z.number(),
    data: z.record(z.string(), z.unknown()),
    annotations: z.array(annotationSchema.extend({ updated_at: z.string() })),
  })
  .passthrough();

/**
 * A Label Studio webhook body → a judgeflow event and a stable delivery id, with the ids to confirm
 * it by (the annotation and its Label Studio task). Null for actions that carry no answer. Throws a
 * ZodError for a body that is not an annotation webhook.
 */
export function translateLabelStudioWebhook(
  body: unknown,
): (TranslatedAnnotation & { annotationId: number; labelStudioTaskId: number; action: string }) | null {
  const action = z.object({ action: z.string() }).parse(body).action;
  if (action !== 'ANNOTATION_CREATED' && action !== 'ANNOTATION_UPDATED') return null;
  const hook = webhookSchema.parse(body);
  return {
    ...translateAnnotation(hook.task.data.judgeflow_task_id, hook.annotation, action),
    annotationId: hook.annotation.id,
    labelStudioTaskId: hook.task.id,
    action,
  };
}

/**
 * One annotation → a judgeflow event, for the webhook and the poll alike. Label Studio sends no
 * delivery id: the annotation id and its update time identify one (the webhook and the REST API
 * format `updated_at` identically), so the same save seen both ways is one delivery.
 */
export function translateAnnotation(taskId: string, annotation: Annotation, action: string): TranslatedAnnotation {
  const raterId = String(
    typeof annotation.completed_by === 'number' ? annotation.completed_by : annotation.completed_by.id,
  );
  const updatedAt = annotation.updated_at ?? action;
  const deliveryId = `ls_${annotation.id}_${updatedAt}`;
  // A skipped task is stored as a cancelled annotation without a result: the rater declined it.
  if (annotation.was_cancelled)
    return {
      deliveryId,
      updatedAt,
      event: { type: 'task.declined', taskId, raterId, reason: 'skipped in Label Studio' },
      unknownChoices: [],
    };
  const explanations = new Map<string, string>();
  const labels: LabelInput[] = [];
  for (const r of annotation.result) {
    if (r.type === 'textarea' && r.from_name.endsWith(EXPLANATION_SUFFIX)) {
      const text = r.value.text;
      // Only strings count: String() of a deeply nested array would overflow the stack (a 500).
      explanations.set(
        r.from_name.slice(0, -EXPLANATION_SUFFIX.length),
        Array.isArray(text)
          ? text.filter((t) => typeof t === 'string').join('\n')
          : typeof text === 'string'
            ? text
            : '',
      );
    }
  }
  const unknownChoices: UnknownChoice[] = [];
  const strings = (v: unknown) => (Array.isArray(v) && v.every((c) => typeof c === 'string') ? (v as string[]) : null);
  // A refused choice is shown as it came when flat, else by its kind: a deeply nested value cannot
  // even be serialized into the answer (JSON.stringify overflows the stack: a 500).
  const shown = (v: unknown) =>
    v === null || typeof v !== 'object' || strings(v)
      ? v
      : Array.isArray(v)
        ? '(an array, not of strings)'
        : '(an object)';
  const errorCodes = new Map<string, string[]>();
  for (const r of annotation.result) {
    if (r.type !== 'choices' || !r.from_name.endsWith(ERRORS_SUFFIX)) continue;
    const codes = strings(r.value.choices);
    if (codes) errorCodes.set(r.from_name.slice(0, -ERRORS_SUFFIX.length), codes);
    else unknownChoices.push({ field: r.from_name, choices: shown(r.value.choices) });
  }
  for (const r of annotation.result) {
    if (r.type !== 'choices' || r.from_name.endsWith(ERRORS_SUFFIX)) continue;
    const chosen = strings(r.value.choices);
    const value = chosen?.length === 1 ? choiceValue(chosen[0]) : null;
    // A placeholder value keeps the event well-formed, so its other problems are reported too; it is never stored.
    if (value === null) unknownChoices.push({ field: r.from_name, choices: shown(r.value.choices) });
    labels.push({
      criterion: r.from_name,
      value: value ?? 0,
      explanation: explanations.get(r.from_name) ?? '',
      errorCodes: errorCodes.get(r.from_name) ?? [],
    });
  }
  return { deliveryId, updatedAt, event: { type: 'task.completed', taskId, raterId, labels }, unknownChoices };
}
