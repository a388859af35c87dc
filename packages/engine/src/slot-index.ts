// Safe-integer key (order id, price) → slot of the record that holds it, in 4 bytes per
// bucket so that the index of a deep book stays in the core's own cache. A bucket keeps 8
// bits of the key's hash and the slot; a hit is confirmed against the key stored in the
// record (`keys[slot * stride]`), which the caller reads next anyway. Open addressing, linear
// probing, backward-shift deletion (no tombstones), one Int32Array: nothing allocated in a
// steady state.

const EMPTY = 0;
const SLOT_BITS = 0xffffff;
/** Slots must stay below this (the bucket stores slot + 1 in 24 bits). */
export const MAX_INDEXED_SLOTS = SLOT_BITS - 1;
const TWO_POW_32 = 4294967296;

function hash(key: number): number {
  const lo = key | 0;
  const hi = (key / TWO_POW_32) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class SlotIndex {
  private buckets: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let size = 16;
    while (size < initialCapacity * 2) size *= 2;
    this.buckets = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding `key`, or -1. */
  get(key: number, keys: Float64Array, stride: number): number {
    const buckets = this.buckets;
    const mask = this.mask;
    const h = hash(key);
    const tag = h >>> 24;
    let b = h & mask;
    for (;;) {
      const v = buckets[b] ?? EMPTY;
      if (v === EMPTY) return -1;
      if (v >>> 24 === tag) {
        const slot = (v & SLOT_BITS) - 1;
        if (keys[slot * stride] === key) return slot;
      }
      b = (b + 1) & mask;
    }
  }

  /** Stores `key` → `slot`; the key must be absent and already stored in its record. */
  set(key: number, slot: number, keys: Float64Array, stride: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow(keys, stride);
    this.insert(hash(key), slot);
    this.count += 1;
  }

  private insert(h: number, slot: number): void {
    const buckets = this.buckets;
    const mask = this.mask;
    let b = h & mask;
    while (buckets[b] !== EMPTY) b = (b + 1) & mask;
    buckets[b] = ((h >>> 24) << 24) | (slot + 1);
  }

  /** Removes `key`, stored at `slot` (its record must still hold the key). */
  delete(key: number, slot: number, keys: Float64Array, stride: number): void {
    const buckets = this.buckets;
    const mask = this.mask;
    const h = hash(key);
    const stored = ((h >>> 24) << 24) | (slot + 1) | 0;
    let b = h & mask;
    for (;;) {
      const v = buckets[b] ?? EMPTY;
      if (v === EMPTY) return;
      if (v === stored) break;
      b = (b + 1) & mask;
    }
    this.count -= 1;
    // Shift back any later entry of the probe run whose home is not between the hole and it.
    let hole = b;
    let j = b;
    for (;;) {
      j = (j + 1) & mask;
      const v = buckets[j] ?? EMPTY;
      if (v === EMPTY) break;
      const home = hash(keys[((v & SLOT_BITS) - 1) * stride] ?? 0) & mask;
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        buckets[hole] = v;
        hole = j;
      }
    }
    buckets[hole] = EMPTY;
  }

  private grow(keys: Float64Array, stride: number): void {
    const old = this.buckets;
    const size = (this.mask + 1) * 2;
    this.buckets = new Int32Array(size);
    this.mask = size - 1;
    for (let b = 0; b < old.length; b++) {
      const v = old[b] ?? EMPTY;
      if (v === EMPTY) continue;
      const slot = (v & SLOT_BITS) - 1;
      this.insert(hash(keys[slot * stride] ?? 0), slot);
    }
  }
}
