/* The shared objects' page loops (object_runs.c), exported as `objectRuns`: one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_OBJECT_RUNS_H
#define MEMUSAGE_OBJECT_RUNS_H

#include <node_api.h>

/* Adds exports.objectRuns; returns 0 (with a pending N-API error) on failure. */
int register_object_runs(napi_env env, napi_value exports);

#endif
