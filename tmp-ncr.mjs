import { execFileSync } from "node:child_process";
const [dir, reps] = [process.argv[2], Number(process.argv[3] ?? 9)];
const variants = [["/work/main", "base"], ["/tmp/qv/exp2", "base"], ["/tmp/qv/exp2", "nocrc"], ["/tmp/qv/exp2", "selectid"]];
const res = variants.map(() => []);
for (let r = 0; r <= reps; r++) variants.forEach(([root, v], i) => { const o = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "/tmp/qv/nodecold.ts", root, dir, v], { cwd: "/work/main" }).toString().trim().split("\n").at(-1)); if (r) res[i].push(o.total); });
const med = (x) => x.slice().sort((a, b) => a - b)[Math.floor((x.length - 1) / 2)];
variants.forEach(([root, v], i) => console.log(dir, root.padEnd(14), v.padEnd(9), "p50", med(res[i]).toFixed(1), "runs", res[i].map(Math.round).join(" ")));
