/**
 * Task flags (include/linux/sched.h), field 9 of /proc/PID/stat, named once. Only the bits memusage
 * acts on are here.
 */

/** PF_EXITING: the task is in do_exit(); its address space is being (or has been) torn down. */
export const PF_EXITING = 0x0000_0004;
/** PF_KTHREAD: a kernel thread; it has no user address space, so nothing to measure. */
export const PF_KTHREAD = 0x0020_0000;
