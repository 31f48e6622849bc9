import { readFileSync } from "node:fs";
import { IndexHead } from "../src/ann/format.js";
const b = readFileSync("/tmp/idx/prof-IVF_PQ-glove.qvix");
const h = new IndexHead(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
console.log(b.byteLength, h.headLength, h.dataStart, JSON.stringify(h.meta.sections));
const off = h.f64("partitionOffsets"); const rows = h.i32("partitionRows");
console.log(Array.from(off.slice(0, 5)), Array.from(off.slice(-3)), Array.from(rows.slice(0,5)), rows.reduce((a,b)=>a+b,0));
