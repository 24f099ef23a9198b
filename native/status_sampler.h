/* statusSamplerStart/Arm/Stop (status_sampler.c): one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_STATUS_SAMPLER_H
#define MEMUSAGE_STATUS_SAMPLER_H

#include <node_api.h>

/* Adds exports.statusSamplerStart, statusSamplerArm and statusSamplerStop; returns 0 (with a pending N-API error) on failure. */
int register_status_sampler(napi_env env, napi_value exports);

#endif
