/**
 * The generic HTTP vendor: judgeflow POSTs signed JSON to the vendor's endpoint (same Standard
 * Webhooks scheme as inbound events, with the vendor's first active secret):
 *   POST {endpoint}          {tasks: TaskDispatch[]}   create tasks (idempotent by taskId)
 *   POST {endpoint}/cancel   {taskIds}                 withdraw tasks
 *   POST {endpoint}/remind   {taskIds}                 overdue reminder
 *   GET  {endpoint}/raters                             {raters: [{id, qualification}]}
 *   POST {endpoint}/guidelines GuidelinesNotice        a revision applies to open tasks
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { raterListSchema, type GuidelinesNotice, type TaskDispatch } from '../schema/vendor-events';
import type { VendorAdapter, VendorRow } from './adapter';
import { vendorFailure, vendorRequestFailure } from './errors';
import { signHeaders } from './signing';

const TIMEOUT_MS = 15_000;

export function createHttpVendorAdapter(vendor: VendorRow): VendorAdapter {
  if (!vendor.endpoint)
    throw ApplicationFailure.nonRetryable(
      `vendor ${vendor.id} has no endpoint: set one in the spec or with \`judgeflow program vendor\``,
      'VendorMisconfigured',
    );
  const endpoint = vendor.endpoint.replace(/\/$/, '');
  const secret = vendor.secrets[0];

  // The delivery id is derived from the content, so a retried activity re-sends the same delivery.
  const send = async (method: 'GET' | 'POST', path: string, body: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const deliveryId = `jf_${createHash('sha256').update(`${method} ${path} ${text}`).digest('hex').slice(0, 32)}`;
    const url = `${endpoint}${path}`;
    const what = `${method} ${path || '/'}`;
    const res = await fetch(url, {
      method,
      headers: {
        ...signHeaders(secret, text, deliveryId),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : text,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw vendorRequestFailure(vendor.id, what, url, err);
    });
    if (!res.ok) throw await vendorFailure(vendor.id, what, res);
    return res;
  };

  return {
    async dispatch(tasks: TaskDispatch[]) {
      if (tasks.length) await send('POST', '', { tasks });
    },
    async cancel(taskIds: string[]) {
      if (taskIds.length) await send('POST', '/cancel', { taskIds });
    },
    async remind(taskIds: string[]) {
      if (taskIds.length) await send('POST', '/remind', { taskIds });
    },
    async notifyGuidelines(notice: GuidelinesNotice) {
      await send('POST', '/guidelines', notice);
    },
    async listRaters() {
      const res = await send('GET', '/raters', undefined);
      const parsed = raterListSchema.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success)
        throw new Error(
          `vendor ${vendor.id} answered GET /raters with no valid rater list: ${parsed.error.issues
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
            .slice(0, 3)
            .join('; ')}`,
        );
      return parsed.data.raters;
    },
  };
}
