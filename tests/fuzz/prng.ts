// mulberry32: a small, fast, seedable PRNG. The same seed gives the same
// inputs on every runtime, so a fuzz run is reproducible from its seed.

export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A 32-bit unsigned integer. */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, bound). */
  int(bound: number): number {
    if (bound <= 1) return 0;
    if (bound <= 0x100000000) return Math.floor((this.next() / 0x100000000) * bound);
    return Math.floor(((this.next() * 0x100000000 + this.next()) / 2 ** 64) * bound);
  }

  /** An integer in [low, high]. */
  range(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A size that is usually small, sometimes large: log-uniform up to `max`. */
  size(max: number): number {
    const bits = this.int(Math.ceil(Math.log2(max + 1)) + 1);
    return Math.min(max, this.int(2 ** bits));
  }
}

/** A seed from the clock, for runs without --seed. */
export function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x100000000)) >>> 0;
}
