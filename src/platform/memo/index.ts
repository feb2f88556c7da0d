/**
 * A pure function of a string, remembered for strings that repeat from request to request (paths,
 * User-Agents, client addresses). In the running service such functions cost several times their
 * hot-loop figure, most of all when they run regular expressions (bench/README.md, third round).
 *
 * Bounded in entries and in the length of a remembered string; when full, the table is emptied
 * rather than kept in recency order, so a client sending ever-new values costs itself one
 * computation per value and nothing more. Why not lru-cache (as the route match cache uses): these
 * run several times on every request, where one Map lookup is all the budget there is, and
 * recency buys nothing for values that either repeat constantly or never.
 */
export function memoizeString<V>(fn: (s: string) => V, bounds: { entries: number; maxChars: number }): (s: string) => V {
  const known = new Map<string, V>();
  return (s) => {
    if (s.length > bounds.maxChars) return fn(s);
    let v = known.get(s);
    if (v === undefined) {
      v = fn(s);
      if (known.size >= bounds.entries) known.clear();
      known.set(s, v);
    }
    return v;
  };
}
