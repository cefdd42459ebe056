import { ApplicationFailure } from '@temporalio/activity';

/**
 * A vendor's answer as an activity error: 4xx (our request is wrong, retrying will not help) is
 * non-retryable; anything else is retried by Temporal.
 */
export async function vendorFailure(vendorId: string, what: string, res: Response): Promise<Error> {
  const body = (await res.text().catch(() => '')).slice(0, 500);
  const message = `vendor ${vendorId} answered ${res.status} to ${what}: ${body}`;
  return res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429
    ? ApplicationFailure.nonRetryable(message, 'VendorRejected')
    : new Error(message);
}
