/**
 * The database under the store: opening it (WAL journal, `synchronous=FULL`: every commit is
 * fsynced before the API answers, so an acknowledged change survives a process kill and a power
 * cut; foreign keys on; a busy timeout for a second reader), migrating it, and the transactions
 * every change runs in.
 *
 * `Transactions.tx` runs a change in one IMMEDIATE transaction (better-sqlite3 is synchronous, so
 * changes are serialized); a change is checked by `IntentHooks.check` before the commit (its
 * problems abort it, 422) and announced to `IntentHooks.changed` after it. `preview` runs a change
 * the same way and rolls it back.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Intent } from '../vpc/intent.js';
import { type Problem, ServiceError } from './errors.js';
import { MIGRATIONS, migrate } from './migrations.js';

/**
 * The compiler's seam. A change hands over only the tenants it touched (`tenants`) and their
 * objects (`intent`: each touched tenant's object and everything it owns), so checking and applying
 * a change costs what its tenants hold, not what the service holds. What crosses tenants (names of
 * tenants, instance MACs, elastic IP addresses, ids) is kept unique by the database's indexes.
 */
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

/**
 * Opens (creating it and its directory if need be) the database at `path` with its pragmas set,
 * then hands it to `use` (which migrates it, see `migrateDatabase`); closed again if `use` throws.
 */
export function openDatabase<T>(path: string, use: (db: Database.Database) => T): T {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    return use(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the missing migrations (migrations.ts); the schema version now. */
export function migrateDatabase(db: Database.Database): number {
  return migrate(db, MIGRATIONS);
}

/** The pragmas in force (for `vnet serve`'s start line and the tests). */
export function databaseSettings(db: Database.Database): {
  journalMode: string;
  synchronous: number;
  foreignKeys: number;
} {
  return {
    journalMode: db.pragma('journal_mode', { simple: true }) as string,
    synchronous: db.pragma('synchronous', { simple: true }) as number,
    foreignKeys: db.pragma('foreign_keys', { simple: true }) as number,
  };
}

/** Thrown inside a previewed change to roll it back. */
const ROLLBACK = Symbol('rollback');

/**
 * The store's transactions, and the hooks they call. `loadIntentOf` reads the touched tenants'
 * intent (inside the transaction: as it would be after the change).
 */
export class Transactions {
  private depth = 0;
  private dirty = false;
  /** The tenants the transaction under way changed objects of. */
  private touched = new Set<string>();
  /** Set while `preview` runs a change: the touched tenants' intent it would make. */
  private previewing: { intent: Intent | null; tenants: ReadonlySet<string> } | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly hooks: IntentHooks,
    private readonly loadIntentOf: (tenants: ReadonlySet<string>) => Intent,
  ) {}

  /** Marks the transaction as a change to `tenant`'s objects. */
  touch(tenant: string): void {
    this.dirty = true;
    this.touched.add(tenant);
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

  /**
   * Hands the stored intent to `hooks.changed`: the touched tenants' after each change, or the
   * whole intent (`vnet serve` calls it so at start).
   */
  publish(loadIntent: () => Intent, tenants?: ReadonlySet<string>): void {
    if (!this.hooks.changed) return;
    if (tenants === undefined) this.announce(loadIntent(), null);
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
}
