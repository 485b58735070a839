#!/usr/bin/env bash
# Fuzzes every importer with libFuzzer for a bounded time each and fails on a crash, an
# exception other than InputError/ConfigError, a hang (> 10 s on one input), a leak or a
# memory blow-up (> 2 GiB). Builds the targets with clang into build-fuzz/ (AddressSanitizer
# and LeakSanitizer on); installs clang-14 + libclang-rt-14-dev with apt when libFuzzer is
# missing and this runs as root. Inputs that failed are kept in build-fuzz/artifacts/<format>/,
# the corpus grows in build-fuzz/corpus/<format>/ and is reused by the next run.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET (30)] [FORMAT ...]   # formats: lightgcn pairs tsv csv movielens recbole
#   reproduce one:  build-fuzz/tests/fuzz/fuzz_csv build-fuzz/artifacts/csv/crash-...
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(lightgcn pairs tsv csv movielens recbole)
out=build-fuzz

have_libfuzzer() {
  local probe
  probe=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe/p.cc"
  command -v clang++ > /dev/null && clang++ -fsanitize=fuzzer,address "$probe/p.cc" -o "$probe/p" 2> /dev/null
  local ok=$?
  rm -rf "$probe"
  return $ok
}
if ! have_libfuzzer; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "fuzz: installing clang-14 and libclang-rt-14-dev (libFuzzer)"
    apt-get install -y -q clang-14 libclang-rt-14-dev > /dev/null
    command -v clang++ > /dev/null || ln -s "$(command -v clang++-14)" /usr/local/bin/clang++
    command -v clang > /dev/null || ln -s "$(command -v clang-14)" /usr/local/bin/clang
  fi
  have_libfuzzer || { echo "fuzz: needs clang with libFuzzer: apt-get install clang-14 libclang-rt-14-dev" >&2; exit 2; }
fi

flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address"
if [ ! -f "$out/build.ninja" ]; then
  mkdir -p "$out"
  cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DKGREC_FUZZ=ON -DKGREC_BUILD_TESTS=OFF -DKGREC_BUILD_BENCH=OFF > "$out/configure.log" 2>&1 \
    || { cat "$out/configure.log"; exit 1; }
fi
cmake --build "$out" -j1 --target "${formats[@]/#/fuzz_}"

# Seeds: small valid inputs (option byte, then the files separated by NUL bytes).
seed() {  # seed FORMAT NAME OPTION_BYTE FILE_TEXT...  (texts as printf formats)
  local dir="$out/seeds/$1" name=$2 option=$3
  shift 3
  mkdir -p "$dir"
  {
    printf "\\x$option"
    local first=1
    for text in "$@"; do
      [ $first = 1 ] || printf '\0'
      first=0
      printf "$text"
    done
  } > "$dir/$name"
}
fixture() { cat "tests/prepare/fixtures/$1" | sed 's/%/%%/g; s/\\/\\\\/g'; }
seed lightgcn plain 00 '0 1 2\n1 2 3\n2\n' '0 3\n1 0\n'
seed lightgcn kg 04 '0 0 1\n1 2 3\n' '0 2\n' '0 0 4\n1\t1\t6\n4 0 1\n' '2\tsecond item\n' '6\tentity six\n'
seed pairs plain 00 '0\t1\t1\n0 2 1\n1\t1\n' '1 2 1\n' '0 0 4\n'
seed tsv files 08 '# user\titem\trating\nalice\tbook1\t5\nbob\tbook2\t3\n' 'bob\tbook1\t4\n' 'book1\tauthor\tjane\n' 'book2\tA book\n' 'jane\tJane Doe\n'
seed tsv timed 10 'a\tx\t5\t10\na\ty\t1\t20\nb\tx\t4\t30\nb\ty\t3\t40\n'
seed csv files 00 'review,User_ID,movieId,Rating,Timestamp\r\nr1,alice,"Heat, The",5,100\r\n' 'userId,rating,movieId,timestamp\nbob,5,"Heat, The",400\n'
seed csv temporal 50 'user;item;timestamp\na;x;10\na;y;2020-01-02\nb;"x ""q""";30\nb;z;40\n'
seed csv columns 24 'user|item|timestamp\na|x|10\na|y|20T\nb|x|30\n'
seed movielens ml100k 00 'unknown|0\nAction|1\nComedy|2\n' "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n2|Caf\\xe9 (1980)|||y|0|1|1\n" '1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n'
seed movielens ml1m 11 '1::Star Trek (1979)::Action|Sci-Fi\n5::Pok\xe9mon (1999)::Children\n' '10::1::5::978300760\n10::5::3::978300761\n'
seed movielens mlcsv 22 "$(fixture movielens-csv/movies.csv)\n" "$(fixture movielens-csv/ratings.csv)\n" "$(fixture movielens-csv/tags.csv)\n"
seed recbole tiny 10 "$(fixture recbole/tiny/tiny.inter)\n" "$(fixture recbole/tiny/tiny.item)\n" "$(fixture recbole/tiny/tiny.kg)\n" "$(fixture recbole/tiny/tiny.link)\n"
seed recbole bench 01 'user_id:token\titem_id:token\nu1\ti1\nu1\ti2\n' 'user_id:token\titem_id:token\nu1\ti3\n' 'user_id:token\titem_id:token\nu2\ti1\n' '' 'head_id:token\trelation_id:token\ttail_id:token\ni1\tr\te1\n'

failed=()
for format in "${formats[@]}"; do
  mkdir -p "$out/corpus/$format" "$out/artifacts/$format"
  log="$out/fuzz_$format.log"
  set +e
  ASAN_OPTIONS=detect_leaks=1 "$out/tests/fuzz/fuzz_$format" "$out/corpus/$format" "$out/seeds/$format" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/$format/" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [ $rc = 0 ]; then
    echo "fuzz $format: ok, ${runs:-?} inputs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$out/corpus/$format" | wc -l)"
  else
    echo "fuzz $format: FAILED (exit $rc); input kept in $out/artifacts/$format/, log $log:"
    grep -E 'ERROR|SUMMARY|terminate|what\(\)|Test unit written' "$log" | head -8 | sed 's/^/  /' || true
    failed+=("$format")
  fi
done
[ ${#failed[@]} = 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
echo "fuzz: all ${#formats[@]} importers ran ${seconds}s each without a crash, hang or leak"
