/**
 * The Batch API: files (upload, metadata, content) and batches that move through
 * validating → in_progress → finalizing → completed (or failed / cancelling → cancelled), in memory.
 * Each request line is answered by the same code as /v1/chat/completions.
 */
import { randomBytes } from 'node:crypto';
import { EVENT_LOOP_SLICE, yieldToEventLoop } from '../../../platform/event-loop';

export interface StoredFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  expires_at: number | null;
  status_details: null;
  content: Buffer;
}

export interface BatchError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

export interface Batch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

// a random prefix per process and a counter: unique without paying for randomness per request
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
export const newId = (prefix: string) => `${prefix}_sim${ID_PREFIX}${(++idCounter).toString(36).padStart(6, '0')}`;
const now = () => Math.floor(Date.now() / 1000);

export interface BatchTiming {
  validatingMs: number;
  msPerRequest: number;
  finalizingMs: number;
  /** A batch still running this long after it was created expires (0: never, the 24 h window is not simulated). */
  expireAfterMs: number;
}

/** Answers one request line's body: status code and response body. */
export type LineHandler = (body: unknown) => { status: number; body: unknown };

export class BatchStore {
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, Batch>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly timing: BatchTiming,
    private readonly handle: LineHandler,
    private readonly onDone: (b: Batch) => void,
  ) {}

  addFile(content: Buffer, filename: string, purpose: string): StoredFile {
    const file: StoredFile = {
      id: newId('file'),
      object: 'file',
      bytes: content.length,
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      expires_at: null,
      status_details: null,
      content,
    };
    this.files.set(file.id, file);
    return file;
  }

  create(input: {
    input_file_id: string;
    endpoint: string;
    completion_window: string;
    metadata?: Record<string, string> | null;
  }): Batch {
    const created = now();
    const batch: Batch = {
      id: newId('batch'),
      object: 'batch',
      endpoint: input.endpoint,
      errors: null,
      input_file_id: input.input_file_id,
      completion_window: input.completion_window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + 24 * 3600,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: input.metadata ?? null,
    };
    this.batches.set(batch.id, batch);
    void this.run(batch);
    return batch;
  }

  cancel(batch: Batch): Batch {
    if (batch.status === 'validating' || batch.status === 'in_progress') {
      batch.status = 'cancelling';
      batch.cancelling_at = now();
    }
    return batch;
  }

  close() {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private fail(batch: Batch, errors: BatchError[]) {
    batch.status = 'failed';
    batch.failed_at = now();
    batch.errors = { object: 'list', data: errors };
    this.onDone(batch);
  }

  private async run(batch: Batch) {
    const started = Date.now();
    await this.sleep(this.timing.validatingMs);
    if (this.closed) return;
    const input = this.files.get(batch.input_file_id);
    if (!input)
      return this.fail(batch, [
        { code: 'invalid_file', message: `No such file: ${batch.input_file_id}`, line: null, param: 'input_file_id' },
      ]);
    const lines: Array<{ custom_id: string; body: unknown }> = [];
    const errors: BatchError[] = [];
    const ids = new Set<string>();
    input.content
      .toString('utf8')
      .split('\n')
      .forEach((text, i) => {
        if (!text.trim()) return;
        let line: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
        try {
          line = JSON.parse(text) as typeof line;
        } catch {
          errors.push({ code: 'invalid_json_line', message: 'This line is not valid JSON.', line: i + 1, param: null });
          return;
        }
        if (typeof line.custom_id !== 'string' || !line.custom_id)
          errors.push({
            code: 'missing_required_parameter',
            message: 'custom_id is required.',
            line: i + 1,
            param: 'custom_id',
          });
        else if (ids.has(line.custom_id))
          errors.push({
            code: 'duplicate_custom_id',
            message: `The custom_id ${line.custom_id} is used more than once.`,
            line: i + 1,
            param: 'custom_id',
          });
        else if (line.url !== batch.endpoint)
          errors.push({
            code: 'invalid_url',
            message: `The url must be ${batch.endpoint}.`,
            line: i + 1,
            param: 'url',
          });
        else if (line.method !== 'POST')
          errors.push({ code: 'invalid_method', message: 'The method must be POST.', line: i + 1, param: 'method' });
        else {
          ids.add(line.custom_id);
          lines.push({ custom_id: line.custom_id, body: line.body });
        }
      });
    if (errors.length || lines.length === 0) {
      return this.fail(
        batch,
        errors.length
          ? errors
          : [{ code: 'empty_file', message: 'The input file has no requests.', line: null, param: null }],
      );
    }
    if (batch.status === 'cancelling') return this.finish(batch, [], []);
    batch.status = 'in_progress';
    batch.in_progress_at = now();
    batch.request_counts.total = lines.length;
    const output: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (this.closed) return;
      if ((batch.status as Batch['status']) === 'cancelling') break; // cancel() runs between awaits
      if (this.timing.expireAfterMs > 0 && Date.now() - started >= this.timing.expireAfterMs) {
        // As the provider does: what ran is in the output file, every line that did not is in the error file.
        for (const { custom_id } of lines.slice(i)) {
          failed.push(
            JSON.stringify({
              id: newId('batch_req'),
              custom_id,
              response: null,
              error: {
                code: 'batch_expired',
                message: 'This request could not be executed before the completion window expired.',
              },
            }),
          );
          batch.request_counts.failed++;
        }
        return this.finish(batch, output, failed, 'expired');
      }
      if (this.timing.msPerRequest > 0) await this.sleep(this.timing.msPerRequest);
      else if (i % EVENT_LOOP_SLICE === EVENT_LOOP_SLICE - 1) await yieldToEventLoop(); // keep the server responsive
      const { custom_id, body } = lines[i];
      const result = this.handle(body);
      const record = JSON.stringify({
        id: newId('batch_req'),
        custom_id,
        response: { status_code: result.status, request_id: newId('req'), body: result.body },
        error: null,
      });
      if (result.status === 200) {
        output.push(record);
        batch.request_counts.completed++;
      } else {
        failed.push(record);
        batch.request_counts.failed++;
      }
    }
    await this.finish(batch, output, failed);
  }

  private async finish(batch: Batch, output: string[], failed: string[], end?: 'expired') {
    const cancelled = batch.status === 'cancelling';
    if (!cancelled && !end) {
      batch.status = 'finalizing';
      batch.finalizing_at = now();
      await this.sleep(this.timing.finalizingMs);
      if (this.closed) return;
    }
    if (output.length)
      batch.output_file_id = this.addFile(
        Buffer.from(`${output.join('\n')}\n`),
        `${batch.id}_output.jsonl`,
        'batch_output',
      ).id;
    if (failed.length)
      batch.error_file_id = this.addFile(
        Buffer.from(`${failed.join('\n')}\n`),
        `${batch.id}_error.jsonl`,
        'batch_output',
      ).id;
    if (end === 'expired') {
      batch.status = 'expired';
      batch.expired_at = now();
    } else if (cancelled) {
      batch.status = 'cancelled';
      batch.cancelled_at = now();
    } else {
      batch.status = 'completed';
      batch.completed_at = now();
    }
    this.onDone(batch);
  }
}

/** Minimal multipart/form-data parser: the fields and files of an upload. */
export function parseMultipart(
  body: Buffer,
  contentType: string,
): { fields: Record<string, string>; files: Record<string, { filename: string; content: Buffer }> } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields: Record<string, string> = {};
  const files: Record<string, { filename: string; content: Buffer }> = {};
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const content = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      if (name !== undefined) {
        if (filename !== undefined) files[name] = { filename, content: Buffer.from(content) };
        else fields[name] = content.toString('utf8');
      }
    }
    start = next;
  }
  return { fields, files };
}
