/**
 * The service's state: the tenants' intent, API tokens and idempotency keys, in one embedded SQLite
 * database (better-sqlite3). `Store` is the one door to it; the parts live beside it:
 *
 * - db.ts: opening and migrating the database, and the transactions every change runs in.
 *   Durability: WAL journal with `synchronous=FULL`, so every commit is fsynced before the API
 *   answers and an acknowledged change survives a process kill and a power cut. (NORMAL with WAL
 *   survives a process crash but may lose the last commits on power loss; FULL costs one fsync per
 *   change, see docs/service.md for figures.)
 * - objects.ts: the tenants' objects, their references and allocations (one generic table, its
 *   guarantees as indexes and foreign keys).
 * - tokens.ts: API tokens, stored as their SHA-256 only.
 * - idempotency.ts: a create retried with its `Idempotency-Key` answers the first response.
 *
 * Every mutation is one IMMEDIATE transaction (the object, its references, its allocations, the
 * idempotency record), and better-sqlite3 is synchronous, so requests are serialized: no two
 * creates can take the same IP, MAC or name.
 *
 * The seam for the compiler: `IntentHooks.check` sees the intent as it would be after a change,
 * inside the transaction, and its problems abort it (422); `IntentHooks.changed` gets the intent
 * after each commit (and once at start, from `publish()`), to recompile and apply the data plane.
 */
import type Database from 'better-sqlite3';
import type { Allocations } from '../vpc/compile.js';
import type { Intent, ObjectKind } from '../vpc/intent.js';
import { type Cidr, parseCidr } from '../wire/index.js';
import { databaseSettings, type IntentHooks, migrateDatabase, openDatabase, Transactions } from './db.js';
import { IdempotencyKeys } from './idempotency.js';
import { type AllocationChanges, type ListQuery, Objects, type Page, type StoredObject } from './objects.js';
import { type Principal, type TokenInfo, Tokens } from './tokens.js';

export type { IntentHooks } from './db.js';
export { IDEMPOTENCY_TTL_MS } from './idempotency.js';
export {
  type AllocationChanges,
  type AllocationKind,
  DEFAULT_PAGE,
  type ListQuery,
  MAX_PAGE,
  type Page,
  type StoredObject,
} from './objects.js';
export { hashToken, type Principal, type TokenInfo } from './tokens.js';

/** The hypervisors of the default fabric (2 leaves, 2 servers each), until the fabric is wired. */
export const DEFAULT_HYPERVISORS: readonly string[] = [
  'leaf1-srv1',
  'leaf1-srv2',
  'leaf2-srv1',
  'leaf2-srv2',
];
/** Elastic IPs come from here by default (TEST-NET-3, RFC 5737). */
export const DEFAULT_PUBLIC_POOL = '203.0.113.0/24';

export interface StoreOptions {
  readonly hypervisors?: readonly string[];
  readonly publicPool?: string;
  readonly hooks?: IntentHooks;
  readonly now?: () => Date;
}

export class Store {
  readonly schemaVersion: number;
  private readonly txs: Transactions;
  private readonly objects: Objects;
  private readonly tokens: Tokens;
  private readonly keys: IdempotencyKeys;

  private constructor(
    private readonly db: Database.Database,
    options: StoreOptions,
  ) {
    const hypervisors = options.hypervisors ?? DEFAULT_HYPERVISORS;
    const pool: Cidr | undefined = parseCidr(options.publicPool ?? DEFAULT_PUBLIC_POOL);
    if (!pool) throw new Error(`public pool ${options.publicPool}: not an IPv4 prefix`);
    const now = options.now ?? (() => new Date());
    const stamp = () => now().toISOString();
    this.schemaVersion = migrateDatabase(db);
    this.txs = new Transactions(db, options.hooks ?? {}, (tenants) => this.objects.loadIntentOf(tenants));
    const tx = <T>(fn: () => T): T => this.txs.tx(fn);
    this.keys = new IdempotencyKeys(db, tx, now);
    this.objects = new Objects(db, this.txs, hypervisors, pool, stamp, (tenant) => this.keys.forget(tenant));
    this.tokens = new Tokens(db, tx, stamp, (id) => this.objects.requireTenant(id));
  }

