/*
 * The memusage_native addon's entry point: the PAGEMAP_SCAN ioctl (pagemap_scan.c), the per-page loops
 * (page_loops.c), the shared objects' page loops (object_runs.c), libs' per-file loop (file_frames.c), the
 * batched /proc reads (proc_batch.c), the CLI's malloc policy (malloc_policy.c) and run's status ticker
 * (status_sampler.c), each registering its own exports. Plain N-API (C ABI), so one build works across Node versions. Loaded by src/native/addon.ts.
 */
#include <node_api.h>

#include "file_frames.h"
#include "malloc_policy.h"
#include "object_runs.h"
#include "page_loops.h"
#include "pagemap_scan.h"
#include "proc_batch.h"
#include "status_sampler.h"

NAPI_MODULE_INIT() {
  if (!register_pagemap_scan(env, exports) || !register_page_loops(env, exports) ||
      !register_object_runs(env, exports) || !register_proc_batch(env, exports) || !register_malloc_policy(env, exports) ||
      !register_file_frames(env, exports) || !register_status_sampler(env, exports))
    return NULL;
  return exports;
}
