# Sourced by bench/plots/*.sh: their shared options and gnuplot's terminal.
# parse_plot_options USAGE "$@" sets out (-o), k (-k, may stay empty), inputs (the other
# arguments, at least one) and terminal; exits 2 on a usage error, 1 without gnuplot.
parse_plot_options() {
  local usage=$1 opt OPTIND=1
  shift
  out="" k=""
  while getopts "o:k:" opt; do
    case $opt in
      o) out=$OPTARG ;;
      k) k=$OPTARG ;;
      *) echo "usage: $usage" >&2; exit 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  inputs=("$@")
  [[ -n $out && ${#inputs[@]} -ge 1 ]] || { echo "usage: $usage" >&2; exit 2; }
  command -v gnuplot > /dev/null ||
    { echo "$0: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
  # pngcairo draws smoother lines; plain png where gnuplot was built without cairo.
  terminal=png
  if gnuplot -e "set terminal" 2>&1 | grep -qw pngcairo; then terminal=pngcairo; fi
}