  /** Opens (creating it and its directory if need be) and migrates the database at `path`. */
  static open(path: string, options: StoreOptions = {}): Store {
    return openDatabase(path, (db) => new Store(db, options));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The pragmas in force (for `vnet serve`'s start line and the tests). */
  settings(): { journalMode: string; synchronous: number; foreignKeys: number } {
    return databaseSettings(this.db);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (or inside the one already open). On the way out of the
   * outermost one, a change is checked by `hooks.check` before the commit and announced to
   * `hooks.changed` after it.
   */
  tx<T>(fn: () => T): T {
    return this.txs.tx(fn);
  }

  /**
   * Runs a change as `tx` would (every check, the validator hook included) but keeps nothing:
   * returns its result and the intent as it would be, then rolls the transaction back. What a
   * `?dryRun=true` request and `vnet ... --dry-run` show the plan of.
   */
  preview<T>(fn: () => T): { result: T; intent: Intent; tenants: ReadonlySet<string> } {
    return this.txs.preview(fn);
  }

  /**
   * Hands the stored intent to `hooks.changed`: the touched tenants' after each change, or the
   * whole intent (`vnet serve` calls it so at start).
   */
  publish(tenants?: ReadonlySet<string>): void {
    this.txs.publish(() => this.objects.loadIntent(), tenants);
  }

  // ---------------------------------------------------------------- tokens

  /** A new token for a tenant (or an admin token, tenant null); the secret is returned only here. */
  createToken(tenant: string | null, name: string): TokenInfo & { token: string } {
    return this.tokens.create(tenant, name);
  }

  /**
   * Makes sure an admin token exists. With `fromEnv` (VNET_ADMIN_TOKEN), that token is one (stored
   * hashed, added if new); otherwise, on first start, a token is made and returned, once.
   */
  ensureAdminToken(fromEnv?: string): { created?: string } {
    return this.tokens.ensureAdmin(fromEnv);
  }

  authenticate(token: string): Principal | undefined {
    return this.tokens.authenticate(token);
  }

  listTokens(tenant: string): TokenInfo[] {
    return this.tokens.list(tenant);
  }

  deleteToken(tenant: string, id: string): void {
    this.tokens.delete(tenant, id);
  }

  // ---------------------------------------------------------------- idempotency

  /** Runs a create once per (scope, key): see idempotency.ts. */
  idempotent<T>(
    scope: string,
    key: string,
    fingerprint: string,
    fn: () => { status: number; body: T },
  ): { status: number; body: T; replayed: boolean } {
    return this.keys.run(scope, key, fingerprint, fn);
  }

  /** The response a request with `key` would replay, recording nothing: see idempotency.ts. */
  recallIdempotent<T>(
    scope: string,
    key: string,
    fingerprint: string,
  ): { status: number; body: T } | undefined {
    return this.keys.recall<T>(scope, key, fingerprint);
  }

  // ---------------------------------------------------------------- objects

  /** Creates an object of `tenant` (for a tenant itself, pass null) from a request body. */
  create(tenant: string | null, kind: ObjectKind, input: unknown): StoredObject {
    return this.objects.create(tenant, kind, input);
  }

  get(tenant: string | null, kind: ObjectKind, id: string): StoredObject {
    return this.objects.get(tenant, kind, id);
  }

  list(tenant: string | null, kind: ObjectKind, query: ListQuery = {}): Page {
    return this.objects.list(tenant, kind, query);
  }

  /**
   * Changes an object's mutable fields. `replace` (PUT): the body is every mutable field and an
   * optional one left out is removed; otherwise (PATCH) only the fields given change, and `null`
   * removes an optional one.
   */
  update(
    tenant: string | null,
    kind: ObjectKind,
    id: string,
    input: unknown,
    options: { replace?: boolean; ifVersion?: number } = {},
  ): StoredObject {
    return this.objects.update(tenant, kind, id, input, options);
  }

  /** Starts or stops an instance (no change when it already is). */
  setInstanceState(tenant: string, id: string, state: 'running' | 'stopped'): StoredObject {
    return this.objects.setInstanceState(tenant, id, state);
  }

  /** Moves an instance to another hypervisor: see `Objects.moveInstance`. */
  moveInstance(tenant: string, id: string, host: string): StoredObject {
    return this.objects.moveInstance(tenant, id, host);
  }

  /** Deletes an object; a 409 listing what still uses it when anything does. */
  delete(tenant: string | null, kind: ObjectKind, id: string, options: { ifVersion?: number } = {}): void {
    this.objects.delete(tenant, kind, id, options);
  }

  /** Every tenant's objects, as `validate` and `compile` read them. */
  loadIntent(): Intent {
    return this.objects.loadIntent();
  }

  /** The objects of `tenants`, in the intent shapes, in creation order. */
  loadIntentOf(tenants: ReadonlySet<string>): Intent {
    return this.objects.loadIntentOf(tenants);
  }

  /** The compiler's allocations stored by `saveAllocations` (what a restart compiles with). */
  loadAllocations(): Allocations {
    return this.objects.loadAllocations();
  }

  /** Stores what the compiler handed out since the last call, in one transaction. */
  saveAllocations(changes: AllocationChanges): void {
    this.objects.saveAllocations(changes);
  }

  /** Instances per hypervisor (every configured one, zero included). */
  hypervisorLoad(): { name: string; instances: number }[] {
    return this.objects.hypervisorLoad();
  }
}
