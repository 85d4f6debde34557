/**
 * Idempotency keys: a create sent again with the same `Idempotency-Key` (per tenant, or the admin)
 * and the same request gets the first response again, never a second object; the same key with a
 * different request is a 422. Keys are remembered for `IDEMPOTENCY_TTL_MS`; only successes are
 * recorded, so a create that failed may be retried with its key. The record is written in the
 * create's own transaction: the object and its key are kept together or not at all.
 */
import type Database from 'better-sqlite3';
import { ServiceError } from './errors.js';

/** How long an idempotency key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** The `idempotency_keys` table. */
export class IdempotencyKeys {
  constructor(
    private readonly db: Database.Database,
    private readonly tx: <T>(fn: () => T) => T,
    private readonly now: () => Date,
  ) {}

  /**
   * Runs a create once per (scope, key): a retry with the same request gets the first response
   * again (`replayed`), without a second object; the same key with a different request is a 422.
   * Only successes are remembered: a create that failed may be retried with its key.
   */
  run<T>(
    scope: string,
    key: string,
    fingerprint: string,
    fn: () => { status: number; body: T },
  ): { status: number; body: T; replayed: boolean } {
    return this.tx(() => {
      const cutoff = new Date(this.now().getTime() - IDEMPOTENCY_TTL_MS).toISOString();
      this.db.prepare('DELETE FROM idempotency_keys WHERE created < ?').run(cutoff);
      const seen = this.recall<T>(scope, key, fingerprint);
      if (seen !== undefined) return { ...seen, replayed: true };
      const result = fn();
      this.db
        .prepare(
          'INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(scope, key, fingerprint, result.status, JSON.stringify(result.body), this.now().toISOString());
      return { ...result, replayed: false };
    });
  }

  /**
   * The response a request with `key` would replay, if the key is remembered (and not expired),
   * without recording or removing anything (a dry run's look); the same key with a different
   * request is the 422 `run` answers.
   */
  recall<T>(scope: string, key: string, fingerprint: string): { status: number; body: T } | undefined {
    const cutoff = new Date(this.now().getTime() - IDEMPOTENCY_TTL_MS).toISOString();
    const seen = this.db
      .prepare(
        'SELECT fingerprint, status, response FROM idempotency_keys WHERE scope = ? AND key = ? AND created >= ?',
      )
      .get(scope, key, cutoff) as { fingerprint: string; status: number; response: string } | undefined;
    if (seen === undefined) return undefined;
    if (seen.fingerprint !== fingerprint)
      throw new ServiceError(
        422,
        'idempotency-key-reused',
        `the Idempotency-Key "${key}" was used for a different request; use a new key for a new request`,
      );
    return { status: seen.status, body: JSON.parse(seen.response) as T };
  }

  /** Forgets every key of `scope` (a tenant deleted). */
  forget(scope: string): void {
    this.db.prepare('DELETE FROM idempotency_keys WHERE scope = ?').run(scope);
  }
}
