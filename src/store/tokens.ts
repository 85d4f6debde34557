/**
 * API tokens: `vnet_` + 32 random bytes (base64url), stored only as their SHA-256, so the database
 * never holds a secret. A fast unsalted hash is enough for 256-bit random secrets (no dictionary to
 * try; salting and stretching protect low-entropy passwords, not these), and lets a request find
 * its token by hash in one index lookup. A tenant's token (tenant set) or an admin token (tenant
 * null); a new token's secret is returned once, by `create`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { notFound } from './errors.js';

export type Principal =
  | { readonly kind: 'admin'; readonly tokenId: string }
  | { readonly kind: 'tenant'; readonly tenant: string; readonly tokenId: string };

export interface TokenInfo {
  readonly id: string;
  readonly tenant: string | null;
  readonly name: string;
  readonly created: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return `vnet_${randomBytes(32).toString('base64url')}`;
}

/** The `tokens` table. `requireTenant` throws the 404 of a tenant that does not exist. */
export class Tokens {
  constructor(
    private readonly db: Database.Database,
    private readonly tx: <T>(fn: () => T) => T,
    private readonly stamp: () => string,
    private readonly requireTenant: (id: string) => void,
  ) {}

  /** A new token for a tenant (or an admin token, tenant null); the secret is returned only here. */
  create(tenant: string | null, name: string): TokenInfo & { token: string } {
    return this.tx(() => {
      if (tenant !== null) this.requireTenant(tenant);
      const token = newToken();
      const info = { id: `tok-${randomBytes(6).toString('hex')}`, tenant, name, created: this.stamp() };
      this.db
        .prepare('INSERT INTO tokens (id, tenant, hash, name, created) VALUES (?, ?, ?, ?, ?)')
        .run(info.id, tenant, hashToken(token), name, info.created);
      return { ...info, token };
    });
  }

  /**
   * Makes sure an admin token exists. With `fromEnv` (VNET_ADMIN_TOKEN), that token is one (stored
   * hashed, added if new); otherwise, on first start, a token is made and returned, once.
   */
  ensureAdmin(fromEnv?: string): { created?: string } {
    if (fromEnv !== undefined) {
      if (fromEnv.length < 24)
        throw new Error('VNET_ADMIN_TOKEN is too short: use 24 characters or more of random');
      this.tx(() => {
        this.db
          .prepare(
            `INSERT INTO tokens (id, tenant, hash, name, created) VALUES (?, NULL, ?, 'VNET_ADMIN_TOKEN', ?)
             ON CONFLICT (hash) DO NOTHING`,
          )
          .run(`tok-${randomBytes(6).toString('hex')}`, hashToken(fromEnv), this.stamp());
      });
      return {};
    }
    const any = this.db.prepare('SELECT 1 FROM tokens WHERE tenant IS NULL LIMIT 1').get();
    if (any) return {};
    return { created: this.create(null, 'admin').token };
  }

  authenticate(token: string): Principal | undefined {
    const row = this.db.prepare('SELECT id, tenant FROM tokens WHERE hash = ?').get(hashToken(token)) as
      | { id: string; tenant: string | null }
      | undefined;
    if (!row) return undefined;
    return row.tenant === null
      ? { kind: 'admin', tokenId: row.id }
      : { kind: 'tenant', tenant: row.tenant, tokenId: row.id };
  }

  list(tenant: string): TokenInfo[] {
    this.requireTenant(tenant);
    return this.db
      .prepare('SELECT id, tenant, name, created FROM tokens WHERE tenant = ? ORDER BY created, id')
      .all(tenant) as TokenInfo[];
  }

  delete(tenant: string, id: string): void {
    this.tx(() => {
      this.requireTenant(tenant);
      const r = this.db.prepare('DELETE FROM tokens WHERE id = ? AND tenant = ?').run(id, tenant);
      if (r.changes === 0) throw notFound('token', id);
    });
  }
}
