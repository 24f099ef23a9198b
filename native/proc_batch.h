/* openProcesses, readFrames and readPagemap (proc_batch.c): one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_PROC_BATCH_H
#define MEMUSAGE_PROC_BATCH_H

#include <node_api.h>

/* Adds exports.openProcesses, readFrames, readPagemap and PAGEMAP_SHORT; returns 0 (with a pending N-API error) on failure. */
int register_proc_batch(napi_env env, napi_value exports);

#endif
