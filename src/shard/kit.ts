/**
 * The core's pieces a sharded view (loaded on demand) builds on, handed over as one object rather
 * than imported, for the reason on-demand-kit.ts gives: a module both the core and a lazily loaded
 * chunk import would be split into a file of its own. `connect` is added by the connection.
 */
import type { connect } from "../connection.js";
import { arrowConversions } from "../arrow/detect.js";
import { Query, TakeQuery, VectorQuery, textSearch, toQueryVectors, toTakePlan } from "../query/builder.js";
import { onDemandKit } from "../query/on-demand-kit.js";
import { LinearCombinationReranker } from "../rerank/linear-combination.js";
import { RRFReranker } from "../rerank/rrf.js";

export const shardKit = { arrowConversions, Query, TakeQuery, VectorQuery, textSearch, toQueryVectors, toTakePlan, onDemandKit, LinearCombinationReranker, RRFReranker };

export type ShardKit = typeof shardKit & { readonly connect: typeof connect };
