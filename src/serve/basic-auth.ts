import { createHash } from 'node:crypto';
import { compareSync } from 'bcryptjs';

/** A hash of a password nobody has: unknown users cost a bcrypt comparison too, so timing tells nothing. */
const DUMMY_HASH = '$2b$10$/byxGoG9cGv7cbBc8eiT9uodzSQsccqgsPUKrgpFhpeEloDOXo6u.';

/** Results kept: bcrypt costs ~50-100 ms of CPU, too much for every scrape (exporter-toolkit caches too). */
const CACHE_SIZE = 64;

/**
 * HTTP basic authentication against bcrypt hashes. Each distinct (user, password) pair seen recently is
 * verified once; the cache key holds a SHA-256 of the password, never the password.
 */
export class BasicAuth {
  private readonly cache = new Map<string, boolean>();

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Whether an Authorization header carries a known user with the right password. */
  check(header: string | undefined): boolean {
    if (!this.enabled) return true;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = `${user}\0${createHash('sha256').update(password).digest('hex')}`;
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    const hash = this.users.get(user);
    const ok = compareSync(password, hash ?? DUMMY_HASH) && hash !== undefined;
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, ok);
    return ok;
  }
}
