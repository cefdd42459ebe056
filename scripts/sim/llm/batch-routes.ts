/** The Files and Batch API endpoints (/v1/files, /v1/batches) over the simulator's BatchStore. */
import type { FastifyInstance } from 'fastify';
import { parseMultipart, type Batch, type BatchStore, type StoredFile } from './batches';
import { RequestError } from './errors';
import type { LlmSimStats } from './stats';

export function fileAndBatchRoutes(app: FastifyInstance, batches: BatchStore, stats: LlmSimStats) {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const publicFile = ({ content: _content, ...file }: StoredFile) => file;
  const fileOr404 = (id: string) => {
    const file = batches.files.get(id);
    if (!file) throw new RequestError(404, `No such File object: ${id}`, 'id', 'file_not_found');
    return file;
  };
  app.post('/v1/files', async (request) => {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data'))
      throw new RequestError(400, 'Upload files as multipart/form-data with fields purpose and file.', 'file');
    const { fields, files } = parseMultipart(request.body as Buffer, contentType);
    if (!fields.purpose)
      throw new RequestError(400, "Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    if (!files.file)
      throw new RequestError(400, "Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    return publicFile(batches.addFile(files.file.content, files.file.filename, fields.purpose));
  });
  app.get('/v1/files', async () => ({
    object: 'list',
    data: [...batches.files.values()].map(publicFile),
    has_more: false,
  }));
  app.get<{ Params: { id: string } }>('/v1/files/:id', async (req) => publicFile(fileOr404(req.params.id)));
  app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (req, reply) =>
    reply.type('application/octet-stream').send(fileOr404(req.params.id).content),
  );
  app.delete<{ Params: { id: string } }>('/v1/files/:id', async (req) => {
    fileOr404(req.params.id);
    batches.files.delete(req.params.id);
    return { id: req.params.id, object: 'file', deleted: true };
  });

  const batchOr404 = (id: string): Batch => {
    const batch = batches.batches.get(id);
    if (!batch) throw new RequestError(404, `No batch found with id '${id}'.`, 'batch_id', 'batch_not_found');
    return batch;
  };
  app.post('/v1/batches', async (request) => {
    const body = (request.body ?? {}) as {
      input_file_id?: unknown;
      endpoint?: unknown;
      completion_window?: unknown;
      metadata?: Record<string, string> | null;
    };
    if (typeof body.input_file_id !== 'string')
      throw new RequestError(
        400,
        "Missing required parameter: 'input_file_id'.",
        'input_file_id',
        'missing_required_parameter',
      );
    if (body.endpoint !== '/v1/chat/completions')
      throw new RequestError(
        400,
        "Invalid 'endpoint': the simulator batches '/v1/chat/completions' only.",
        'endpoint',
        'invalid_value',
      );
    if (body.completion_window !== '24h')
      throw new RequestError(
        400,
        "Invalid 'completion_window': only '24h' is supported.",
        'completion_window',
        'invalid_value',
      );
    const file = fileOr404(body.input_file_id);
    if (file.purpose !== 'batch')
      throw new RequestError(
        400,
        `File ${file.id} has purpose '${file.purpose}', expected 'batch'.`,
        'input_file_id',
        'invalid_value',
      );
    stats.batches.created++;
    return batches.create({
      input_file_id: file.id,
      endpoint: body.endpoint,
      completion_window: body.completion_window,
      metadata: body.metadata,
    });
  });
  app.get<{ Params: { id: string } }>('/v1/batches/:id', async (req) => batchOr404(req.params.id));
  app.post<{ Params: { id: string } }>('/v1/batches/:id/cancel', async (req) =>
    batches.cancel(batchOr404(req.params.id)),
  );
  app.get<{ Querystring: { limit?: string; after?: string } }>('/v1/batches', async (req) => {
    const all = [...batches.batches.values()].reverse();
    const from = req.query.after ? all.findIndex((b) => b.id === req.query.after) + 1 : 0;
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 20) || 20));
    const data = all.slice(from, from + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: from + limit < all.length,
    };
  });
}
