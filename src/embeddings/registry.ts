/**
 * The embedding function registry: names → factories. Explicit calls instead of LanceDB's decorators:
 *
 *   getRegistry().register("use", { create: (o) => new UseEmbeddings(o) });
 *   const fn = getRegistry().get("huggingface").create({ model: "Xenova/all-MiniLM-L6-v2" });
 *
 * Built-ins ("huggingface", "openai") are registered on first use of the registry; their heavy
 * dependencies load only when a function first embeds something.
 */
import { createError } from "../errors.js";
import { huggingFaceFactory } from "./huggingface.js";
import { openAIFactory } from "./openai.js";
import type { EmbeddingFunctionFactory } from "./types.js";

export class EmbeddingFunctionRegistry {
  readonly #factories = new Map<string, EmbeddingFunctionFactory<never>>();

  /** Adds a factory under `name`. Registering a taken name replaces it only with `{ replace: true }`. */
  register<Options>(name: string, factory: EmbeddingFunctionFactory<Options>, options: { replace?: boolean } = {}): this {
    if (typeof name !== "string" || name.length === 0) throw createError("INVALID_ARGUMENT", "An embedding function needs a non-empty registry name.");
    if (typeof factory?.create !== "function") throw createError("INVALID_ARGUMENT", `The factory registered as "${name}" has no create(options) method.`);
    if (this.#factories.has(name) && !options.replace) {
      throw createError("INVALID_ARGUMENT", `An embedding function is already registered as "${name}"; pass { replace: true } to replace it.`);
    }
    this.#factories.set(name, factory as EmbeddingFunctionFactory<never>);
    return this;
  }

  has(name: string): boolean {
    return this.#factories.has(name);
  }

  /** The factory registered as `name`; a NOT_FOUND error lists the names that are. */
  get<Options = Record<string, unknown>>(name: string): EmbeddingFunctionFactory<Options> {
    const f = this.#factories.get(name);
    if (!f) {
      throw createError("NOT_FOUND", `No embedding function is registered as "${name}" (registered: ${this.names().join(", ") || "none"}). Call getRegistry().register(${JSON.stringify(name)}, factory) first.`, { name });
    }
    return f as EmbeddingFunctionFactory<Options>;
  }

  names(): string[] {
    return [...this.#factories.keys()].sort();
  }

  unregister(name: string): boolean {
    return this.#factories.delete(name);
  }
}

let registry: EmbeddingFunctionRegistry | undefined;

/** The process-wide registry (one per JavaScript realm: a worker has its own). */
export function getRegistry(): EmbeddingFunctionRegistry {
  if (!registry) {
    registry = new EmbeddingFunctionRegistry();
    registry.register("huggingface", huggingFaceFactory);
    registry.register("openai", openAIFactory);
  }
  return registry;
}
