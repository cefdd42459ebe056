/** The adapter for a vendor record, by its kind. */
import { ApplicationFailure } from '@temporalio/activity';
import type { VendorAdapter, VendorRow } from './adapter';
import { createHttpVendorAdapter } from './http';
import { createLabelStudioAdapter } from './label-studio';

export type { PolledEvent, VendorAdapter, VendorRater, VendorRow } from './adapter';

export function createVendorAdapter(
  vendor: VendorRow,
  env: Record<string, string | undefined> = process.env,
): VendorAdapter {
  switch (vendor.kind) {
    case 'http':
      return createHttpVendorAdapter(vendor);
    case 'label-studio':
      return createLabelStudioAdapter(vendor, env);
    default:
      throw ApplicationFailure.nonRetryable(
        `vendor ${vendor.id} has unknown kind "${vendor.kind}"`,
        'UnknownVendorKind',
      );
  }
}
