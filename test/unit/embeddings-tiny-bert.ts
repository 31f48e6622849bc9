/**
 * Builds a tiny BERT-shaped ONNX model on disk, in the transformers.js local-model layout, so the real
 * huggingface pipeline (tokenizer + onnxruntime) can run offline in tests:
 *
 *   <root>/<modelId>/{config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, onnx/model.onnx}
 *
 * The tokenizer files are copied from ../shared/data/all-MiniLM-L6-v2-tokenizer (never committed). The
 * graph has BERT's signature and a few real ops:
 *
 *   input_ids, token_type_ids, attention_mask : int64 [batch, seq]
 *   h = Tanh(Gather(word_emb V×H, input_ids) + Gather(type_emb 2×H, token_type_ids))    [batch, seq, H]
 *   last_hidden_state = h * Unsqueeze(Cast<float>(attention_mask), axes=[2])             [batch, seq, H]
 *
 * With `numLabels` it is a BERT-for-sequence-classification instead (a cross-encoder's shape; the
 * pooling is a masked mean rather than BERT's [CLS] pooler, because this model has no attention and
 * its [CLS] row would be the same for every input):
 *
 *   pooled = ReduceSum(last_hidden_state, axis 1) / ReduceSum(mask, axis 1)               [batch, H]
 *   logits = pooled · cls_w (H×L) + cls_b (L)                                            [batch, L]
 *
 * The ONNX protobuf is written by hand (a few dozen lines of wire format), so no protobuf package is needed.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const TOKENIZER_DIR = join(import.meta.dirname, "..", "..", "..", "shared", "data", "all-MiniLM-L6-v2-tokenizer", "Xenova", "all-MiniLM-L6-v2");

export function hasTokenizer(): boolean {
  return existsSync(join(TOKENIZER_DIR, "tokenizer.json"));
}

// ---- protobuf wire format ----------------------------------------------------------------------

type Bytes = Uint8Array;

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function concat(parts: readonly Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const fInt = (field: number, v: number | bigint): Bytes => new Uint8Array([...varint(field << 3), ...varint(v)]);
const fBytes = (field: number, b: Bytes): Bytes => concat([new Uint8Array([...varint((field << 3) | 2), ...varint(b.length)]), b]);
const fStr = (field: number, s: string): Bytes => fBytes(field, new TextEncoder().encode(s));
const fMsg = (field: number, parts: readonly Bytes[]): Bytes => fBytes(field, concat(parts));

// ---- ONNX messages (field numbers from onnx.proto) ---------------------------------------------

const FLOAT = 1;
const INT64 = 7;

function tensor(name: string, dims: readonly number[], type: number, raw: Bytes): Bytes[] {
  return [...dims.map((d) => fInt(1, d)), fInt(2, type), fStr(8, name), fBytes(9, raw)];
}

function valueInfo(name: string, type: number, dims: readonly (number | string)[]): Bytes[] {
  const shape = dims.map((d) => fMsg(1, [typeof d === "number" ? fInt(1, d) : fStr(2, d)]));
  return [fStr(1, name), fMsg(2, [fMsg(1, [fInt(1, type), fMsg(2, shape)])])];
}

function node(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Bytes[][] = []): Bytes[] {
  return [...inputs.map((i) => fStr(1, i)), ...outputs.map((o) => fStr(2, o)), fStr(3, `${op}_${outputs[0]}`), fStr(4, op), ...attrs.map((a) => fMsg(5, a))];
}

const intAttr = (name: string, v: number): Bytes[] => [fStr(1, name), fInt(3, v), fInt(20, 2)];

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32). */
export function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function tinyBertOnnx(vocabSize: number, hidden: number, seed = 1, numLabels = 0): Bytes {
  const word = randomFloats(vocabSize * hidden, seed);
  const type = randomFloats(2 * hidden, seed + 1);
  const axes = new BigInt64Array([2n]);
  const bytes = (a: ArrayBufferView): Bytes => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const graph = [
    fMsg(1, node("Gather", ["word_emb", "input_ids"], ["word"], [intAttr("axis", 0)])),
    fMsg(1, node("Gather", ["type_emb", "token_type_ids"], ["type"], [intAttr("axis", 0)])),
    fMsg(1, node("Add", ["word", "type"], ["sum"])),
    fMsg(1, node("Tanh", ["sum"], ["act"])),
    fMsg(1, node("Cast", ["attention_mask"], ["mask_f"], [intAttr("to", FLOAT)])),
    fMsg(1, node("Unsqueeze", ["mask_f", "mask_axes"], ["mask_3d"])),
    fMsg(1, node("Mul", ["act", "mask_3d"], ["last_hidden_state"])),
    ...(numLabels > 0
      ? [
          fMsg(1, node("ReduceSum", ["last_hidden_state", "seq_axis"], ["h_sum"], [intAttr("keepdims", 0)])),
          fMsg(1, node("ReduceSum", ["mask_f", "seq_axis"], ["len"], [intAttr("keepdims", 1)])),
          fMsg(1, node("Div", ["h_sum", "len"], ["pooled"])),
          fMsg(1, node("MatMul", ["pooled", "cls_w"], ["proj"])),
          fMsg(1, node("Add", ["proj", "cls_b"], ["logits"])),
        ]
      : []),
    fStr(2, "tiny-bert"),
    fMsg(5, tensor("word_emb", [vocabSize, hidden], FLOAT, bytes(word))),
    fMsg(5, tensor("type_emb", [2, hidden], FLOAT, bytes(type))),
    fMsg(5, tensor("mask_axes", [1], INT64, bytes(axes))),
    ...(numLabels > 0
      ? [
          fMsg(5, tensor("seq_axis", [1], INT64, bytes(new BigInt64Array([1n])))),
          fMsg(5, tensor("cls_w", [hidden, numLabels], FLOAT, bytes(randomFloats(hidden * numLabels, seed + 2)))),
          fMsg(5, tensor("cls_b", [numLabels], FLOAT, bytes(randomFloats(numLabels, seed + 3)))),
        ]
      : []),
    fMsg(11, valueInfo("input_ids", INT64, ["batch_size", "sequence_length"])),
    fMsg(11, valueInfo("attention_mask", INT64, ["batch_size", "sequence_length"])),
    fMsg(11, valueInfo("token_type_ids", INT64, ["batch_size", "sequence_length"])),
    numLabels > 0
      ? fMsg(12, valueInfo("logits", FLOAT, ["batch_size", numLabels]))
      : fMsg(12, valueInfo("last_hidden_state", FLOAT, ["batch_size", "sequence_length", hidden])),
  ];
  // ModelProto: ir_version = 8, producer_name, graph, opset_import { domain "", version 17 }
  return concat([fInt(1, 8), fStr(2, "quiver-test"), fMsg(7, graph), fMsg(8, [fStr(1, ""), fInt(2, 17)])]);
}

