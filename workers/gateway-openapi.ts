/** The gateway's machine-readable contract, served at GET /openapi.json (docs/vendors.md is the prose one). */
import { z } from 'zod';
import { guidelinesNoticeSchema, raterPacketSchema, vendorEventSchema } from '../schema/vendor-events';
import { LABEL_STUDIO_TOKEN_HEADER } from './gateway-label-studio';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema } },
});

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'judgeflow vendor gateway',
    version: '1',
    description: 'Vendors post task events here. See docs/vendors.md.',
  },
  webhooks: {
    'guidelines.published': {
      post: {
        summary: 'Sent to POST {endpoint}/guidelines when a guideline revision is published (signed like dispatches)',
        requestBody: {
          content: { 'application/json': { schema: z.toJSONSchema(guidelinesNoticeSchema) } },
        },
        responses: { '200': { description: 'Any 2xx acknowledges it; other answers are retried.' } },
      },
    },
  },
  paths: {
    '/v1/vendors/{vendorId}/events': {
      post: {
        summary: 'Post one task event (Standard Webhooks signed)',
        parameters: [
          { name: 'vendorId', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'webhook-id',
            in: 'header',
            required: true,
            schema: { type: 'string', maxLength: 200 },
            description: 'Stable per delivery: a retry reuses it.',
          },
          {
            name: 'webhook-timestamp',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: 'Unix seconds.',
          },
          {
            name: 'webhook-signature',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: 'v1,<base64 HMAC-SHA256 of id.timestamp.body>',
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: z.toJSONSchema(vendorEventSchema, { io: 'input' }) } },
        },
        responses: {
          '202': {
            description:
              'Stored and applied. A duplicate delivery gets the original answer with header x-judgeflow-duplicate: true.',
          },
          '400': errorResponse(
            'Invalid JSON, schema violation (details list the paths), or labels that do not match the task.',
          ),
          '401': errorResponse('Missing headers, timestamp out of range, or no signature matching an active secret.'),
          '403': errorResponse(
            "rater_paused: the rater is paused (or disqualified) and answers nothing; rater_not_qualified_for_locale: the task's item is in a locale the rater does not rate in (their qualification.locales); rater_not_qualified: the rater lacks the qualification of a task routed to them, or has not passed the program's qualification batch (only its qualification tasks are open to them).",
          ),
          '404': errorResponse(
            "Unknown vendor, or a task or rater that is not this vendor's (another vendor's rater is an unknown rater).",
          ),
          '422': errorResponse(
            "label_out_of_scale: a value outside its criterion's scale (binary 0..1, Likert 1..points); unknown_error_code: a code outside the program's taxonomy; error_code_of_other_criterion: a taxonomy code of another criterion. details name the criterion, value or code.",
          ),
          '409': errorResponse(
            'The task is closed (completed, reassigned, expired, cancelled): the answer is kept for audit, not applied.',
          ),
          '413': errorResponse('Body larger than the limit.'),
          '415': errorResponse('Content-Type is not application/json.'),
          '429': errorResponse('Overloaded: retry after the Retry-After header.'),
        },
      },
    },
    '/v1/vendors/{vendorId}/label-studio': {
      post: {
        summary: `Label Studio annotation webhook (static token header ${LABEL_STUDIO_TOKEN_HEADER})`,
        responses: {
          '202': { description: 'Stored and applied as task.completed.' },
          '200': { description: 'Action without an answer, ignored.' },
        },
      },
    },
    '/v1/vendors/{vendorId}/guidelines/{programId}/{version}': {
      get: {
        summary: 'The rater packet of a guideline version (a number, or latest)',
        description:
          'Opened by the signed link a dispatch or a guidelines.published notice carries (expires, signature), or by Standard Webhooks headers signed over the request path as the body.',
        parameters: [
          { name: 'vendorId', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'programId', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'version',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^([1-9][0-9]*|latest)$' },
          },
          { name: 'expires', in: 'query', schema: { type: 'string' }, description: 'Unix seconds (signed link).' },
          { name: 'signature', in: 'query', schema: { type: 'string' }, description: 'Signed link.' },
          { name: 'webhook-id', in: 'header', schema: { type: 'string' } },
          { name: 'webhook-timestamp', in: 'header', schema: { type: 'string' } },
          { name: 'webhook-signature', in: 'header', schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'The packet.',
            content: { 'application/json': { schema: z.toJSONSchema(raterPacketSchema) } },
          },
          '400': errorResponse('bad_version: the version is neither a positive integer nor latest.'),
          '401': errorResponse(
            'link_expired, bad_link_signature (signed link); missing_headers, timestamp_out_of_range, bad_signature (headers).',
          ),
          '404': errorResponse(
            "vendor_not_found; guidelines_not_found: no such program or version, or the program is not this vendor's.",
          ),
        },
      },
    },
    '/healthz': { get: { summary: 'Process is up', responses: { '200': { description: 'ok' } } } },
    '/readyz': {
      get: {
        summary: 'Database reachable',
        responses: { '200': { description: 'ready' }, '503': errorResponse('not ready') },
      },
    },
  },
};
