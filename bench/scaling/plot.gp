# Plots of bench/scaling/report.py. Called as:
#   gnuplot -e "dir='OUT'; machine='...'; maxp=4; cores=2; has_strong=1; has_weak=1" plot.gp
set terminal png size 640,420 font "DejaVuSans,9" noenhanced
set key top left box opaque
set grid
set xlabel "ranks P"
set xrange [0:maxp+0.5]
set xtics 1,1,maxp

s(f) = dir.'/'.f

# ranks beyond the cores share them (oversubscribed)
set arrow 1 from cores, graph 0 to cores, graph 1 nohead dashtype 3 lc rgb '#cccccc'
set label 1 sprintf(" P = %d cores: more ranks share them", cores) at cores, graph 0.6 left textcolor rgb '#666666'

set output s('speedup.png')
set title "Speed-up (steady-state epochs)\n".machine
set ylabel "speed-up"
set yrange [0:*]
ideal = "x title 'ideal' with lines dashtype 2 lc rgb '#999999'"
st = "s('strong.dat') using 1:2 title 'strong: T(1)/T(P), fixed graph' with linespoints pt 7 lc rgb '#1f77b4'"
wk = "s('weak.dat') using 1:2 title 'weak: P T(1)/T(P), graph x P' with linespoints pt 5 lc rgb '#d62728'"
if (has_strong && has_weak) { plot [0:maxp+0.5] @ideal, @st, @wk }
if (has_strong && !has_weak) { plot [0:maxp+0.5] @ideal, @st }
if (!has_strong && has_weak) { plot [0:maxp+0.5] @ideal, @wk }

set output s('efficiency.png')
set title "Parallel efficiency (steady-state epochs)\n".machine
set ylabel "efficiency"
set yrange [0:1.2]
ideal = "1 title 'ideal' with lines dashtype 2 lc rgb '#999999'"
st = "s('strong.dat') using 1:3 title 'strong: T(1) / (P T(P))' with linespoints pt 7 lc rgb '#1f77b4'"
wk = "s('weak.dat') using 1:3 title 'weak: T(1) / T(P)' with linespoints pt 5 lc rgb '#d62728'"
if (has_strong && has_weak) { plot [0:maxp+0.5] @ideal, @st, @wk }
if (has_strong && !has_weak) { plot [0:maxp+0.5] @ideal, @st }
if (!has_strong && has_weak) { plot [0:maxp+0.5] @ideal, @wk }

unset arrow 1
unset label 1
set output s('breakdown.png')
set title "Steady-state epoch, seconds per rank (mean over ranks; other = epoch - phases)\n".machine
unset xrange
set autoscale x
set xtics auto
set xlabel ""
set bmargin 4
set ylabel "seconds per epoch"
set yrange [0:*]
set key inside top center horizontal maxrows 2 samplen 1.5 nobox
set offsets 0, 0, graph 0.22, 0
set style data histograms
set style histogram rowstacked title offset 0,-0.3 font ",10"
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics nomirror
set grid noxtics ytics
c1='#7f7f7f'; c2='#ff7f0e'; c3='#1f77b4'; c4='#2ca02c'; c5='#d9d9d9'
if (has_strong && has_weak) {
  plot newhistogram "strong (fixed graph)", \
         s('strong.dat') using 6:xtic(sprintf("P=%d", $1)) title 'sample wait' lc rgb c1, \
         '' using 7 title 'exchange' lc rgb c2, '' using 8 title 'compute' lc rgb c3, \
         '' using 9 title 'all-reduce+optimizer' lc rgb c4, '' using 10 title 'other' lc rgb c5, \
       newhistogram "weak (graph x P)", \
         s('weak.dat') using 6:xtic(sprintf("P=%d", $1)) notitle lc rgb c1, \
         '' using 7 notitle lc rgb c2, '' using 8 notitle lc rgb c3, '' using 9 notitle lc rgb c4, \
         '' using 10 notitle lc rgb c5
} else {
  f = has_strong ? s('strong.dat') : s('weak.dat')
  plot f using 6:xtic(sprintf("P=%d", $1)) title 'sample wait' lc rgb c1, \
       '' using 7 title 'exchange' lc rgb c2, '' using 8 title 'compute' lc rgb c3, \
       '' using 9 title 'all-reduce+optimizer' lc rgb c4, '' using 10 title 'other' lc rgb c5
}
