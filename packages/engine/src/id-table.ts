// Positive safe-integer ids (order ids, user ids) → int32 slots, in one flat buffer: open
// addressing, linear probing, backward-shift deletion (no tombstones), so a steady state of
// inserts and deletes allocates nothing (a Map rehashes), and a lookup touches one cache
// line: each 16-byte bucket holds the key (float64) and its value (int32) side by side.

const EMPTY = 0;
const TWO_POW_32 = 4294967296;

export class IdTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let buckets = 16;
    while (buckets < initialCapacity * 2) buckets *= 2;
    const buffer = new ArrayBuffer(buckets * 16);
    this.keys = new Float64Array(buffer);
    this.values = new Int32Array(buffer);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.count;
  }

  private home(id: number): number {
    // Mix the low and high 32 bits; ids are integers up to 2^53.
    const lo = id >>> 0;
    const hi = (id / TWO_POW_32) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The slot stored for `id`, or -1. */
  get(id: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let b = this.home(id);
    for (;;) {
      const key = keys[b << 1];
      if (key === id) return this.values[(b << 2) + 2] ?? -1;
      if (key === EMPTY) return -1;
      b = (b + 1) & mask;
    }
  }

  /** Stores `id` → `value`; `id` must be absent and > 0. */
  set(id: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let b = this.home(id);
    while (keys[b << 1] !== EMPTY) b = (b + 1) & mask;
    keys[b << 1] = id;
    this.values[(b << 2) + 2] = value;
    this.count += 1;
  }

  /** Removes `id` if present. */
  delete(id: number): void {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let b = this.home(id);
    for (;;) {
      const key = keys[b << 1];
      if (key === EMPTY) return;
      if (key === id) break;
      b = (b + 1) & mask;
    }
    this.count -= 1;
    // Shift back any later entry of the probe run whose home is not between the hole and it.
    let hole = b;
    let j = b;
    for (;;) {
      j = (j + 1) & mask;
      const key = keys[j << 1] ?? EMPTY;
      if (key === EMPTY) break;
      const home = this.home(key);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        keys[hole << 1] = key;
        values[(hole << 2) + 2] = values[(j << 2) + 2] ?? 0;
        hole = j;
      }
    }
    keys[hole << 1] = EMPTY;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const buckets = (this.mask + 1) * 2;
    const buffer = new ArrayBuffer(buckets * 16);
    this.keys = new Float64Array(buffer);
    this.values = new Int32Array(buffer);
    this.mask = buckets - 1;
    this.count = 0;
    for (let b = 0; b < buckets / 2; b++) {
      const key = oldKeys[b << 1] ?? EMPTY;
      if (key !== EMPTY) this.set(key, oldValues[(b << 2) + 2] ?? 0);
    }
  }
}
