import { readFileSync } from 'node:fs';

/** uid → login name from /etc/passwd, read once; unknown uids print as numbers, as ps does. */
export class UserNames {
  private names: Map<number, string> | undefined;

  constructor(private readonly passwdPath = '/etc/passwd') {}

  nameOf(uid: number): string {
    this.names ??= this.load();
    return this.names.get(uid) ?? String(uid);
  }

  uidOf(name: string): number | undefined {
    this.names ??= this.load();
    for (const [uid, n] of this.names) if (n === name) return uid;
    return undefined;
  }

  private load(): Map<number, string> {
    const names = new Map<number, string>();
    let text = '';
    try {
      text = readFileSync(this.passwdPath, 'utf8');
    } catch {
      return names; // No passwd file (minimal containers): numeric uids are the honest fallback.
    }
    for (const line of text.split('\n')) {
      const [name, , uid] = line.split(':');
      if (name && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid)))
        names.set(Number(uid), name);
    }
    return names;
  }
}
