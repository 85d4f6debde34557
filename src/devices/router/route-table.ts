/**
 * An IPv4 routing table with longest-prefix match, kept in a path-compressed binary trie
 * (a Patricia/radix tree) whose nodes live in typed arrays.
 *
 * Guarantees: `lookup` returns the best route of the longest prefix containing the address, walks
 * at most 33 nodes and allocates nothing, whatever the number of routes (100,000+ is fine). Once
 * the trie is large, a direct index on the top 16 address bits (512 KiB) lets a lookup start
 * below /16, so a large table needs a few node visits per lookup instead of ~20.
 *
 * Several routes may share a prefix: all are kept, and the active one is the lowest metric, then
 * the earliest added. Those sharing the lowest metric are equal-cost paths (ECMP): `lookupMultipath`
 * picks one by a flow hash, `(hash >>> 0) % n` (the modulo-N selection of RFC 2992, which moves
 * most flows when a path is added or removed), allocating nothing. `add` rejects a prefix with
 * host bits set or a length outside 0..32, and leaves the table unchanged when it throws. Removal
 * leaves the trie in compressed form (every node without routes, but the root, has two children:
 * the trie a table built afresh from the remaining routes would have), restored only along the
 * paths of the prefixes that lost their last route, and later adds reuse the freed nodes.
 * `removeAt` (one prefix's routes) walks at most 33 nodes, whatever the number of routes;
 * `remove` (any routes, by a predicate) calls the predicate once per route, then costs a walk per
 * prefix it emptied. Either, with the direct index, recomputes only the /16 blocks of the emptied
 * prefixes (one block for a /16 or longer), as `add` does.
 */
import { formatIpv4, type Ipv4, prefixMask } from '../../wire/index.js';

/** `local`: a host route for one of the node's own addresses (the lecture's /32 rows). */
/** `evpn`: a host route the overlay controller installed in a tenant VRF (symmetric IRB). */
/** `blackhole`: a route that drops what it matches, counted (a VPC route table's blackhole target). */
export type RouteSource = 'connected' | 'local' | 'static' | 'default' | 'evpn' | 'blackhole';

export interface Route {
  /** Network address (host bits zero). */
  readonly prefix: Ipv4;
  /** 0..32. */
  readonly prefixLength: number;
  /** IPv4 of the next hop, or null for directly connected / interface routes. */
  readonly nextHop: Ipv4 | null;
  /** Outgoing interface name. */
  readonly iface: string;
  readonly source: RouteSource;
  /** Lower wins among routes for the same prefix. */
  readonly metric: number;
}

/**
 * How a multipath lookup chose, filled into a caller-owned record (see `lookupMultipathBy`), so that
 * counters and traces can say so without an allocation per packet.
 */
export interface MultipathChoice {
  /** Equal-cost routes of the matched prefix: 0 when no route matched, 1 when there was no choice. */
  width: number;
  /** Position of the chosen route among them, 0-based (0 when width <= 1). */
  index: number;
  /** The flow hash the choice was made by (unsigned), or -1 when it was not needed (width <= 1). */
  hash: number;
}

export function newMultipathChoice(): MultipathChoice {
  return { width: 0, index: 0, hash: -1 };
}

export interface RouteExplanation<R> {
  readonly route: R | undefined;
  /** How many prefixes in the table contain the address (the route's prefix is the longest). */
  readonly candidates: number;
}

/** Words per node: prefix, meta (length | ACTIVE), child for next bit 0, child for next bit 1. */
const STRIDE = 4;
const META = 1;
const ZERO = 2;
const LENGTH_BITS = 0x3f;
/** Set in a node's meta when the node has routes. */
const ACTIVE = 0x100;

/** How many routes at the head of `list` (sorted best first) share its lowest metric: at least 1. */
function equalCostWidth(list: readonly Route[]): number {
  const best = list[0]!.metric;
  let n = 1;
  while (n < list.length && list[n]!.metric === best) n++;
  return n;
}

function setChoice(choice: MultipathChoice, width: number, index: number, hash: number): void {
  choice.width = width;
  choice.index = index;
  choice.hash = hash;
}

/** Bit `i` of `x`, counting from the most significant (bit 0 is the top bit of the first octet). */
function bitAt(x: number, i: number): number {
  return (x << i) >>> 31;
}

