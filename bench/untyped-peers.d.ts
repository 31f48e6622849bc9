// Peer packages the benchmarks load that ship no type declarations.
declare module "fake-indexeddb/auto";
declare module "voy-search/voy_search_bg.js";
