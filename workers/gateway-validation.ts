/**
 * What the gateway refuses and how it says so: the documented error body
 * (`{ error: { code, message, details? } }`, docs/vendors.md) and the checks of a delivery's id
 * and body that produce it.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { unstorableText, vendorEventSchema, type VendorEvent } from '../schema/vendor-events';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const sendError = (reply: FastifyReply, status: number, code: string, message: string, details?: unknown) =>
  reply.code(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });

export function parseEvent(raw: string): VendorEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not JSON: ${(err as Error).message}`);
  }
  try {
    return vendorEventSchema.parse(json);
  } catch (err) {
    throw invalidBody(err);
  }
}

/** Why a delivery id cannot key the inbox (it is stored as text and in a unique index), or null. */
export function deliveryIdProblem(deliveryId: string): string | null {
  if (deliveryId.length > 200) return 'must be at most 200 characters';
  return unstorableText(deliveryId);
}

export function checkDeliveryId(deliveryId: string) {
  const problem = deliveryIdProblem(deliveryId);
  if (problem) throw new HttpError(400, 'bad_webhook_id', `webhook-id ${problem}`);
}

export function invalidBody(err: unknown): HttpError {
  if (err instanceof z.ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
    // The message names the fields, so a vendor's log line alone says what to fix.
    const named = issues
      .slice(0, 3)
      .map((i) => `${i.path || '(root)'}: ${i.message}`)
      .join('; ');
    const more = issues.length > 3 ? ` and ${issues.length - 3} more` : '';
    return new HttpError(
      400,
      'invalid_event',
      `the event does not match the schema at ${named}${more} (details list every issue; see /openapi.json)`,
      issues,
    );
  }
  if (err instanceof SyntaxError) return new HttpError(400, 'invalid_json', `the body is not JSON: ${err.message}`);
  return err as HttpError;
}