/** Throws unless `prefix/len` is an IPv4 network: a length in 0..32, an address, host bits zero. */
function checkPrefix(what: string, prefix: number, len: number): void {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new Error(`invalid ${what}: prefix length ${len} is not an integer in 0..32`);
  }
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 0xffff_ffff) {
    throw new Error(`invalid ${what}: prefix ${prefix} is not an IPv4 address`);
  }
  if ((prefix & ~prefixMask(len)) !== 0) {
    throw new Error(
      `invalid ${what}: ${formatIpv4(prefix)}/${len} has host bits set (network is ${formatIpv4((prefix & prefixMask(len)) >>> 0)}/${len})`,
    );
  }
}

export interface RouteTableOptions {
  /**
   * Trie size (in nodes, about two per prefix) from which the /16 direct index is kept; it is
   * dropped again when removal halves the trie below this. Default 8192; 0 keeps it always,
   * Infinity never.
   */
  readonly directIndexFrom?: number;
}

/** Number of direct-index entries: one per /16. */
const INDEX_ENTRIES = 1 << 16;

/**
 * A path-compressed binary trie in one array of small integers, a node per STRIDE words so a step
 * of the walk reads one cache line. The array is a JS array (V8 keeps its int32s unboxed, on the
 * heap), not an `Int32Array`: a typed array's buffer lives outside the heap, and a service fabric
 * making tens of thousands of VRFs at once (a restart), each with a table of a hundred host routes,
 * made V8 collect its whole heap for every 64 MB of those (external memory pressure). Node n (at word 4n) has a prefix (as int32, host bits zero), its length
 * and ACTIVE flag, and two children (0 meaning none: node 0 is the root, 0.0.0.0/0, which is
 * nobody's child); `lists[n]` holds its routes best first. A child's prefix extends its parent's
 * by at least one bit, and the next bit picks which child. Freed nodes are chained through their
 * bit-0 child word.
 *
 * The optional direct index has, for each /16 block, the node where a lookup in it continues
 * (`index[2e]`: the block's own /16 node, or the first node longer than /16 inside the block; 0 for
 * none) and the node of the longest active prefix of /16 or shorter containing the block
 * (`index[2e + 1]`, -1 for none).
 */
export class RouteTable<R extends Route = Route> {
  /** The root's words, then each node's (values are int32: stored prefixes go through `| 0`). */
  private nodes: number[] = [0, 0, 0, 0];
  private lists: (R[] | undefined)[] = [];
  /** Nodes ever allocated (the next fresh index). */
  private used = 1;
  /** Head of the free-node chain, 0 when empty. */
  private freeHead = 0;
  /** Nodes in the trie (allocated and not freed). */
  private liveNodes = 1;
  private count = 0;
  private readonly directIndexFrom: number;
  private index: Int32Array | null = null;

  constructor(options: RouteTableOptions = {}) {
    this.directIndexFrom = options.directIndexFrom ?? 8192;
    this.lists.push(undefined);
    this.updateIndex();
  }

  /** Number of routes (not prefixes). */
  get size(): number {
    return this.count;
  }

