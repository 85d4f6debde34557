/**
 * The service's state: the tenants' intent, API tokens and idempotency keys, in one embedded SQLite
 * database (better-sqlite3).
 *
 * Durability. WAL journal with `synchronous=FULL`: every commit is fsynced before the API answers,
 * so an acknowledged change survives a process kill and a power cut. (NORMAL with WAL survives a
 * process crash but may lose the last commits on power loss; the issue asks for "nothing that was
 * acknowledged", so FULL, at the price of one fsync per change; see docs/service.md for figures.)
 * Foreign keys are on; a busy timeout covers a second reader (a backup, `sqlite3` on the file).
 *
 * One generic table, `objects(seq, id, kind, tenant, scope, name, body JSON, created, updated,
 * version)`, rather than a table per kind: every kind is already defined once, as a zod schema
 * (src/vpc/intent.ts), and the body is stored exactly in that shape, so `loadIntent` is a single
 * scan and a new field or kind needs no migration. What SQL must guarantee is expressed as indexes
 * on it: `(kind, scope, name)` unique (names unique per VPC or per tenant, see kinds.ts), instance
 * IPs unique per subnet, instance MACs and elastic IPs unique service-wide (expression indexes on
 * the JSON). References between objects (subnet.vpc, instance.securityGroups[i], a route's target)
 * are rows of `refs`, whose foreign key to the referenced object is ON DELETE RESTRICT: the
 * database itself refuses to delete a VPC that still has subnets, whatever the code above does.
 * The service checks first to say clearly why (409, listing what uses it).
 *
 * Every mutation is one IMMEDIATE transaction (the object, its references, its allocations, the
 * idempotency record), and better-sqlite3 is synchronous, so requests are serialized: no two
 * creates can take the same IP, MAC or name.
 *
 * Tokens: `vnet_` + 32 random bytes (base64url), stored as their SHA-256. A fast unsalted hash is
 * enough for 256-bit random secrets (no dictionary to try; salting and stretching protect low-entropy
 * passwords, not these), and lets a request find its token by hash in one index lookup.
 *
 * The seam for the compiler: `IntentHooks.check` sees the intent as it would be after a change,
 * inside the transaction, and its problems abort it (422); `IntentHooks.changed` gets the intent
 * after each commit (and once at start, from `publish()`), to recompile and apply the data plane.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Allocations } from '../vpc/compile.js';
import { EMPTY_INTENT, type Intent, OBJECT_KINDS, type ObjectKind } from '../vpc/intent.js';
import { type Cidr, formatIpv4, type Ipv4, parseCidr, parseIpv4Address } from '../wire/index.js';
import {
  firstFreeInstanceIp,
  firstFreePoolIp,
  leastLoaded,
  MAC_COUNTER_LIMIT,
  reservedReason,
  serviceMac,
} from './allocate.js';
import { notFound, type Problem, parseBody, ServiceError } from './errors.js';
import { type Body, KINDS, type Reference } from './kinds.js';
import { MIGRATIONS, migrate } from './migrations.js';

/** Thrown inside a previewed change to roll it back. */
const ROLLBACK = Symbol('rollback');

/** The hypervisors of the default fabric (2 leaves, 2 servers each), until the fabric is wired. */
export const DEFAULT_HYPERVISORS: readonly string[] = [
  'leaf1-srv1',
  'leaf1-srv2',
  'leaf2-srv1',
  'leaf2-srv2',
];
/** Elastic IPs come from here by default (TEST-NET-3, RFC 5737). */
export const DEFAULT_PUBLIC_POOL = '203.0.113.0/24';
/** How long an idempotency key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

/**
 * The compiler's seam. A change hands over only the tenants it touched (`tenants`) and their
 * objects (`intent`: each touched tenant's object and everything it owns), so checking and applying
 * a change costs what its tenants hold, not what the service holds. What crosses tenants (names of
 * tenants, instance MACs, elastic IP addresses, ids) is kept unique by the database's indexes.
 */
export type AllocationKind = 'l3-vni' | 'l2-vni' | 'snat';

