/* openProcesses (proc_batch.c), exported by the same addon as PAGEMAP_SCAN. */
#ifndef MEMUSAGE_PROC_BATCH_H
#define MEMUSAGE_PROC_BATCH_H

#include <node_api.h>

/* Adds exports.openProcesses; returns 0 (with a pending N-API error) on failure. */
int register_proc_batch(napi_env env, napi_value exports);

#endif
