// The bench's statistics. Runs minutes apart on these VMs move by ±10 %, so the ratio of two
// targets is taken round by round (they ran back to back) and reported with its spread.
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/// `[lower quartile, median, upper quartile]`.
export const quartiles = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)], s[Math.floor(s.length / 2)], s[Math.ceil((3 * (s.length - 1)) / 4)]];
};

/// Quartiles of the per-round ratios `as[i] / bs[i]`.
export const paired = (as, bs) => quartiles(as.map((a, i) => a / bs[i]));
