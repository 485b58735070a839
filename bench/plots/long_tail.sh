#!/usr/bin/env bash
# The long-tail picture of a checkpoint against the popularity baseline, from the per-item
# exposure table of `kgrec eval CKPT --exposure-out FILE` (docs/metrics.md). Items are sorted
# by training popularity (most interacted first) on x; two panels:
#   top:    per 1% of the catalogue, the mean number of top-K lists holding an item, for the
#           model and the baseline, beside the mean training interactions (log scale);
#   bottom: cumulative share of all top-K slots (and of training interactions) taken by the
#           items up to x: a model that only recommends the head rises at once like the
#           baseline; the dotted line marks the head/tail boundary (20%).
#
#   bench/plots/long_tail.sh -o OUT.png [-k K] EXPOSURE.tsv
#
# K defaults to the first model_exposure@K column. Needs bash, awk, sort and gnuplot.
set -euo pipefail

# shellcheck source=plot_options.sh
source "$(dirname "$0")/plot_options.sh"
parse_plot_options "$0 -o OUT.png [-k K] EXPOSURE.tsv" "$@"
[[ ${#inputs[@]} -eq 1 ]] || { echo "usage: $0 -o OUT.png [-k K] EXPOSURE.tsv" >&2; exit 2; }
table=${inputs[0]}
[[ -s $table ]] || { echo "$0: $table: no such exposure table, or empty" >&2; exit 1; }
header=$(head -n 1 "$table")
[[ $header == item$'\t'train_interactions$'\t'tail* ]] ||
  { echo "$0: $table:1: not an exposure table of kgrec eval --exposure-out" >&2; exit 1; }
if [[ -z $k ]]; then
  k=$(tr '\t' '\n' <<< "$header" | grep -m 1 '^model_exposure@' | tr -dc '0-9' || true)
fi
column() {  # the 1-based column of header name $1
  tr '\t' '\n' <<< "$header" | grep -nx -- "$1" | cut -d: -f1 || true
}
model_col=$(column "model_exposure@$k")
popularity_col=$(column "popularity_exposure@$k")
[[ -n $model_col && -n $popularity_col ]] ||
  { echo "$0: $table has no exposure@$k columns (header: $header)" >&2; exit 1; }

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# Most interacted first (ties by item); then bins of 1% of the catalogue (or single items on
# a catalogue under 100) and the cumulative shares, item by item.
tail -n +2 "$table" | sort -t $'\t' -k2,2nr -k1,1n > "$data/sorted.tsv"
awk -F '\t' -v m="$model_col" -v p="$popularity_col" -v bins="$data/bins.dat" '
  { train[NR] = $2; model[NR] = $m; pop[NR] = $p; t += $2; mt += $m; pt += $p }
  END {
    n = NR; width = n >= 100 ? n / 100 : 1
    for (b = 0; b * width < n; ++b) {
      lo = int(b * width) + 1; hi = int((b + 1) * width); if (hi > n) hi = n
      st = sm = sp = 0
      for (i = lo; i <= hi; ++i) { st += train[i]; sm += model[i]; sp += pop[i] }
      c = hi - lo + 1
      # log scale: an empty bin is not drawn (NaN), rather than drawn at a made-up floor
      printf "%.6f %s %s %s\n", 100 * (lo + hi) / 2 / n, (st > 0 ? st / c : "NaN"), \
             (sm > 0 ? sm / c : "NaN"), (sp > 0 ? sp / c : "NaN") > bins
    }
    print 0, 0, 0, 0
    for (i = 1; i <= n; ++i) {
      ct += train[i]; cm += model[i]; cp += pop[i]
      printf "%.6f %.6f %.6f %.6f\n", 100 * i / n, (t ? 100 * ct / t : 0), \
             (mt ? 100 * cm / mt : 0), (pt ? 100 * cp / pt : 0)
    }
  }' "$data/sorted.tsv" > "$data/cumulative.dat"

gnuplot <<GP
set terminal $terminal size 800,760 font "DejaVuSans,10" noenhanced
set output "$data/long_tail.png"
set multiplot layout 2,1 title "Long tail: top-$k exposure by training popularity ($(basename "$table"))"
set grid
set key top right box opaque
set datafile missing "NaN"
set xrange [0:100]
set arrow 1 from 20, graph 0 to 20, graph 1 nohead dashtype 3 lc rgb '#888888'
set xlabel "items by training popularity, most interacted first (% of catalogue)"
set logscale y
set ylabel "per item (mean over 1% bins)"
set title "top-$k lists holding an item, and its training interactions"
plot "$data/bins.dat" using 1:3 with linespoints pt 7 ps 0.5 lc rgb '#1f77b4' title 'model: top-$k exposure', \
     "$data/bins.dat" using 1:4 with linespoints pt 5 ps 0.5 lc rgb '#d62728' title 'popularity baseline: top-$k exposure', \
     "$data/bins.dat" using 1:2 with lines dashtype 2 lw 1.5 lc rgb '#555555' title 'training interactions'
unset logscale y
set yrange [0:100]
set key bottom right box opaque
set ylabel "cumulative share (%)"
set title "share of all top-$k slots taken by the items up to x (dotted: head | tail)"
plot "$data/cumulative.dat" using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'model', \
     "$data/cumulative.dat" using 1:4 with lines lw 2 lc rgb '#d62728' title 'popularity baseline', \
     "$data/cumulative.dat" using 1:2 with lines dashtype 2 lw 1.5 lc rgb '#555555' title 'training interactions'
unset multiplot
GP
# Drawn aside and moved when complete: a failed run leaves no half-drawn picture.
mv "$data/long_tail.png" "$out"
echo "wrote $out"
