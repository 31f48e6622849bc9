import { describe, expect, it } from "vitest";
import { compileLike } from "../../src/filter/like.js";

/** Reference: LIKE as an anchored regular expression (fine for these small, fixed cases). */
function viaRegExp(text: string, pattern: string, escape = "\\", ci = false): boolean {
  let src = "";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escape !== "" && c === escape) { const lit = i + 1 < chars.length ? chars[++i]! : c; src += lit.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"); }
    else if (c === "%") src += "[^]*";
    else if (c === "_") src += ".";
    else src += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, ci ? "isu" : "su").test(text);
}

describe("compileLike", () => {
  const TEXTS = ["", "a", "ab", "abc", "aXbXc", "abcabc", "a%b", "a_b", "𝒳", "𝒳y", "a𝒳b", "ABC", "x\\y", "%", "mississippi"];
  const PATTERNS = ["", "%", "%%", "_", "__", "a", "a%", "%c", "%b%", "a_c", "a%c", "%a%b%c%", "_%_", "%_", "a\\%b", "a\\_b",
    "a%%c", "%ss%ss%", "m%i%i%i", "%pi", "_𝒳_", "𝒳%", "%\\\\%", "x\\\\y", "abc\\", "a_%_c", "%abc"];
  it.each(PATTERNS)("pattern %j agrees with a regular-expression reference", (pattern) => {
    const m = compileLike(pattern, "\\", false);
    for (const t of TEXTS) expect(m(t), `${JSON.stringify(t)} LIKE ${JSON.stringify(pattern)}`).toBe(viaRegExp(t, pattern));
  });

  it("ILIKE folds case of text and pattern", () => {
    expect(compileLike("abc%", "\\", true)("ABCdef")).toBe(true);
    expect(compileLike("%ÄÖ", "\\", true)("xäö")).toBe(true);
    expect(compileLike("abc%", "\\", false)("ABCdef")).toBe(false);
  });

  it("honours a custom escape, and '' for none", () => {
    expect(compileLike("10!%", "!", false)("10%")).toBe(true);
    expect(compileLike("10!%", "!", false)("10!x")).toBe(false);
    expect(compileLike("a\\%", "", false)("a\\anything")).toBe(true);
    expect(compileLike("A!ab", "A", true)("!AB")).toBe(true);
  });

  it("matches pathological patterns in linear-ish time", () => {
    const text = "a".repeat(20_000);
    const start = performance.now();
    expect(compileLike("%a%a%a%a%a%a%a%a%a%a%b", "\\", false)(text)).toBe(false);
    expect(compileLike("%" + "_".repeat(50) + "b%", "\\", false)(text)).toBe(false);
    expect(compileLike("%" + "a%".repeat(200) + "b", "\\", false)(text)).toBe(false);
    // A backtracking matcher takes astronomically long on these; the bound here is only a tripwire.
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});
