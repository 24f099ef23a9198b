/** mountinfo lines as the kernel writes them (6.18 here, and the numeric spelling of kernels before 5.8). */
import { describe, expect, it } from 'vitest';
import { hidesOtherPids, procMountHidepid } from '../../../src/parse/mountinfo.js';

const HOST = '22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw';
const HIDDEN = '63 45 0:39 / /proc rw,relatime - proc proc rw,hidepid=invisible,subset=pid';

describe('procMountHidepid', () => {
  it('reads the option of the proc mount at the mount point; the last mount there covers the others', () => {
    expect(procMountHidepid(`${HOST}\n`, '/proc')).toBeUndefined();
    expect(procMountHidepid(`${HOST}\n${HIDDEN}\n`, '/proc')).toBe('invisible');
    expect(procMountHidepid(`${HIDDEN}\n${HOST}\n`, '/proc')).toBeUndefined();
    expect(procMountHidepid(`${HIDDEN}\n`, '/elsewhere')).toBeUndefined();
  });

  it('kernels before 5.8 print numbers; mount points with spaces are octal-escaped', () => {
    const old = '30 25 0:4 / /proc rw,nosuid - proc proc rw,hidepid=2';
    expect(procMountHidepid(old, '/proc')).toBe('2');
    const spaced = '70 25 0:44 / /tmp/my\\040proc rw - proc proc rw,hidepid=noaccess';
    expect(procMountHidepid(spaced, '/tmp/my proc')).toBe('noaccess');
  });

  it('a tmpfs over the mount point is not a proc mount, and optional fields do not shift the parse', () => {
    const tmpfs = '71 63 0:50 / /proc rw - tmpfs tmpfs rw,size=1024k';
    expect(procMountHidepid(`${HIDDEN}\n${tmpfs}`, '/proc')).toBeUndefined();
    const optional =
      '80 25 0:60 / /proc rw shared:1 master:2 propagate_from:3 - proc proc rw,hidepid=invisible';
    expect(procMountHidepid(optional, '/proc')).toBe('invisible');
  });

  it("only invisible (2) hides other users' directories; noaccess (1) and ptraceable list them", () => {
    expect(
      ['invisible', '2', 'noaccess', '1', 'ptraceable', '4', 'off', '0', undefined].filter(hidesOtherPids),
    ).toEqual(['invisible', '2']);
  });
});
