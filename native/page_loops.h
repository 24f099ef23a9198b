/* The per-page loops (page_loops.c), exported as `loops` by the same addon as PAGEMAP_SCAN. */
#ifndef MEMUSAGE_PAGE_LOOPS_H
#define MEMUSAGE_PAGE_LOOPS_H

#include <node_api.h>

/* Adds exports.loops; returns 0 (with a pending N-API error) on failure. */
int register_page_loops(napi_env env, napi_value exports);

#endif
