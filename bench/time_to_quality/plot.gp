# Recall@20 and ndcg@20 against wall seconds for one dataset of bench/time_to_quality/run.sh.
# Called as: gnuplot -e "results='R.tsv'; dataset='gowalla'; out='gowalla.png'; machine='...';
#   model='lightgcn'; objectives='bpr softmax ccl simgcl svd'; presets='gf-cf bspm'" plot.gp
if (!exists("model")) model = "lightgcn"
if (!exists("objectives")) objectives = "bpr"
if (!exists("presets")) presets = "gf-cf turbo-cf bspm chebycf"
set terminal png size 960,420 font "DejaVuSans,9" noenhanced
set output out
set datafile separator "\t"
set multiplot layout 1,2 title dataset.": quality against wall seconds (prepare + fit/training + evaluation)\n".machine
set grid
set key bottom right box opaque
set xlabel "wall seconds"
set logscale x
is(name) = (strcol(1) eq dataset && strstrt(strcol(2), name) == 1)
do for [col in "4 5"] {
  c = col + 0
  set ylabel (c == 4 ? "recall@20" : "ndcg@20")
  plot for [o in objectives] results using (is(model." ".o." epoch") ? $3 : 1/0):c every ::1 \
           title model." ".o with linespoints pt 7, \
       for [p in presets] results using (is("graph-filter ".p) ? $3 : 1/0):c every ::1 \
           title "filter ".p with points pt 5 ps 1.5
}
unset multiplot
