/** The gateway's machine-readable contract, served at GET /openapi.json (docs/vendors.md is the prose one). */
import { z } from 'zod';
import { vendorEventSchema } from '../schema/vendor-events';
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
          '404': errorResponse("Unknown vendor, or a task or rater that is not this vendor's."),
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
    '/healthz': { get: { summary: 'Process is up', responses: { '200': { description: 'ok' } } } },
    '/readyz': {
      get: {
        summary: 'Database reachable',
        responses: { '200': { description: 'ready' }, '503': errorResponse('not ready') },
      },
    },
  },
};