/**
 * Writes `<root>/<modelId>/…` (tokenizer copied from the MiniLM folder, config with `hidden_size` = hidden)
 * and returns the model id to pass as `model`.
 */
export function writeTinyBert(root: string, options: { modelId?: string; hidden?: number; seed?: number; numLabels?: number } = {}): string {
  const modelId = options.modelId ?? "Xenova/tiny-bert";
  const hidden = options.hidden ?? 32;
  const dir = join(root, ...modelId.split("/"));
  mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) copyFileSync(join(TOKENIZER_DIR, f), join(dir, f));
  const config = JSON.parse(readFileSync(join(TOKENIZER_DIR, "config.json"), "utf8")) as Record<string, unknown>;
  const vocabSize = config.vocab_size as number;
  const numLabels = options.numLabels ?? 0;
  const labels = numLabels > 0
    ? {
        architectures: ["BertForSequenceClassification"],
        id2label: Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [String(i), numLabels === 1 ? "relevance" : `LABEL_${i}`])),
        label2id: Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [numLabels === 1 ? "relevance" : `LABEL_${i}`, i])),
      }
    : {};
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, hidden_size: hidden, num_hidden_layers: 0, intermediate_size: hidden, num_attention_heads: 1, ...labels }, null, 2));
  writeFileSync(join(dir, "onnx", "model.onnx"), tinyBertOnnx(vocabSize, hidden, options.seed ?? 1, numLabels));
  return modelId;
}
