/* setMmapThreshold (malloc_policy.c): one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_MALLOC_POLICY_H
#define MEMUSAGE_MALLOC_POLICY_H

#include <node_api.h>

/* Adds exports.setMmapThreshold; returns 0 (with a pending N-API error) on failure. */
int register_malloc_policy(napi_env env, napi_value exports);

#endif
