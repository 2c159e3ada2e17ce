/** Addresses are suppressed by hash, so the list can outlive the person's erasure. */
import { createHash } from 'node:crypto';

export function addressHash(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}
