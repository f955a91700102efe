/**
 * The "did you mean" for an unknown flag: the one known flag closest to it, if it is close enough. Same
 * rule as commander's, which confd-ts used before parsing flags itself: at most 3 edits (optimal string
 * alignment, so a swap of neighbours is one edit), more than 40% of the longer name kept, and no
 * suggestion when two flags are equally close.
 */
export function suggestFlag(name: string, flags: readonly string[]): string | undefined {
  const MAX_EDITS = 3;
  let best: string[] = [];
  let bestDistance = MAX_EDITS;
  for (const flag of new Set(flags)) {
    if (flag.length <= 1) continue;
    const distance = editDistance(name, flag, MAX_EDITS);
    const length = Math.max(name.length, flag.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = [flag];
    } else if (distance === bestDistance) best.push(flag);
  }
  return best.length === 1 ? best[0] : undefined;
}

/** Optimal string alignment distance; anything beyond `cap` in length difference counts as far away. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = value;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