/** Allocation rows to store and to drop (see `saveAllocations`). */
export interface AllocationChanges {
  readonly set: readonly {
    readonly object: string;
    readonly kind: AllocationKind;
    readonly value: string | number;
  }[];
  readonly drop: readonly { readonly object: string; readonly kind: AllocationKind }[];
}

export interface IntentHooks {
  /** Inside the transaction, with the touched tenants' intent as it would be: any problem aborts the change (422). */
  check?(intent: Intent, tenants: ReadonlySet<string>): readonly Problem[];
  /**
   * After each committed change (the touched tenants and their intent now), and at start (`tenants`
   * null: the whole intent): recompile and apply. Errors go to `onError`.
   */
  changed?(intent: Intent, tenants: ReadonlySet<string> | null): void | Promise<void>;
  onError?(error: unknown): void;
}

export interface StoreOptions {
  readonly hypervisors?: readonly string[];
  readonly publicPool?: string;
  readonly hooks?: IntentHooks;
  readonly now?: () => Date;
}

/** An object with the store's bookkeeping. */
export interface StoredObject {
  readonly body: Body;
  readonly created: string;
  readonly updated: string;
  readonly version: number;
}

export interface Page {
  readonly items: StoredObject[];
  readonly next: string | null;
}

export interface ListQuery {
  readonly limit?: number;
  readonly cursor?: string;
  /** Field equality filters: `name` and the kind's `filters`. */
  readonly where?: Readonly<Record<string, string>>;
}

export type Principal =
  | { readonly kind: 'admin'; readonly tokenId: string }
  | { readonly kind: 'tenant'; readonly tenant: string; readonly tokenId: string };

export interface TokenInfo {
  readonly id: string;
  readonly tenant: string | null;
  readonly name: string;
  readonly created: string;
}

interface ObjectRow {
  seq: number;
  id: string;
  kind: ObjectKind;
  tenant: string;
  scope: string;
  name: string;
  body: string;
  created: string;
  updated: string;
  version: number;
}

const PLURAL: Record<ObjectKind, string> = {
  tenant: 'tenants',
  vpc: 'VPCs',
  subnet: 'subnets',
  'route-table': 'route tables',
  'internet-gateway': 'internet gateways',
  'elastic-ip': 'elastic IPs',
  peering: 'peerings',
  'security-group': 'security groups',
  'network-acl': 'network ACLs',
  instance: 'instances',
};

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return `vnet_${randomBytes(32).toString('base64url')}`;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m)
    throw new ServiceError(400, 'invalid-request', 'the cursor is not one this service gave', [
      { path: 'cursor', message: 'use the `next` value of the previous page' },
    ]);
  return Number(m[1]);
}

/** The body's keys in the order the intent schema lists them (id, tenant, then the fields). */
function ordered(kind: ObjectKind, body: Body): Body {
  const out: Body = {};
  for (const key of Object.keys(OBJECT_KINDS[kind].schema.shape))
    if (body[key] !== undefined) out[key] = body[key];
  return out;
}

function describe(row: { kind: ObjectKind; id: string; name: string }): string {
  return `${KINDS[row.kind].title} ${row.id} (${row.name})`;
}

export class Store {
  readonly schemaVersion: number;
  private readonly hypervisors: readonly string[];
  private readonly publicPool: Cidr;
  private readonly hooks: IntentHooks;
  private readonly now: () => Date;
  private depth = 0;
  private dirty = false;
  /** The tenants the transaction under way changed objects of. */
  private touched = new Set<string>();

  /** Marks the transaction as a change to `tenant`'s objects. */
  private touch(tenant: string): void {
    this.dirty = true;
    this.touched.add(tenant);
  }

  private constructor(
    private readonly db: Database.Database,
    options: StoreOptions,
  ) {
    this.hypervisors = options.hypervisors ?? DEFAULT_HYPERVISORS;
    const pool = parseCidr(options.publicPool ?? DEFAULT_PUBLIC_POOL);
    if (!pool) throw new Error(`public pool ${options.publicPool}: not an IPv4 prefix`);
    this.publicPool = pool;
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? (() => new Date());
    this.schemaVersion = migrate(db, MIGRATIONS);
  }

