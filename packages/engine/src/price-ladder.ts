// One side's price levels: sorted flat arrays (best level last, so the best is O(1) and levels
// created or emptied near the top move few entries) plus a price → level hash, so finding the
// level of any price is O(1) however deep the book. Keys are `price` for bids and `-price` for
// asks, so both sides sort ascending towards their best. The hash confirms a hit against the
// level records' prices (`prices[level * PRICE_STRIDE]`), which the caller passes in.
import { SlotIndex } from "./slot-index";

/** float64s per level record; the price is the first. */
export const PRICE_STRIDE = 4;

const NIL = -1;

export class PriceLadder {
  keys: Float64Array;
  levels: Int32Array;
  length = 0;
  private readonly sign: number;
  private readonly index: SlotIndex;

  constructor(isBid: boolean, initialCapacity = 256) {
    this.sign = isBid ? 1 : -1;
    this.keys = new Float64Array(initialCapacity);
    this.levels = new Int32Array(initialCapacity);
    this.index = new SlotIndex(initialCapacity);
  }

  /** The best level's index in the level pool, or -1 when the side is empty. */
  best(): number {
    return this.length === 0 ? NIL : (this.levels[this.length - 1] ?? NIL);
  }

  /** The level at `price`, or -1. */
  find(price: number, prices: Float64Array): number {
    return this.index.get(price, prices, PRICE_STRIDE);
  }

  /** Adds `level` (whose record already holds `price`); the price must be absent. */
  add(price: number, level: number, prices: Float64Array): void {
    const position = this.search(this.sign * price);
    if (position >= 0) throw new RangeError(`price level ${price} already present`);
    this.insertAt(-position - 1, this.sign * price, level);
    this.index.set(price, level, prices, PRICE_STRIDE);
  }

  /** Removes the level at `price`, which must be present (its record still holding it). */
  remove(price: number, prices: Float64Array): void {
    const position = this.search(this.sign * price);
    if (position < 0) throw new RangeError(`price level ${price} missing`);
    const level = this.levels[position] ?? NIL;
    this.removeAt(position);
    this.index.delete(price, level, prices, PRICE_STRIDE);
  }

  /** Removes the best level (its record still holding its price). */
  removeBest(prices: Float64Array): void {
    const n = this.length - 1;
    this.index.delete(this.sign * (this.keys[n] ?? 0), this.levels[n] ?? NIL, prices, PRICE_STRIDE);
    this.length = n;
  }

  /**
   * Position of `key`, or `-(insertion point) - 1` when absent. Gallops down from the best
   * end, so levels near the top of the book are found in a few comparisons.
   */
  search(key: number): number {
    const keys = this.keys;
    const n = this.length;
    if (n === 0) return -1;
    const top = keys[n - 1] ?? 0;
    if (top <= key) return top === key ? n - 1 : -n - 1;
    // keys[hi] > key; find lo < hi with keys[lo] <= key (lo = -1 stands for -infinity).
    let hi = n - 1;
    let step = 1;
    let lo = hi - step;
    while (lo >= 0 && (keys[lo] ?? 0) > key) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    if (lo < 0) lo = -1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((keys[mid] ?? 0) > key) hi = mid;
      else lo = mid;
    }
    if (lo >= 0 && keys[lo] === key) return lo;
    return -(lo + 1) - 1;
  }

  private insertAt(position: number, key: number, level: number): void {
    if (this.length === this.keys.length) this.grow();
    const n = this.length;
    if (position < n) {
      this.keys.copyWithin(position + 1, position, n);
      this.levels.copyWithin(position + 1, position, n);
    }
    this.keys[position] = key;
    this.levels[position] = level;
    this.length = n + 1;
  }

  private removeAt(position: number): void {
    const n = this.length - 1;
    if (position < n) {
      this.keys.copyWithin(position, position + 1, n + 1);
      this.levels.copyWithin(position, position + 1, n + 1);
    }
    this.length = n;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const levels = new Int32Array(this.levels.length * 2);
    levels.set(this.levels);
    this.levels = levels;
  }
}
