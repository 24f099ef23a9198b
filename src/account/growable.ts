/**
 * An append-only typed buffer reused across processes: per-page data is collected without per-page
 * objects, then copied out at the exact length.
 */
export class Growable<T extends Uint8Array | Uint32Array> {
  private data: T;
  length = 0;

  constructor(
    private readonly make: (length: number) => T,
    initial = 1 << 16,
  ) {
    this.data = make(initial);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /**
   * The backing array, with room for `extra` more values after `length`: for a native loop that writes
   * in place and then sets `length`. Valid until the next push or reserve.
   */
  reserve(extra: number): T {
    if (this.length + extra > this.data.length) {
      let size = this.data.length * 2;
      while (size < this.length + extra) size *= 2;
      const bigger = this.make(size);
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    return this.data;
  }

  /** The filled part, without copying: valid until the next push or clear. */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }

  clear(): void {
    this.length = 0;
  }

  /** Copy of the filled part; the scratch space is then reused. */
  take(): T {
    const out = this.data.slice(0, this.length) as T;
    this.length = 0;
    return out;
  }
}

export const growableUint32 = () => new Growable((n) => new Uint32Array(n));
export const growableUint8 = () => new Growable((n) => new Uint8Array(n));