  /**
   * Adds a route. Routes for the same prefix are all kept; the active one is the lowest metric,
   * then the earliest added. Throws on host bits set, a length outside 0..32, or a NaN metric.
   */
  add(route: R): void {
    const { prefix, prefixLength: len, metric } = route;
    checkPrefix('route', prefix, len);
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new Error(`invalid route: metric ${metric} is not a number`);
    }
    const n = this.nodeFor(prefix | 0, len);
    const activated = this.attach(n, route);
    if (this.index === null) {
      if (this.liveNodes >= this.directIndexFrom) this.updateIndex();
    } else if (activated) {
      // Only the blocks of n's prefix can change: elsewhere the walk meets at most a new branch
      // node, which has no routes and is no block's start unless it lies in one of n's blocks
      // (a start is a /16 node or the first node longer than /16).
      this.reindex(n);
    }
  }

  /**
   * Removes every route `match` accepts (it is called once per route); returns how many. Each prefix
   * left without routes is pruned from the trie by a walk to it (see `removeAt` to name the prefix).
   */
  remove(match: (r: R) => boolean): number {
    let removed = 0;
    /** The emptied prefixes (prefix, length pairs), for the direct index. */
    const emptied: number[] = [];
    try {
      for (let n = 0; n < this.used; n++) {
        if (this.lists[n] === undefined) continue;
        const at = STRIDE * n;
        const prefix = this.nodes[at]!;
        const len = this.nodes[at + META]! & LENGTH_BITS;
        const gone = this.removeFrom(n, match);
        if (gone < 0) {
          removed -= gone;
          emptied.push(prefix, len);
        } else {
          removed += gone;
        }
      }
    } finally {
      if (emptied.length > 0) this.reindexAfterRemoval(emptied);
    }
    return removed;
  }

  /**
   * Removes the routes of exactly `prefix/prefixLength` that `match` accepts (by default all; it is
   * called once per route of that prefix); returns how many. The cost does not grow with the table:
   * a walk to the prefix (at most 33 nodes), one more to prune it when it lost its last route, and
   * with the direct index the /16 blocks it covers, as `add`. Throws, removing nothing, on host bits
   * set or a length outside 0..32, and changes nothing when `match` throws.
   */
  removeAt(prefix: Ipv4, prefixLength: number, match: (r: R) => boolean = () => true): number {
    checkPrefix('prefix', prefix, prefixLength);
    const n = this.find(prefix | 0, prefixLength);
    // A node without routes (the root, a branch node) is no route's prefix.
    if (n < 0 || this.lists[n] === undefined) return 0;
    const gone = this.removeFrom(n, match);
    if (gone >= 0) return gone;
    this.reindexAfterRemoval([prefix | 0, prefixLength]);
    return -gone;
  }

  /**
   * Removes node n's routes that `match` accepts; when none is left, prunes n (and what that leaves
   * uncompressed) from the trie. Returns how many routes went, negated when n lost its last one
   * (the direct index is then stale: see `reindexAfterRemoval`). Changes nothing if `match` throws.
   */
  private removeFrom(n: number, match: (r: R) => boolean): number {
    const list = this.lists[n]!;
    // A list with nothing to remove (most, when `remove` goes over the whole table) is not copied.
    let first = 0;
    while (first < list.length && !match(list[first]!)) first++;
    if (first === list.length) return 0;
    const kept = list.slice(0, first);
    for (let i = first + 1; i < list.length; i++) if (!match(list[i]!)) kept.push(list[i]!);
    const gone = list.length - kept.length;
    this.count -= gone;
    if (kept.length > 0) {
      this.lists[n] = kept;
      return gone;
    }
    this.lists[n] = undefined;
    this.nodes[STRIDE * n + META] = this.nodes[STRIDE * n + META]! & LENGTH_BITS;
    this.prune(n);
    return -gone;
  }

  /**
   * The trie's shape, for tests: `nodes` reached by a walk from the root, `live` the count the table
   * keeps (the same number), and `allocated` node slots ever taken (freed nodes are reused first,
   * so this is the most nodes the trie ever had at once). Walks every node.
   */
  trieShape(): { nodes: number; live: number; allocated: number } {
    const walk = (n: number): number => {
      const zero = this.nodes[STRIDE * n + ZERO]!;
      const one = this.nodes[STRIDE * n + ZERO + 1]!;
      return 1 + (zero === 0 ? 0 : walk(zero)) + (one === 0 ? 0 : walk(one));
    };
    return { nodes: walk(0), live: this.liveNodes, allocated: this.used };
  }

  /** Longest-prefix match: the active route of the longest prefix containing `dst` (a uint32). */
  lookup(dst: Ipv4): R | undefined {
    const found = this.matchNode(dst);
    return found < 0 ? undefined : this.lists[found]![0];
  }

  /**
   * The equal-cost routes of the longest prefix containing `dst`: those sharing its lowest metric,
   * in the order they were added (the first is `lookup`'s). Empty when no route matches.
   */
  equalCost(dst: Ipv4): R[] {
    const found = this.matchNode(dst);
    if (found < 0) return [];
    const list = this.lists[found]!;
    return list.slice(0, equalCostWidth(list));
  }

  /**
   * Multipath longest-prefix match: the one of `equalCost(dst)` at `(hash >>> 0) % n`, so a flow's
   * packets (one hash) all take one path. The same route as `lookup` when the prefix has a single
   * best route. Allocates nothing.
   */
  lookupMultipath(dst: Ipv4, hash: number): R | undefined {
    const found = this.matchNode(dst);
    if (found < 0) return undefined;
    const list = this.lists[found]!;
    const width = equalCostWidth(list);
    return width === 1 ? list[0] : list[(hash >>> 0) % width];
  }

  /**
   * `lookupMultipath` with the hash computed only when there is a choice: `hashOf(key)` is called,
   * once, only when the prefix has several equal-cost routes, so a single-route lookup costs what
   * `lookup` does. Pass a function that closes over nothing (and the packet as `key`) to stay
   * allocation-free. `choice`, when given, is filled with how the route was chosen.
   */
  lookupMultipathBy<K>(
    dst: Ipv4,
    key: K,
    hashOf: (key: K) => number,
    choice?: MultipathChoice,
  ): R | undefined {
    const found = this.matchNode(dst);
    if (found < 0) {
      if (choice) setChoice(choice, 0, 0, -1);
      return undefined;
    }
    const list = this.lists[found]!;
    const width = equalCostWidth(list);
    if (width === 1) {
      if (choice) setChoice(choice, 1, 0, -1);
      return list[0];
    }
    const hash = hashOf(key) >>> 0;
    const index = hash % width;
    if (choice) setChoice(choice, width, index, hash);
    return list[index];
  }

  /** The node of the longest prefix with routes containing `dst`, or -1. Walks at most 33 nodes. */
  private matchNode(dst: Ipv4): number {
    const nodes = this.nodes;
    const index = this.index;
    let found: number;
    let n: number;
    if (index === null) {
      // The root (0.0.0.0/0) matches everything.
      found = nodes[META]! & ACTIVE ? 0 : -1;
      n = nodes[ZERO + (dst >>> 31)]!;
    } else {
      const at = (dst >>> 16) << 1;
      n = index[at]!;
      found = index[at + 1]!;
    }
    while (n !== 0) {
      const at = STRIDE * n;
      const meta = nodes[at + META]!;
      const len = meta & LENGTH_BITS;
      // The prefix matches when dst agrees with it on the first `len` bits.
      if (Math.clz32(dst ^ nodes[at]!) < len) break;
      if (meta & ACTIVE) found = n;
      n = nodes[at + ZERO + bitAt(dst, len)]!;
    }
    return found;
  }

  /** Like lookup, but also says how many prefixes matched (for "longest of 3 candidates" traces). */
  explain(dst: Ipv4): RouteExplanation<R> {
    const nodes = this.nodes;
    let found = -1;
    let candidates = 0;
    let n = 0;
    do {
      const at = STRIDE * n;
      const meta = nodes[at + META]!;
      const len = meta & LENGTH_BITS;
      if (Math.clz32(dst ^ nodes[at]!) < len) break;
      if (meta & ACTIVE) {
        found = n;
        candidates++;
      }
      n = nodes[at + ZERO + bitAt(dst, len)]!;
    } while (n !== 0);
    return { route: found < 0 ? undefined : this.lists[found]![0], candidates };
  }

  /** All routes, sorted by prefix, then prefix length, then metric (then the order added). */
  routes(): R[] {
    return this.routesWhere(() => true);
  }

  /** The routes `match` accepts, in the order of `routes()` (without listing the others). */
  routesWhere(match: (r: R) => boolean): R[] {
    const out: R[] = [];
    // A pre-order walk (node, then bit-0 side, then bit-1 side) visits prefixes in exactly this order.
    const walk = (n: number): void => {
      const list = this.lists[n];
      if (list !== undefined) for (const r of list) if (match(r)) out.push(r);
      const zero = this.nodes[STRIDE * n + ZERO]!;
      const one = this.nodes[STRIDE * n + ZERO + 1]!;
      if (zero !== 0) walk(zero);
      if (one !== 0) walk(one);
    };
    walk(0);
    return out;
  }

  private lengthOf(n: number): number {
    return this.nodes[STRIDE * n + META]! & LENGTH_BITS;
  }

  private setChild(n: number, bit: number, child: number): void {
    this.nodes[STRIDE * n + ZERO + bit] = child;
  }

  /** The node for exactly `prefix/len`, created (splitting an edge if needed) when missing. */
  private nodeFor(prefix: number, len: number): number {
    let n = 0;
    for (;;) {
      const nodeLength = this.lengthOf(n);
      // Invariant: node n's prefix is a prefix of the one sought, and no longer.
      if (nodeLength === len) return n;
      const bit = bitAt(prefix, nodeLength);
      const child = this.nodes[STRIDE * n + ZERO + bit]!;
      if (child === 0) {
        const leaf = this.allocate(prefix, len);
        this.setChild(n, bit, leaf);
        return leaf;
      }
      const childPrefix = this.nodes[STRIDE * child]!;
      const childLength = this.lengthOf(child);
      const common = Math.min(Math.clz32(prefix ^ childPrefix), childLength, len);
      if (common === childLength) {
        n = child;
        continue;
      }
      if (common === len) {
        // The new prefix sits on the edge to the child: insert it in between.
        const middle = this.allocate(prefix, len);
        this.setChild(middle, bitAt(childPrefix, len), child);
        this.setChild(n, bit, middle);
        return middle;
      }
      // The prefixes part ways at bit `common`: a branch node there holds both.
      const branch = this.allocate(prefix & prefixMask(common), common);
      const leaf = this.allocate(prefix, len);
      this.setChild(branch, bitAt(prefix, common), leaf);
      this.setChild(branch, bitAt(childPrefix, common), child);
      this.setChild(n, bit, branch);
      return leaf;
    }
  }

  /**
   * Adds `route` to node n's list after every route with a metric no higher (so ties keep
   * insertion order); says whether n was without routes before.
   */
  private attach(n: number, route: R): boolean {
    const list = this.lists[n];
    if (list === undefined) {
      // A one-route list as a literal: 56 bytes, where `splice` into an empty array reserves room
      // for 17 routes (184 bytes; a VRF holds a host route per instance of its VPC elsewhere).
      this.lists[n] = [route];
      this.nodes[STRIDE * n + META] = this.nodes[STRIDE * n + META]! | ACTIVE;
      this.count++;
      return true;
    }
    let i = list.length;
    while (i > 0 && list[i - 1]!.metric > route.metric) i--;
    list.splice(i, 0, route);
    this.count++;
    return false;
  }

  /** Creates, rebuilds or drops the direct index to suit the trie's size. */
  private updateIndex(): void {
    if (this.liveNodes < (this.index === null ? this.directIndexFrom : this.directIndexFrom / 2)) {
      this.index = null;
      return;
    }
    this.index ??= new Int32Array(2 * INDEX_ENTRIES);
    for (let e = 0; e < INDEX_ENTRIES; e++) this.indexBlock(e);
  }

  /** Recomputes the direct index for the /16 blocks that node n's prefix covers. */
  private reindex(n: number): void {
    const at = STRIDE * n;
    this.reindexPrefix(this.nodes[at]!, this.nodes[at + META]! & LENGTH_BITS);
  }

  /** Recomputes the direct index for the /16 blocks that `prefix/len` covers. */
  private reindexPrefix(prefix: number, len: number): void {
    const first = prefix >>> 16;
    const blocks = 1 << (16 - Math.min(len, 16));
    for (let e = first; e < first + blocks; e++) this.indexBlock(e);
  }

  /** Walks the trie down to /16 for block e (whose addresses are e << 16 .. (e << 16) + 0xffff). */
  private indexBlock(e: number): void {
    const block = e << 16;
    let best = -1;
    let start = 0;
    let n = 0;
    for (;;) {
      const at = STRIDE * n;
      const meta = this.nodes[at + META]!;
      const len = meta & LENGTH_BITS;
      // A node that disagrees with the block in its first 16 bits: nothing below it matches.
      if (Math.clz32(block ^ this.nodes[at]!) < Math.min(len, 16)) break;
      if (len > 16) {
        start = n;
        break;
      }
      if (meta & ACTIVE) best = n;
      if (len === 16) {
        start = n;
        break;
      }
      n = this.nodes[at + ZERO + bitAt(block, len)]!;
      if (n === 0) break;
    }
    this.index![2 * e] = start;
    this.index![2 * e + 1] = best;
  }

  /** The node of exactly `prefix/len` (host bits zero), or -1. Walks at most 33 nodes. */
  private find(prefix: number, len: number): number {
    let n = 0;
    for (;;) {
      const at = STRIDE * n;
      const nodeLength = this.nodes[at + META]! & LENGTH_BITS;
      if (nodeLength > len || Math.clz32(prefix ^ this.nodes[at]!) < nodeLength) return -1;
      // Both have their host bits zero: agreeing on the first `len` bits, they are the same prefix.
      if (nodeLength === len) return n;
      n = this.nodes[at + ZERO + bitAt(prefix, nodeLength)]!;
      if (n === 0) return -1;
    }
  }

  /**
   * Node n has just lost its last route: restores the compressed form around it. n leaves the trie
   * unless it has two children (its one child, if any, takes its place); a leaf's parent without
   * routes (not the root) is left with one child, so it goes too, its other child taking its place.
   * Nothing else changes: one walk from the root to n.
   */
  private prune(n: number): void {
    if (n === 0) return; // the root stays, with or without routes
    const nodes = this.nodes;
    const at = STRIDE * n;
    const zero = nodes[at + ZERO]!;
    const one = nodes[at + ZERO + 1]!;
    if (zero !== 0 && one !== 0) return; // a branch node now
    const prefix = nodes[at]!;
    let grandparent = 0;
    let parent = 0;
    for (;;) {
      const child = nodes[STRIDE * parent + ZERO + bitAt(prefix, this.lengthOf(parent))]!;
      if (child === n) break;
      grandparent = parent;
      parent = child;
    }
    const side = bitAt(prefix, this.lengthOf(parent));
    const only = zero !== 0 ? zero : one;
    this.setChild(parent, side, only);
    this.release(n);
    if (only !== 0 || parent === 0 || this.lists[parent] !== undefined) return;
    // The parent was a branch node: its other child takes its place.
    const sibling = nodes[STRIDE * parent + ZERO + (side ^ 1)]!;
    this.setChild(grandparent, bitAt(prefix, this.lengthOf(grandparent)), sibling);
    this.release(parent);
  }

  /**
   * After removals that emptied the prefixes in `emptied` (prefix, length pairs): drops the direct
   * index when the trie fell below half its threshold, or recomputes the blocks those prefixes
   * cover, all of them if that is as much work. Only those blocks can change: another block's walk
   * at most skips a pruned parent, which had no routes and, when it started a block (being /16 or
   * longer), started the block of its emptied child.
   */
  private reindexAfterRemoval(emptied: readonly number[]): void {
    if (this.index === null) return;
    if (this.liveNodes < this.directIndexFrom / 2) {
      this.index = null;
      return;
    }
    let blocks = 0;
    for (let i = 1; i < emptied.length; i += 2) blocks += 1 << (16 - Math.min(emptied[i]!, 16));
    if (blocks >= INDEX_ENTRIES) {
      for (let e = 0; e < INDEX_ENTRIES; e++) this.indexBlock(e);
      return;
    }
    for (let i = 0; i < emptied.length; i += 2) this.reindexPrefix(emptied[i]!, emptied[i + 1]!);
  }

  private allocate(prefix: number, len: number): number {
    let n = this.freeHead;
    if (n !== 0) {
      this.freeHead = this.nodes[STRIDE * n + ZERO]!;
    } else {
      if (STRIDE * this.used === this.nodes.length) this.nodes.push(0, 0, 0, 0);
      n = this.used++;
      this.lists.push(undefined);
    }
    this.liveNodes++;
    const at = STRIDE * n;
    this.nodes[at] = prefix | 0;
    this.nodes[at + META] = len;
    this.nodes[at + ZERO] = 0;
    this.nodes[at + ZERO + 1] = 0;
    return n;
  }

  private release(n: number): void {
    this.lists[n] = undefined;
    const at = STRIDE * n;
    this.nodes[at + META] = 0;
    this.nodes[at + ZERO + 1] = 0;
    this.nodes[at + ZERO] = this.freeHead;
    this.freeHead = n;
    this.liveNodes--;
  }
}
