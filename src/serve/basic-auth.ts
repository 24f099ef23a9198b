import { createHash } from 'node:crypto';
import { compareSync } from 'bcryptjs';

/** A hash of a password nobody has: unknown users cost a bcrypt comparison too, so timing tells nothing. */
const DUMMY_HASH = '$2b$10$/byxGoG9cGv7cbBc8eiT9uodzSQsccqgsPUKrgpFhpeEloDOXo6u.';

/** Verified pairs kept: bcrypt costs ~50-100 ms of CPU, too much for every scrape (exporter-toolkit caches too). */
const CACHE_SIZE = 64;

/**
 * bcrypt comparisons of pairs not verified before: a burst of BURST, then RATE per second. A comparison
 * blocks the event loop for 50-100 ms, so a client sending wrong passwords as fast as it can would
 * otherwise take the whole core and every scrape with it; with this bound it takes at most ~20 % of a
 * core and gets 429 for the rest. A pair verified once (Prometheus' own) does not need the budget.
 */
const BURST = 4;
const RATE = 2;

/** The outcome of a check: let in, refuse (401), or too many new passwords just now (429). */
export type AuthResult = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** Monotonic clock in milliseconds (tests inject one). */
  now?: () => number;
  burst?: number;
  perSecond?: number;
}

/**
 * HTTP basic authentication against bcrypt hashes. A pair that verified is remembered (the key holds a
 * SHA-256 of the password, never the password); wrong pairs are not, so a client trying passwords can
 * neither evict the right ones nor fill memory, and the budget above bounds what its tries cost.
 */
export class BasicAuth {
  private readonly verified = new Map<string, true>();
  private readonly now: () => number;
  private readonly burst: number;
  private readonly perMs: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    options: BasicAuthOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.burst = options.burst ?? BURST;
    this.perMs = (options.perSecond ?? RATE) / 1000;
    this.tokens = this.burst;
    this.last = this.now();
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Whether an Authorization header carries a known user with the right password. */
  check(header: string | undefined): AuthResult {
    if (!this.enabled) return 'ok';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
    if (!m) return 'denied';
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'denied';
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = `${user}\0${createHash('sha256').update(password).digest('hex')}`;
    if (this.verified.has(key)) return 'ok';
    if (!this.take()) return 'busy';
    const hash = this.users.get(user);
    if (!(compareSync(password, hash ?? DUMMY_HASH) && hash !== undefined)) return 'denied';
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, true);
    return 'ok';
  }

  /** Take one comparison from the bucket, refilled by the time since the last take. */
  private take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
