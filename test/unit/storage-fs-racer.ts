/**
 * Child process for the fs race test: waits for "go", then putIfAbsent's every key of the round
 * with its own payload and reports the keys it won.
 */
import { FsStore } from "../../src/storage/fs-store.js";

const [root, name, count] = process.argv.slice(2) as [string, string, string];
const store = await FsStore.open(root);
const payload = new TextEncoder().encode(name.repeat(1000));
process.send!({ ready: true });
process.once("message", async () => {
  const keys = Array.from({ length: Number(count) }, (_, i) => `race/${i}.manifest`);
  const results = await Promise.all(keys.map((key) => store.putIfAbsent(key, payload)));
  process.send!({ won: keys.filter((_, i) => results[i]) }, () => process.exit(0));
});
