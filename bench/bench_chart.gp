# bench/bench_chart.gp: the bar chart of bench_zuki's cost ratios (bench_ratios.csv -> PNG).
#
#   gnuplot -e "csv='bench_ratios.csv'; png='bench_ratios.png'" bench/bench_chart.gp
#
# bench_zuki runs this itself after writing the CSV (skipped with a message if gnuplot is
# missing). Input columns: workload,zuki,zuki_asio,target — every ratio is zuki's cost divided
# by the best anchor's cost (asio_tp, io_context, oneTBB; spawn_batch: against zuki's single
# submissions; fib25: against the best anchor, its target against oneTBB), so below 1 means
# Zuki is faster. The target is the largest ratio that meets the issue's goal (empty: none).
# Optional variables: subtitle (a line under the title), have_asio (0: no zuki_asio column data).

if (!exists("csv")) csv = 'bench_ratios.csv'
if (!exists("png")) png = 'bench_ratios.png'
if (!exists("subtitle")) subtitle = ''
if (!exists("have_asio")) have_asio = 1

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1400,720 font "DejaVu Sans,10" noenhanced
} else {
    set terminal png size 1400,720 noenhanced
}
set output png

set datafile separator ','
set datafile missing ''
set title "Zuki's cost / best anchor's cost, log scale: below 1 = Zuki faster\n".subtitle
set key autotitle columnhead
set logscale y 2
set format y '%g'
set ylabel 'cost ratio (zuki / best anchor)'
set grid ytics
set key top left opaque box
set xtics rotate by -30 left nomirror
set bmargin 9
set offsets 0.6, 0.6, graph 0.06, graph 0.02
set style fill solid 0.85 border -1
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb '#444444' front

# Bars grow from 1 (parity) up (zuki slower) or down (zuki faster).
w = have_asio ? 0.2 : 0.3
zx = have_asio ? -0.2 : 0
ax = 0.2
lo(v) = v < 1 ? v : 1
hi(v) = v < 1 ? 1 : v

if (have_asio) {
    plot csv using ($0 + zx):(1):($0 + zx - w):($0 + zx + w):(lo($2)):(hi($2)):xtic(1) with boxxyerror title 'zuki (tasks)' lc rgb '#1f77b4', \
         ''  using ($0 + ax):(1):($0 + ax - w):($0 + ax + w):(lo($3)):(hi($3)) with boxxyerror title 'zuki_asio (asio::post)' lc rgb '#9ecae1', \
         ''  using ($0 + zx):2:(sprintf('%.2f', $2)) with labels offset 0,0.8 font ',8' notitle, \
         ''  using ($0 + ax):3:(sprintf('%.2f', $3)) with labels offset 0,0.8 font ',8' notitle, \
         ''  using ($0 - 0.45):4:(0.9):(0) with vectors nohead lw 3 lc rgb '#d62728' title 'target: the ratio must be at most this'
} else {
    plot csv using ($0 + zx):(1):($0 + zx - w):($0 + zx + w):(lo($2)):(hi($2)):xtic(1) with boxxyerror title 'zuki (tasks)' lc rgb '#1f77b4', \
         ''  using ($0 + zx):2:(sprintf('%.2f', $2)) with labels offset 0,0.8 font ',8' notitle, \
         ''  using ($0 - 0.45):4:(0.9):(0) with vectors nohead lw 3 lc rgb '#d62728' title 'target: the ratio must be at most this'
}
