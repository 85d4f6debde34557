/**
 * Numbered schema migrations. `schema_migrations` records each one applied (version, name, when);
 * opening a database applies the missing ones in order, each in its own transaction, and refuses a
 * database written by a newer vnet (a version this code does not know). Migrations are append-only:
 * a released one is never edited, a change is a new number.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'objects, references, tokens, idempotency keys, counters',
    sql: `
      CREATE TABLE objects (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,   -- insertion order: list order and cursors, never reused
        id      TEXT    NOT NULL UNIQUE,             -- vpc-0a1b2c3d4e5f
        kind    TEXT    NOT NULL,                    -- an OBJECT_KINDS key: vpc, subnet, ...
        tenant  TEXT    NOT NULL,                    -- owning tenant's id (a tenant owns itself)
        scope   TEXT    NOT NULL,                    -- where the name is unique: the VPC, the tenant, or '' for tenants
        name    TEXT    NOT NULL,
        body    TEXT    NOT NULL CHECK (json_valid(body)),  -- the object exactly as src/vpc/intent.ts defines it
        created TEXT    NOT NULL,
        updated TEXT    NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
      );
      CREATE UNIQUE INDEX objects_name ON objects (kind, scope, name);
      CREATE INDEX objects_tenant_kind ON objects (tenant, kind, seq);
      CREATE UNIQUE INDEX instances_ip ON objects (json_extract(body, '$.subnet'), json_extract(body, '$.ip'))
        WHERE kind = 'instance';
      CREATE UNIQUE INDEX instances_mac ON objects (json_extract(body, '$.mac')) WHERE kind = 'instance';
      CREATE UNIQUE INDEX elastic_ip_address ON objects (json_extract(body, '$.address'))
        WHERE kind = 'elastic-ip';

      -- Every reference from one object's body to another (subnet.vpc, instance.securityGroups[1],
      -- routes[0].target.id ...): deleting a referenced object is refused by the database itself.
      CREATE TABLE refs (
        from_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
        path    TEXT NOT NULL,
        to_id   TEXT NOT NULL REFERENCES objects (id) ON DELETE RESTRICT,
        PRIMARY KEY (from_id, path)
      );
      CREATE INDEX refs_to ON refs (to_id);

      -- API tokens, SHA-256 hashes only. tenant NULL: an admin token.
      CREATE TABLE tokens (
        id      TEXT PRIMARY KEY,
        tenant  TEXT REFERENCES objects (id) ON DELETE CASCADE,
        hash    TEXT NOT NULL UNIQUE,
        name    TEXT NOT NULL,
        created TEXT NOT NULL
      );

      -- Idempotency-Key replays: the first response to (scope, key), and what the request was.
      CREATE TABLE idempotency_keys (
        scope       TEXT    NOT NULL,   -- tenant id, or 'admin'
        key         TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL,   -- SHA-256 of method, path and canonical body
        status      INTEGER NOT NULL,
        response    TEXT    NOT NULL,
        created     TEXT    NOT NULL,
        PRIMARY KEY (scope, key)
      );

      -- Monotonic counters (MAC addresses): a value is never handed out twice, even after a delete.
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'instances per hypervisor, kept by triggers',
    sql: `
      -- The scheduler's question (which hypervisor runs fewest instances) in one small table, so
      -- placing an instance does not count every instance of the service.
      CREATE TABLE hypervisor_load (host TEXT PRIMARY KEY, instances INTEGER NOT NULL);
      INSERT INTO hypervisor_load (host, instances)
        SELECT json_extract(body, '$.host'), count(*) FROM objects WHERE kind = 'instance'
        GROUP BY json_extract(body, '$.host');
      CREATE TRIGGER hypervisor_load_insert AFTER INSERT ON objects WHEN NEW.kind = 'instance'
      BEGIN
        INSERT INTO hypervisor_load (host, instances) VALUES (json_extract(NEW.body, '$.host'), 1)
          ON CONFLICT (host) DO UPDATE SET instances = instances + 1;
      END;
      CREATE TRIGGER hypervisor_load_delete AFTER DELETE ON objects WHEN OLD.kind = 'instance'
      BEGIN
        UPDATE hypervisor_load SET instances = instances - 1 WHERE host = json_extract(OLD.body, '$.host');
      END;
      CREATE TRIGGER hypervisor_load_move AFTER UPDATE OF body ON objects
        WHEN NEW.kind = 'instance'
          AND json_extract(OLD.body, '$.host') IS NOT json_extract(NEW.body, '$.host')
      BEGIN
        UPDATE hypervisor_load SET instances = instances - 1 WHERE host = json_extract(OLD.body, '$.host');
        INSERT INTO hypervisor_load (host, instances) VALUES (json_extract(NEW.body, '$.host'), 1)
          ON CONFLICT (host) DO UPDATE SET instances = instances + 1;
      END;
    `,
  },
  {
    version: 3,
    name: 'the compiler allocations kept across restarts',
    sql: `
      -- What the compiler handed out (a VPC's L3 VNI and SNAT address, a subnet's VNI), so that a
      -- restart gives every object what it had; a row goes with its object.
      CREATE TABLE allocations (
        object TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
        kind   TEXT NOT NULL CHECK (kind IN ('l3-vni', 'l2-vni', 'snat')),
        value  TEXT NOT NULL,
        PRIMARY KEY (object, kind)
      );
    `,
  },
];

/** Applies the missing migrations; returns the schema version now in force. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`);
  const current = (
    db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }
  ).v;
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current !== null && current > known)
    throw new Error(
      `the database has schema version ${current}, newer than this vnet knows (${known}): use a newer vnet`,
    );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (current !== null && m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }).immediate();
  }
  return Math.max(current ?? 0, known);
}
