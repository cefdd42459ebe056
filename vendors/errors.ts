import { ApplicationFailure } from '@temporalio/activity';

/** What a vendor's 4xx most likely means, for the person who has to fix it. */
const HINTS: Record<number, string> = {
  401: 'the vendor refused the signature or credentials: check the vendor secret',
  403: 'the vendor refused the signature or credentials: check the vendor secret',
  404: 'no such path at the vendor: check the vendor endpoint',
};

/**
 * A vendor's answer as an activity error that names the vendor and what failed: 4xx (our request is
 * wrong, retrying will not help) is non-retryable; anything else is retried by Temporal.
 */
export async function vendorFailure(vendorId: string, what: string, res: Response): Promise<Error> {
  const body = (await res.text().catch(() => '')).slice(0, 500);
  const hint = HINTS[res.status] ? ` (${HINTS[res.status]})` : '';
  const message = `vendor ${vendorId} answered ${res.status} to ${what}${hint}: ${body}`;
  return res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429
    ? ApplicationFailure.nonRetryable(message, 'VendorRejected')
    : new Error(message);
}

/**
 * A request that got no answer, as an activity error that names the vendor, the reason and the
 * request (fetch itself says only `fetch failed`): unreachable (DNS, refused, reset) and timeouts are
 * retried; an endpoint that is not a URL is not — the vendor's record has to be fixed first.
 */
export function vendorRequestFailure(vendorId: string, what: string, url: string, err: unknown): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new Error(`vendor ${vendorId} did not answer ${what} in time (${url})`);
  const cause = e?.cause;
  if (cause?.code === 'ERR_INVALID_URL' || /Failed to parse URL|Invalid URL/i.test(e?.message ?? ''))
    return ApplicationFailure.nonRetryable(
      `vendor ${vendorId} has an endpoint that is not a URL: ${url}: fix the vendor endpoint`,
      'VendorMisconfigured',
    );
  const reason = cause?.message || cause?.code || e?.message || String(err);
  return new Error(`vendor ${vendorId} unreachable: ${reason} (${what} ${url})`);
}
