/**
 * Runs the Label Studio adapter against a REAL Label Studio and records what the server returned,
 * for the contract test in CI (vendors/label-studio.test.ts), which cannot start Label
 * Studio in time. Usage:
 *
 *   pip install label-studio            # once (a Python venv is fine)
 *   LABEL_STUDIO_USERNAME=jf@example.com LABEL_STUDIO_PASSWORD=… \
 *   LABEL_STUDIO_USER_TOKEN=<40 hex chars> LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
 *   SSRF_PROTECTION_ENABLED=false \            # lets it call the webhook capture server on loopback
 *     label-studio start --no-browser --port 8089
 *   npx tsx scripts/label-studio-check.ts --url http://127.0.0.1:8089 --token <the same token>
 *
 * It creates a project with one pass/fail <Choices> per criterion, replaces its labeling config and
 * instructions with the ones generated from a rater packet, registers a webhook to a local
 * capture server, dispatches tasks twice through the adapter (the second must import nothing),
 * lists users as raters, annotates a task through the API (Label Studio then calls the webhook),
 * translates the captured webhook, re-reads the annotation as the gateway does, polls (all, then after updating the annotation and skipping a
 * task, only what changed since the cursor), cancels a task, and writes every response to
 * test/fixtures/label-studio/recorded.json.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Command } from 'commander';
import { createLabelStudioAdapter, translateLabelStudioWebhook } from '../vendors/label-studio';
import type { VendorRow } from '../vendors';
import type { TaskDispatch } from '../schema/vendor-events';

const OUT = path.resolve(__dirname, '../test/fixtures/label-studio/recorded.json');
const CRITERIA = ['tone', 'clarity'];
const LABEL_CONFIG = `<View>
  <Text name="text" value="$text"/>
  ${CRITERIA.map(
    (c) => `<Choices name="${c}" toName="text" choice="single"><Choice value="pass"/><Choice value="fail"/></Choices>
  <TextArea name="${c}_explanation" toName="text"/>`,
  ).join('\n  ')}
</View>`;

async function main() {
  const opts = new Command()
    .requiredOption('--url <url>')
    .requiredOption('--token <token>')
    .parse()
    .opts<{ url: string; token: string }>();
  const base = opts.url.replace(/\/$/, '');
  // Label Studio's REST answers are explored and recorded as they come, not modelled.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const api = async (method: string, p: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Token ${opts.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const recorded: Record<string, any> = { labelStudioVersion: await api('GET', '/api/version').catch(() => null) };

  // Capture server for Label Studio's webhook calls.
  const captured: { headers: http.IncomingHttpHeaders; body: unknown }[] = [];
  const capture = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      captured.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  try {
    const project = await api('POST', '/api/projects', {
      title: `judgeflow check ${new Date().toISOString()}`,
      label_config: LABEL_CONFIG,
    });
    recorded.project = { id: project.id };
    const webhook = await api('POST', '/api/webhooks', {
      project: project.id,
      url: `http://127.0.0.1:${(capture.address() as AddressInfo).port}/v1/vendors/studio/label-studio`,
      send_payload: true,
      send_for_all_actions: false,
      actions: ['ANNOTATION_CREATED', 'ANNOTATION_UPDATED'],
      headers: { 'x-judgeflow-token': 'static-token' },
    });
    recorded.webhook = webhook;

    const vendor = {
      id: 'studio',
      kind: 'label-studio',
      endpoint: base,
      secrets: ['static-token'],
      rateCard: {},
      config: { projectId: project.id, apiToken: opts.token },
    } as unknown as VendorRow;
    const adapter = createLabelStudioAdapter(vendor, {});
    const dispatch = (i: number): TaskDispatch => ({
      taskId: `check-batch:item-${i}:0:0`,
      batchId: 'check-batch',
      programId: 'check',
      kind: 'rate',
      raterId: '1',
      item: { id: `item-${i}`, textHash: 'h', text: `A simulated synopsis number ${i}.`, locale: 'en-US' },
      show: { title: `Show ${i}` },
      criteria: CRITERIA,
      guidelineVersion: 1,
      dueAt: new Date().toISOString(),
      context: {},
    });
    // The labeling config generated from a packet (with an error-code multi-select) must be accepted.
    await adapter.applyGuidelines!({
      programId: 'check',
      programName: 'judgeflow check',
      version: 1,
      publishedAt: new Date().toISOString(),
      note: 'check',
      guidelines: 'Rate each criterion pass or fail.',
      criteria: CRITERIA.map((id) => ({
        id,
        name: id,
        description: `the ${id} criterion`,
        rubric: `Pass when the ${id} is right.`,
        scale: 'binary',
        values: [
          { value: 1, label: 'pass' },
          { value: 0, label: 'fail' },
        ],
        errorCodes: [{ code: `${id.toUpperCase()}_OFF`, description: `${id} is off` }],
      })),
      goldExamples: [],
    });
    recorded.projectAfterApply = await api('GET', `/api/projects/${project.id}/`);
    await adapter.dispatch([dispatch(1), dispatch(2)]);
    await adapter.dispatch([dispatch(1), dispatch(2), dispatch(3)]); // a retry: only item 3 is new
    const tasksPage = await api('GET', `/api/tasks?project=${project.id}&page=1&page_size=500`);
    recorded.tasksPage = tasksPage;
    const list = (Array.isArray(tasksPage) ? tasksPage : tasksPage.tasks) as {
      id: number;
      data: { judgeflow_task_id: string };
    }[];
    recorded.importedOnce = list.length === 3 && new Set(list.map((t) => t.data.judgeflow_task_id)).size === 3;
    recorded.raters = await adapter.listRaters();
    recorded.users = await api('GET', '/api/users');

    const target = list.find((t) => t.data.judgeflow_task_id === 'check-batch:item-1:0:0')!;
    recorded.annotation = await api('POST', `/api/tasks/${target.id}/annotations`, {
      result: [
        { from_name: 'tone', to_name: 'text', type: 'choices', value: { choices: ['pass'] } },
        { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: ['fail'] } },
        {
          from_name: 'clarity_explanation',
          to_name: 'text',
          type: 'textarea',
          value: { text: ['two stacked clauses'] },
        },
      ],
    });
    const webhooks = async (n: number) => {
      for (let i = 0; i < 50 && captured.length < n; i++) await new Promise((r) => setTimeout(r, 100));
    };
    await webhooks(1);
    recorded.translated = captured.length ? translateLabelStudioWebhook(captured[0].body) : null;
    // What the gateway reads back to confirm a webhook, and what it gets for an annotation that does not exist.
    recorded.annotationRead = await adapter.annotation(recorded.annotation.id);
    recorded.missingAnnotation = await adapter.annotation(2_000_000_000);

    // The polling fallback: everything, then only what was saved after an update of the annotation.
    recorded.pollAllResponse = await api('GET', `/api/tasks?project=${project.id}&page=1&page_size=500&fields=all`);
    const first = await adapter.poll!(null);
    recorded.polledAll = first;
    await new Promise((r) => setTimeout(r, 1100));
    recorded.updatedAnnotation = await api('PATCH', `/api/annotations/${recorded.annotation.id}`, {
      result: [
        { from_name: 'tone', to_name: 'text', type: 'choices', value: { choices: ['pass'] } },
        { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: ['pass'] } },
      ],
    });
    // A skipped task: Label Studio stores a cancelled annotation without a result.
    const skipped = list.find((t) => t.data.judgeflow_task_id === 'check-batch:item-3:0:0')!;
    recorded.skippedAnnotation = await api('POST', `/api/tasks/${skipped.id}/annotations`, {
      result: [],
      was_cancelled: true,
    });
    await webhooks(3);
    recorded.webhookCalls = captured;
    // The adapter's filter at the first cursor without its overlap: the untouched task 2 must drop out.
    const since = new Date(Date.parse(first.cursor!)).toISOString();
    const filter = {
      filters: {
        conjunction: 'and',
        items: [{ filter: 'filter:tasks:updated_at', operator: 'greater', type: 'Datetime', value: since }],
      },
    };
    recorded.pollSinceQuery = filter;
    recorded.pollSinceResponse = await api(
      'GET',
      `/api/tasks?project=${project.id}&page=1&page_size=500&fields=all&query=${encodeURIComponent(JSON.stringify(filter))}`,
    );
    recorded.polledSince = await adapter.poll!(first.cursor);

    await adapter.cancel(['check-batch:item-2:0:0']);
    const after = await api('GET', `/api/tasks?project=${project.id}&page=1&page_size=500`);
    recorded.afterCancel = (Array.isArray(after) ? after : after.tasks).map(
      (t: { data: { judgeflow_task_id: string } }) => t.data.judgeflow_task_id,
    );
  } finally {
    capture.close();
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(recorded, null, 2)}\n`);
  console.log(
    JSON.stringify({
      out: OUT,
      importedOnce: recorded.importedOnce,
      webhookCalls: captured.length,
      translated: recorded.translated,
      polledAll: recorded.polledAll,
      polledSince: recorded.polledSince,
      afterCancel: recorded.afterCancel,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
