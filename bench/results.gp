# gnuplot -e "datafile='bench/out/latency-full.dat'; outfile='bench/results.png'" bench/results.gp
# Latency (p50 and p99) against offered deliveries per second, fan-out to 1000 clients, both servers.
set terminal pngcairo size 1000,600 font "sans,11" noenhanced
set output outfile
set title "Fan-out to 1000 WebSocket clients: latency against offered rate (median of rounds)"
set xlabel "offered deliveries per second (emits/s x 1000 clients)"
set ylabel "latency (ms, log scale)"
set logscale y
set grid
set key top left
set datafile missing "?"
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "sioserver p50", \
     datafile using 1:3 with linespoints lw 2 pt 5 lc rgb "#1f77b4" dt 2 title "sioserver p99", \
     datafile using 1:4 with linespoints lw 2 pt 7 lc rgb "#d62728" title "Node socket.io p50", \
     datafile using 1:5 with linespoints lw 2 pt 5 lc rgb "#d62728" dt 2 title "Node socket.io p99"
