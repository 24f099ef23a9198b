/**
 * Gate for live suites that need root (PFNs in pagemap and /proc/kpage* need CAP_SYS_ADMIN).
 *
 * Why not simply skip: a skipped suite reports green, so a CI runner that lost root would silently stop
 * testing the engine. In CI (CI=true) a missing root is therefore an error. On a developer machine,
 * running the unit tests without sudo is normal, so the suite is skipped, visibly, via describe.skipIf.
 *
 * Usage: `describe.skipIf(!requireRoot())('...', () => { ... })`.
 */
export function requireRoot(): boolean {
  const isRoot = process.getuid?.() === 0;
  if (isRoot) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      'live tests need root (CAP_SYS_ADMIN for pagemap PFNs and /proc/kpage*); CI must run them as root',
    );
  }
  return false;
}
