/**
 * /proc/PID/mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER".
 * Mount points escape space, tab, newline and backslash as octal (\040).
 */
const unescapeOctal = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/**
 * The hidepid option of the proc mount at `mountPoint` (the last one listed, which covers the others), or
 * undefined when it is not a proc mount or has none. Kernels print the name (invisible, noaccess, ptraceable)
 * since 5.8 and the number (2, 1, 4) before; both are returned as the kernel spelt them.
 */
export const procMountHidepid = (mountinfo: string, mountPoint: string): string | undefined => {
  let hidepid: string | undefined;
  let found = false;
  for (const line of mountinfo.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const fields = line.slice(0, dash).split(' ');
    if (fields.length < 6 || unescapeOctal(fields[4]!) !== mountPoint) continue;
    const [fsType, , superOptions = ''] = line.slice(dash + 3).split(' ');
    found = fsType === 'proc';
    hidepid = found
      ? superOptions
          .split(',')
          .find((o) => o.startsWith('hidepid='))
          ?.slice('hidepid='.length)
      : undefined;
  }
  return found ? hidepid : undefined;
};

/** hidepid values under which other users' processes are not listed and their directories do not exist. */
export const hidesOtherPids = (hidepid: string | undefined): boolean =>
  hidepid === 'invisible' || hidepid === '2';
