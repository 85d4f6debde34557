/**
 * The tenants' objects: one generic table, `objects(seq, id, kind, tenant, scope, name, body JSON,
 * created, updated, version)`, rather than a table per kind: every kind is already defined once, as
 * a zod schema (src/vpc/intent.ts), and the body is stored exactly in that shape, so `loadIntent`
 * is a single scan and a new field or kind needs no migration. What SQL must guarantee is expressed
 * as indexes on it: `(kind, scope, name)` unique (names unique per VPC or per tenant, see
 * kinds.ts), instance IPs unique per subnet, instance MACs and elastic IPs unique service-wide
 * (expression indexes on the JSON). References between objects (subnet.vpc,
 * instance.securityGroups[i], a route's target) are rows of `refs`, whose foreign key to the
 * referenced object is ON DELETE RESTRICT: the database itself refuses to delete a VPC that still
 * has subnets, whatever the code above does. This module checks first to say clearly why (409,
 * listing what uses it).
 *
 * Every change runs in the store's transaction (db.ts), its allocations (an instance's IP, MAC and
 * hypervisor, an elastic IP's address: allocate.ts) included, so no two creates can take the same
 * IP, MAC or name. Also here: the compiler's allocations (VNIs, SNAT addresses) kept for a restart,
 * and the hypervisors' load.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { firstFreeInstanceIp, MAC_COUNTER_LIMIT, serviceMac } from '../vpc/addresses.js';
import type { Allocations } from '../vpc/compile.js';
import { EMPTY_INTENT, type Intent, OBJECT_KINDS, type ObjectKind } from '../vpc/intent.js';
import { type Cidr, formatIpv4, type Ipv4, parseCidr, parseIpv4Address } from '../wire/index.js';
import { firstFreePoolIp, leastLoaded, reservedReason } from './allocate.js';
import type { Transactions } from './db.js';
import { notFound, type Problem, parseBody, ServiceError } from './errors.js';
import { type Body, KINDS, type Reference } from './kinds.js';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

/**
 * What the compiler hands out and the store keeps for a restart (see `saveAllocations`).
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

/** Objects' rows (kind and body, in creation order) in the intent's shape. */
function intentOf(rows: Iterable<{ kind: ObjectKind; body: string }>): Intent {
  const out: Record<string, unknown[]> = {};
  for (const key of Object.keys(EMPTY_INTENT)) out[key] = [];
  for (const row of rows) out[OBJECT_KINDS[row.kind].key]!.push(JSON.parse(row.body));
  return out as unknown as Intent;
}

/** The `objects`, `refs`, `counters` and `allocations` tables. */
export class Objects {
  constructor(
    private readonly db: Database.Database,
    private readonly txs: Transactions,
    private readonly hypervisors: readonly string[],
    private readonly publicPool: Cidr,
    private readonly stamp: () => string,
    /** Forgets a deleted tenant's idempotency keys. */
    private readonly forgetKeys: (tenant: string) => void,
  ) {}

  /** A 404 unless tenant `id` exists. */
  requireTenant(id: string): void {
    this.row('tenant', id, null);
  }

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
    return this.txs.tx(() => {
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
      this.txs.touch(owner);
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
    return this.txs.tx(() => {
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
      this.txs.touch(row.tenant);
      return { body: full, created: row.created, updated: at, version: row.version + 1 };
    });
  }

  /** Starts or stops an instance (no change when it already is). */
  setInstanceState(tenant: string, id: string, state: 'running' | 'stopped'): StoredObject {
    return this.txs.tx(() => {
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
    this.txs.touch(row.tenant);
    return { body, created: row.created, updated: at, version: row.version + 1 };
  }

  /**
   * Moves an instance to another hypervisor (a migration: the data plane re-places it, keeping its
   * MAC and IP). 400 for a hypervisor the fabric does not have, 409 when it is there already.
   */
  moveInstance(tenant: string, id: string, host: string): StoredObject {
    return this.txs.tx(() => {
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
    this.txs.tx(() => {
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
      this.txs.touch(row.tenant);
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
    this.forgetKeys(row.id);
  }

  /** Every tenant's objects, as `validate` and `compile` read them. */
  loadIntent(): Intent {
    return intentOf(
      this.db.prepare('SELECT kind, body FROM objects ORDER BY seq').iterate() as Iterable<{
        kind: ObjectKind;
        body: string;
      }>,
    );
  }

  /**
   * The objects of `tenants` (each tenant's own object and everything it owns), in the intent
   * shapes, in creation order: what a change to those tenants is checked and compiled with.
   */
  loadIntentOf(tenants: ReadonlySet<string>): Intent {
    const rows: { seq: number; kind: ObjectKind; body: string }[] = [];
    const select = this.db.prepare('SELECT seq, kind, body FROM objects WHERE tenant = ?');
    for (const tenant of tenants) rows.push(...(select.all(tenant) as typeof rows));
    rows.sort((a, b) => a.seq - b.seq);
    return intentOf(rows);
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
