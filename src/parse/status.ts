/** /proc/PID/status as a key → raw value map; helpers pull out numbers. */
export type StatusFields = ReadonlyMap<string, string>;

export const parseStatus = (text: string): StatusFields => {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
};

/** A "N kB" field in bytes, or undefined when absent (kernel threads and zombies have no Vm* lines). */
export const statusBytes = (fields: StatusFields, key: string): number | undefined => {
  const raw = fields.get(key);
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n * 1024 : undefined;
};

/** Effective UID (second of "Uid: real effective saved fs"), the one ps shows as USER. */
export const statusEuid = (fields: StatusFields): number | undefined => {
  const raw = fields.get('Uid');
  if (raw === undefined) return undefined;
  const parts = raw.split(/\s+/);
  const n = Number(parts[1] ?? parts[0]);
  return Number.isInteger(n) ? n : undefined;
};
