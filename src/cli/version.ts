/** memusage's version (package.json's), for --version and the exporter's memusage_build_info. */
export const VERSION = '0.1.0';
