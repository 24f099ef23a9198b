/**
 * Append-only typed buffers reused across processes: per-page data is collected without per-page
 * objects, then copied out at the exact length.
 */
export class GrowableFloat64 {
  private data: Float64Array;
  length = 0;
  constructor(initial = 1 << 16) {
    this.data = new Float64Array(initial);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  /** Copy of the filled part; the scratch space is then reused. */
  take(): Float64Array {
    const out = this.data.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

export class GrowableUint8 {
  private data: Uint8Array;
  length = 0;
  constructor(initial = 1 << 16) {
    this.data = new Uint8Array(initial);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  take(): Uint8Array {
    const out = this.data.slice(0, this.length);
    this.length = 0;
    return out;
  }
}
