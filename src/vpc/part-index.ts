/**
 * Keys that belong to a part of the data plane (a tenant, see apply.ts): which part holds a key,
 * and a part's keys without walking everyone else's, so a part's apply costs what the part holds.
 */
export class PartIndex<K> {
  private readonly partOf = new Map<K, string>();
  private readonly byPart = new Map<string, Set<K>>();

  has(key: K): boolean {
    return this.partOf.has(key);
  }

  set(key: K, part: string): void {
    this.delete(key);
    this.partOf.set(key, part);
    let keys = this.byPart.get(part);
    if (keys === undefined) {
      keys = new Set();
      this.byPart.set(part, keys);
    }
    keys.add(key);
  }

  /** Forgets `key`; whether it was there. */
  delete(key: K): boolean {
    const part = this.partOf.get(key);
    if (part === undefined) return false;
    this.partOf.delete(key);
    const keys = this.byPart.get(part)!;
    keys.delete(key);
    if (keys.size === 0) this.byPart.delete(part);
    return true;
  }

  /** The keys of `part` (a copy: the caller may delete while going through it). */
  keysOf(part: string): K[] {
    return [...(this.byPart.get(part) ?? [])];
  }
}