  /** Opens (creating it and its directory if need be) and migrates the database at `path`. */
  static open(path: string, options: StoreOptions = {}): Store {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      return new Store(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The pragmas in force (for `vnet serve`'s start line and the tests). */
  settings(): { journalMode: string; synchronous: number; foreignKeys: number } {
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.db.pragma('synchronous', { simple: true }) as number,
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) as number,
    };
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (or inside the one already open). On the way out of the
   * outermost one, a change is checked by `hooks.check` before the commit and announced to
   * `hooks.changed` after it.
   */
  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    this.dirty = false;
    this.touched = new Set();
    let result: T;
    // The touched tenants' intent as committed: read once, for the check and the announcement.
    let intent: Intent | null = null;
    try {
      result = this.db
        .transaction(() => {
          const r = fn();
          if (this.dirty && (this.hooks.check || this.hooks.changed || this.previewing !== null))
            intent = this.loadIntentOf(this.touched);
          if (intent !== null && this.hooks.check) {
            const problems = this.hooks.check(intent, this.touched);
            if (problems.length > 0)
              throw new ServiceError(
                422,
                'invalid-intent',
                `the change would make the intent invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
                problems,
              );
          }
          if (this.previewing !== null) {
            // A dry run: everything was checked; keep the intent as it would be, and undo.
            this.previewing.intent = intent ?? this.loadIntentOf(this.touched);
            this.previewing.tenants = this.touched;
            throw ROLLBACK;
          }
          return r;
        })
        .immediate();
    } catch (error) {
      this.dirty = false;
      throw error;
    } finally {
      this.depth--;
    }
    if (this.dirty) {
      this.dirty = false;
      if (this.hooks.changed) this.announce(intent ?? this.loadIntentOf(this.touched), this.touched);
    }
    return result;
  }

  /**
   * Runs a change as `tx` would (every check, the validator hook included) but keeps nothing:
   * returns its result and the intent as it would be, then rolls the transaction back. What a
   * `?dryRun=true` request and `vnet ... --dry-run` show the plan of.
   */
  preview<T>(fn: () => T): { result: T; intent: Intent; tenants: ReadonlySet<string> } {
    if (this.depth > 0) throw new Error('internal: preview inside a transaction');
    let result: T | undefined;
    const previewing: { intent: Intent | null; tenants: ReadonlySet<string> } = {
      intent: null,
      tenants: new Set(),
    };
    this.previewing = previewing;
    try {
      this.tx(() => {
        result = fn();
        this.dirty = true; // a change that changes nothing is still previewed
        return result;
      });
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    } finally {
      this.previewing = null;
      this.dirty = false;
    }
    if (previewing.intent === null) throw new Error('internal: the previewed change did not run');
    return { result: result as T, intent: previewing.intent, tenants: previewing.tenants };
  }

  /** Set while `preview` runs a change: the touched tenants' intent it would make. */
  private previewing: { intent: Intent | null; tenants: ReadonlySet<string> } | null = null;

  /**
   * Hands the stored intent to `hooks.changed`: the touched tenants' after each change, or the
   * whole intent (`vnet serve` calls it so at start).
   */
  publish(tenants?: ReadonlySet<string>): void {
    if (!this.hooks.changed) return;
    if (tenants === undefined) this.announce(this.loadIntent(), null);
    else this.announce(this.loadIntentOf(tenants), tenants);
  }

  /** Hands `intent` to `hooks.changed`; its errors (thrown or rejected) go to `onError`. */
  private announce(intent: Intent, tenants: ReadonlySet<string> | null): void {
    const changed = this.hooks.changed;
    if (!changed) return;
    const report = (error: unknown) => (this.hooks.onError ?? (() => {}))(error);
    try {
      Promise.resolve(changed(intent, tenants)).catch(report);
    } catch (error) {
      report(error);
    }
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  // ---------------------------------------------------------------- tokens

  /** A new token for a tenant (or an admin token, tenant null); the secret is returned only here. */
  createToken(tenant: string | null, name: string): TokenInfo & { token: string } {
    return this.tx(() => {
      if (tenant !== null) this.row('tenant', tenant, null);
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
  ensureAdminToken(fromEnv?: string): { created?: string } {
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
    return { created: this.createToken(null, 'admin').token };
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

  listTokens(tenant: string): TokenInfo[] {
    this.row('tenant', tenant, null);
    return this.db
      .prepare('SELECT id, tenant, name, created FROM tokens WHERE tenant = ? ORDER BY created, id')
      .all(tenant) as TokenInfo[];
  }

  deleteToken(tenant: string, id: string): void {
    this.tx(() => {
      this.row('tenant', tenant, null);
      const r = this.db.prepare('DELETE FROM tokens WHERE id = ? AND tenant = ?').run(id, tenant);
      if (r.changes === 0) throw notFound('token', id);
    });
  }

  // ---------------------------------------------------------------- idempotency

  /**
   * Runs a create once per (scope, key): a retry with the same request gets the first response
   * again (`replayed`), without a second object; the same key with a different request is a 422.
   * Only successes are remembered: a create that failed may be retried with its key.
   */
  idempotent<T>(
    scope: string,
    key: string,
    fingerprint: string,
    fn: () => { status: number; body: T },
  ): { status: number; body: T; replayed: boolean } {
    return this.tx(() => {
      const cutoff = new Date(this.now().getTime() - IDEMPOTENCY_TTL_MS).toISOString();
      this.db.prepare('DELETE FROM idempotency_keys WHERE created < ?').run(cutoff);
      const seen = this.recallIdempotent<T>(scope, key, fingerprint);
      if (seen !== undefined) return { ...seen, replayed: true };
      const result = fn();
      this.db
        .prepare(
          'INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(scope, key, fingerprint, result.status, JSON.stringify(result.body), this.stamp());
      return { ...result, replayed: false };
    });
  }

  /**
   * The response a request with `key` would replay, if the key is remembered (and not expired),
   * without recording or removing anything (a dry run's look); the same key with a different
   * request is the 422 `idempotent` answers.
   */
  recallIdempotent<T>(
    scope: string,
    key: string,
    fingerprint: string,
  ): { status: number; body: T } | undefined {
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

  // ---------------------------------------------------------------- objects

  /** The row of `id` if it is a `kind` of `tenant` (any tenant when null); a 404 otherwise. */
  private row(kind: ObjectKind, id: string, tenant: string | null): ObjectRow {
    const row = this.db.prepare('SELECT * FROM objects WHERE id = ?').get(id) as ObjectRow | undefined;
    if (!row || row.kind !== kind || (tenant !== null && row.tenant !== tenant))
      throw notFound(KINDS[kind].title, id);
    return row;
  }

  private stored(row: ObjectRow): StoredObject {
    return {
      body: JSON.parse(row.body) as Body,
      created: row.created,
      updated: row.updated,
      version: row.version,
    };
  }

  /** Every reference must name an object of the right kind of the same tenant (never itself). */
  private checkRefs(tenant: string, self: string, refs: readonly Reference[]): void {
    const problems: Problem[] = [];
    const get = this.db.prepare('SELECT kind, tenant FROM objects WHERE id = ?');
    for (const ref of refs) {
      if (ref.id === self) continue;
      const row = get.get(ref.id) as { kind: string; tenant: string } | undefined;
      if (!row || row.kind !== ref.kind || row.tenant !== tenant)
        problems.push({ path: ref.path, message: `no ${KINDS[ref.kind].title} ${ref.id}` });
    }
    if (problems.length > 0)
      throw new ServiceError(
        400,
        'invalid-reference',
        problems.length === 1
          ? `${problems[0]!.path}: ${problems[0]!.message}`
          : `${problems.length} references name no object`,
        problems,
      );
  }

  private scopeOf(kind: ObjectKind, tenant: string, body: Body): string {
    if (kind === 'tenant') return '';
    const field = KINDS[kind].scopeField;
    return field ? String(body[field]) : tenant;
  }

  private checkName(kind: ObjectKind, scope: string, name: string, self: string): void {
    const other = this.db
      .prepare('SELECT id FROM objects WHERE kind = ? AND scope = ? AND name = ? AND id != ?')
      .get(kind, scope, name, self) as { id: string } | undefined;
    if (other) {
      const where =
        kind === 'tenant'
          ? ''
          : KINDS[kind].scopeField
            ? ` in ${KINDS[kind].scopeField} ${scope}`
            : ' in this tenant';
      throw new ServiceError(
        409,
        'name-taken',
        `a ${KINDS[kind].title} named "${name}" already exists${where} (${other.id})`,
        [{ path: 'name', message: `taken by ${other.id}` }],
      );
    }
  }

  private writeRefs(id: string, refs: readonly Reference[]): void {
    this.db.prepare('DELETE FROM refs WHERE from_id = ?').run(id);
    const insert = this.db.prepare('INSERT INTO refs (from_id, path, to_id) VALUES (?, ?, ?)');
    for (const ref of refs) if (ref.id !== id) insert.run(id, ref.path, ref.id);
  }

  private nextCounter(name: string): number {
    const r = this.db
      .prepare(
        `INSERT INTO counters (name, value) VALUES (?, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
      )
      .get(name) as { value: number };
    return r.value;
  }

  /** The service's fields of a new instance: its IP, MAC, hypervisor and state. */
  private allocateInstance(tenant: string, body: Body): void {
    const subnet = this.stored(this.row('subnet', String(body.subnet), tenant)).body;
    const cidr = parseCidr(String(subnet.cidr))!;
    const used = new Map<Ipv4, string>();
    for (const r of this.db
      .prepare(
        `SELECT id, name, json_extract(body, '$.ip') AS ip FROM objects
         WHERE kind = 'instance' AND json_extract(body, '$.subnet') = ?`,
      )
      .all(subnet.id) as { id: string; name: string; ip: string }[])
      used.set(parseIpv4Address(r.ip)!, `${r.id} (${r.name})`);
    if (body.ip !== undefined) {
      const ip = parseIpv4Address(String(body.ip))!;
      const reason = reservedReason(cidr, ip);
      if (reason)
        throw new ServiceError(400, 'invalid-request', `ip: ${reason}`, [{ path: 'ip', message: reason }]);
      const holder = used.get(ip);
      if (holder)
        throw new ServiceError(409, 'ip-taken', `${formatIpv4(ip)} is already used by instance ${holder}`, [
          { path: 'ip', message: `used by ${holder}` },
        ]);
    } else {
      const ip = firstFreeInstanceIp(cidr, new Set(used.keys()));
      if (ip === undefined)
        throw new ServiceError(
          409,
          'exhausted',
          `subnet ${subnet.id} (${subnet.cidr}) has no free address left`,
        );
      body.ip = formatIpv4(ip);
    }
    if (body.host !== undefined) {
      if (!this.hypervisors.includes(String(body.host))) {
        const message = `no hypervisor "${body.host}" (the fabric has ${this.hypervisors.join(', ') || 'none'})`;
        throw new ServiceError(400, 'invalid-request', `host: ${message}`, [{ path: 'host', message }]);
      }
    } else {
      const load = new Map<string, number>();
      for (const r of this.db.prepare('SELECT host, instances AS n FROM hypervisor_load').all() as {
        host: string;
        n: number;
      }[])
        load.set(r.host, r.n);
      const host = leastLoaded(this.hypervisors, load);
      if (host === undefined)
        throw new ServiceError(409, 'exhausted', 'the fabric has no hypervisor to run instances on');
      body.host = host;
    }
    const n = this.nextCounter('mac');
    if (n > MAC_COUNTER_LIMIT) throw new ServiceError(409, 'exhausted', 'no service MAC address left');
    body.mac = serviceMac(n);
    body.state = 'running';
  }

  private allocateElasticIp(): string {
    const used = new Set(
      (
        this.db
          .prepare(`SELECT json_extract(body, '$.address') AS a FROM objects WHERE kind = 'elastic-ip'`)
          .all() as { a: string }[]
      ).map((r) => parseIpv4Address(r.a)!),
    );
    const ip = firstFreePoolIp(this.publicPool, used);
    if (ip === undefined) throw new ServiceError(409, 'exhausted', 'the public address pool is exhausted');
    return formatIpv4(ip);
  }

  private newId(kind: ObjectKind): string {
    for (;;) {
      const id = `${OBJECT_KINDS[kind].prefix}-${randomBytes(6).toString('hex')}`;
      if (!this.db.prepare('SELECT 1 FROM objects WHERE id = ?').get(id)) return id;
    }
  }

  /** Creates an object of `tenant` (for a tenant itself, pass null) from a request body. */
  create(tenant: string | null, kind: ObjectKind, input: unknown): StoredObject {
    const spec = KINDS[kind];
    const fields = parseBody(spec.create, input) as Body;
    return this.tx(() => {
      const id = this.newId(kind);
      const owner = tenant ?? id;
      const body: Body = kind === 'tenant' ? { id, ...fields } : { id, tenant: owner, ...fields };
      const refs = spec.refs(body);
      this.checkRefs(owner, id, refs);
      const scope = this.scopeOf(kind, owner, body);
      this.checkName(kind, scope, String(body.name), id);
      if (kind === 'instance') this.allocateInstance(owner, body);
      if (kind === 'elastic-ip') body.address = this.allocateElasticIp();
      const full = this.checked(kind, body);
      const at = this.stamp();
      this.db
        .prepare(
          `INSERT INTO objects (id, kind, tenant, scope, name, body, created, updated, version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
        )
        .run(id, kind, owner, scope, full.name, JSON.stringify(full), at, at);
      this.writeRefs(id, refs);
      this.touch(owner);
      return { body: full, created: at, updated: at, version: 1 };
    });
  }

  /** The whole object against its intent schema: the store never holds a body `compile` cannot read. */
  private checked(kind: ObjectKind, body: Body): Body {
    const result = OBJECT_KINDS[kind].schema.safeParse(ordered(kind, body));
    if (!result.success)
      throw new Error(`internal: ${kind} ${body.id} does not match its schema: ${result.error.message}`);
    return result.data as Body;
  }

  get(tenant: string | null, kind: ObjectKind, id: string): StoredObject {
    return this.stored(this.row(kind, id, tenant));
  }

  list(tenant: string | null, kind: ObjectKind, query: ListQuery = {}): Page {
    const limit = query.limit ?? DEFAULT_PAGE;
    const after = query.cursor ? decodeCursor(query.cursor) : 0;
    const clauses = ['kind = ?', 'seq > ?'];
    const params: (string | number)[] = [kind, after];
    if (tenant !== null) {
      clauses.push('tenant = ?');
      params.push(tenant);
    }
    for (const [field, value] of Object.entries(query.where ?? {})) {
      if (field === 'name') clauses.push('name = ?');
      else if (KINDS[kind].filters.includes(field)) clauses.push(`json_extract(body, '$.${field}') = ?`);
      else continue;
      params.push(value);
    }
    const rows = this.db
      .prepare(`SELECT * FROM objects WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT ?`)
      .all(...params, limit + 1) as ObjectRow[];
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.stored(r)),
      next: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }

  private checkVersion(row: ObjectRow, ifVersion: number | undefined): void {
    if (ifVersion !== undefined && ifVersion !== row.version)
      throw new ServiceError(
        412,
        'version-mismatch',
        `${describe(row)} is at version ${row.version}, not ${ifVersion}: read it again`,
      );
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
    const spec = KINDS[kind];
    return this.tx(() => {
      const row = this.row(kind, id, tenant);
      this.checkVersion(row, options.ifVersion);
      const changes = parseBody(options.replace ? spec.update : spec.patch, input) as Body;
      const body = { ...(JSON.parse(row.body) as Body) };
      if (options.replace) for (const key of Object.keys(spec.update.shape)) delete body[key];
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete body[key];
        else body[key] = value;
      }
      const refs = spec.refs(body);
      this.checkRefs(row.tenant, id, refs);
      const scope = this.scopeOf(kind, row.tenant, body);
      this.checkName(kind, scope, String(body.name), id);
      const full = this.checked(kind, body);
      const at = this.stamp();
      this.db
        .prepare(
          'UPDATE objects SET scope = ?, name = ?, body = ?, updated = ?, version = version + 1 WHERE id = ?',
        )
        .run(scope, full.name, JSON.stringify(full), at, id);
      this.writeRefs(id, refs);
      this.touch(row.tenant);
      return { body: full, created: row.created, updated: at, version: row.version + 1 };
    });
  }

  /** Starts or stops an instance (no change when it already is). */
  setInstanceState(tenant: string, id: string, state: 'running' | 'stopped'): StoredObject {
    return this.tx(() => {
      const row = this.row('instance', id, tenant);
      const body = JSON.parse(row.body) as Body;
      if (body.state === state) return this.stored(row);
      body.state = state;
      return this.rewrite(row, body);
    });
  }

  /** Stores a service-made change of an object's body (no request fields: nothing to re-check but the schema). */
  private rewrite(
    row: { id: string; tenant: string; created: string; version: number },
    body: Body,
  ): StoredObject {
    const at = this.stamp();
    this.db
      .prepare('UPDATE objects SET body = ?, updated = ?, version = version + 1 WHERE id = ?')
      .run(JSON.stringify(body), at, row.id);
    this.touch(row.tenant);
    return { body, created: row.created, updated: at, version: row.version + 1 };
  }

  /**
   * Moves an instance to another hypervisor (a migration: the data plane re-places it, keeping its
   * MAC and IP). 400 for a hypervisor the fabric does not have, 409 when it is there already.
   */
  moveInstance(tenant: string, id: string, host: string): StoredObject {
    return this.tx(() => {
      const row = this.row('instance', id, tenant);
      const body = JSON.parse(row.body) as Body;
      if (!this.hypervisors.includes(host)) {
        const message = `no hypervisor "${host}" (the fabric has ${this.hypervisors.join(', ') || 'none'})`;
        throw new ServiceError(400, 'invalid-request', message, [{ path: 'host', message }]);
      }
      if (body.host === host) throw new ServiceError(409, 'already-there', `${id} already runs on ${host}`);
      body.host = host;
      return this.rewrite(row, body);
    });
  }

  /** Deletes an object; a 409 listing what still uses it when anything does. */
  delete(tenant: string | null, kind: ObjectKind, id: string, options: { ifVersion?: number } = {}): void {
    this.tx(() => {
      const row = this.row(kind, id, tenant);
      this.checkVersion(row, options.ifVersion);
      if (kind === 'tenant') this.checkTenantEmpty(row);
      const users = this.db
        .prepare(
          `SELECT o.kind, o.id, o.name, r.path FROM refs r JOIN objects o ON o.id = r.from_id
           WHERE r.to_id = ? ORDER BY o.seq, r.path`,
        )
        .all(id) as { kind: ObjectKind; id: string; name: string; path: string }[];
      if (users.length > 0) {
        const byKind = new Map<ObjectKind, string[]>();
        for (const u of users) {
          const list = byKind.get(u.kind) ?? [];
          if (!list.includes(`${u.id} (${u.name})`)) list.push(`${u.id} (${u.name})`);
          byKind.set(u.kind, list);
        }
        const parts = [...byKind].map(
          ([k, list]) =>
            `${list.length} ${list.length === 1 ? KINDS[k].title : PLURAL[k]} (${list.join(', ')})`,
        );
        throw new ServiceError(
          409,
          'in-use',
          `cannot delete ${describe(row)}: still used by ${parts.join(' and ')}; delete or change them first`,
          users.map((u) => ({
            path: `${u.id}.${u.path}`,
            message: `${KINDS[u.kind].title} ${u.id} (${u.name}) refers to it`,
          })),
        );
      }
      this.db.prepare('DELETE FROM objects WHERE id = ?').run(id);
      this.touch(row.tenant);
    });
  }

  private checkTenantEmpty(row: ObjectRow): void {
    const counts = this.db
      .prepare(`SELECT kind, count(*) AS n FROM objects WHERE tenant = ? AND kind != 'tenant' GROUP BY kind`)
      .all(row.id) as { kind: ObjectKind; n: number }[];
    const order = Object.keys(OBJECT_KINDS);
    counts.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    if (counts.length > 0)
      throw new ServiceError(
        409,
        'in-use',
        `cannot delete ${describe(row)}: it still has ${counts.map((c) => `${c.n} ${c.n === 1 ? KINDS[c.kind].title : PLURAL[c.kind]}`).join(', ')}`,
      );
    this.db.prepare('DELETE FROM idempotency_keys WHERE scope = ?').run(row.id);
  }

  /** Every tenant's objects, as `validate` and `compile` read them. */
  loadIntent(): Intent {
    const out: Record<string, unknown[]> = {};
    for (const key of Object.keys(EMPTY_INTENT)) out[key] = [];
    for (const row of this.db.prepare('SELECT kind, body FROM objects ORDER BY seq').iterate() as Iterable<{
      kind: ObjectKind;
      body: string;
    }>)
      out[OBJECT_KINDS[row.kind].key]!.push(JSON.parse(row.body));
    return out as unknown as Intent;
  }

  /**
   * The objects of `tenants` (each tenant's own object and everything it owns), in the intent
   * shapes, in creation order: what a change to those tenants is checked and compiled with.
   */
  loadIntentOf(tenants: ReadonlySet<string>): Intent {
    const out: Record<string, unknown[]> = {};
    for (const key of Object.keys(EMPTY_INTENT)) out[key] = [];
    const rows: { seq: number; kind: ObjectKind; body: string }[] = [];
    const select = this.db.prepare('SELECT seq, kind, body FROM objects WHERE tenant = ?');
    for (const tenant of tenants) rows.push(...(select.all(tenant) as typeof rows));
    rows.sort((a, b) => a.seq - b.seq);
    for (const row of rows) out[OBJECT_KINDS[row.kind].key]!.push(JSON.parse(row.body));
    return out as unknown as Intent;
  }

  /** The compiler's allocations stored by `saveAllocations` (what a restart compiles with). */
  loadAllocations(): Allocations {
    const l3Vni = new Map<string, number>();
    const l2Vni = new Map<string, number>();
    const snat = new Map<string, string>();
    for (const r of this.db
      .prepare('SELECT object, kind, value FROM allocations ORDER BY object, kind')
      .all() as {
      object: string;
      kind: AllocationKind;
      value: string;
    }[]) {
      if (r.kind === 'snat') snat.set(r.object, r.value);
      else (r.kind === 'l3-vni' ? l3Vni : l2Vni).set(r.object, Number(r.value));
    }
    return { l3Vni, l2Vni, snat };
  }

  /**
   * Stores what the compiler handed out since the last call, in one transaction: `set` rows
   * (an object gone by now is skipped: its row would go with it anyway), `drop` rows.
   */
  saveAllocations(changes: AllocationChanges): void {
    const upsert = this.db.prepare(
      `INSERT INTO allocations (object, kind, value) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM objects WHERE id = ?)
       ON CONFLICT (object, kind) DO UPDATE SET value = excluded.value`,
    );
    const remove = this.db.prepare('DELETE FROM allocations WHERE object = ? AND kind = ?');
    this.db
      .transaction(() => {
        for (const r of changes.set) upsert.run(r.object, r.kind, String(r.value), r.object);
        for (const r of changes.drop) remove.run(r.object, r.kind);
      })
      .immediate();
  }

  /** Instances per hypervisor (every configured one, zero included). */
  hypervisorLoad(): { name: string; instances: number }[] {
    const load = new Map(this.hypervisors.map((h) => [h, 0]));
    for (const r of this.db.prepare('SELECT host, instances AS n FROM hypervisor_load').all() as {
      host: string;
      n: number;
    }[])
      load.set(r.host, r.n);
    return [...load].map(([name, instances]) => ({ name, instances }));
  }
}
