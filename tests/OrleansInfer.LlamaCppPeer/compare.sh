#!/usr/bin/env bash
# Side-by-side speed and memory of orleans-infer and llama.cpp (the LlamaCppPeer) on the same GGUF files.
#
# For each file: a short warm-up run of each (pages the file in, discarded), then R rounds, each running
# `bench latency` (decode and prefill) and `bench throughput` (N sequences decoding together) of both engines,
# alternating which goes first. Prints one JSON object: per file the medians over the rounds for each engine,
# the ratios ours / llama.cpp, and each program's peak resident memory (VmHWM, the `peak_rss_bytes` both print).
#
# usage: compare.sh [--ours BIN] [--peer BIN] [--threads 2] [--repeats 3] [--input-len 128] [--output-len 64]
#                   [--sequences 32] [--seq-len 128] [--latency-only] [--ours-args "..."] [--peer-args "..."] FILE.gguf...
# --latency-only skips `bench throughput` (large models on small machines). Needs bash and jq. Build both first (see README.md); run on an otherwise idle machine.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
ours="$root/src/OrleansInfer.Cli/bin/Release/net10.0/orleans-infer"
peer="$root/tests/OrleansInfer.LlamaCppPeer/bin/Release/net10.0/linux-x64/OrleansInfer.LlamaCppPeer"
threads=2 repeats=3 input_len=128 output_len=64 sequences=32 seq_len=128 latency_only=0
ours_args="" peer_args=""
files=()

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "error: $*" >&2; exit 2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

while (($#)); do
  case "$1" in
    --ours) ours="${2:?--ours needs a path}"; shift 2 ;;
    --peer) peer="${2:?--peer needs a path}"; shift 2 ;;
    --threads) positive "$1" "${2:-}"; threads="$2"; shift 2 ;;
    --repeats) positive "$1" "${2:-}"; repeats="$2"; shift 2 ;;
    --input-len) positive "$1" "${2:-}"; input_len="$2"; shift 2 ;;
    --output-len) positive "$1" "${2:-}"; output_len="$2"; shift 2 ;;
    --sequences) positive "$1" "${2:-}"; sequences="$2"; shift 2 ;;
    --seq-len) positive "$1" "${2:-}"; seq_len="$2"; shift 2 ;;
    --latency-only) latency_only=1; shift ;;
    --ours-args) ours_args="${2?--ours-args needs a value}"; shift 2 ;;
    --peer-args) peer_args="${2?--peer-args needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    --*) die "unknown option '$1'" ;;
    *) files+=("$1"); shift ;;
  esac
done
((${#files[@]})) || usage
command -v jq >/dev/null || die "jq is required"
[[ -x "$ours" ]] || die "orleans-infer not built: $ours (dotnet build src/OrleansInfer.Cli -c Release)"
[[ -x "$peer" ]] || die "peer not built: $peer (dotnet build tests/OrleansInfer.LlamaCppPeer -c Release)"
for f in "${files[@]}"; do [[ -f "$f" ]] || die "model file not found: $f"; done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="$work/runs.ndjson"
: >"$runs"

# run ENGINE BENCH FILE ARGS...: one JSON line tagged with the file, the engine and the bench, appended to $runs
# (unless $record is 0: warm-up).
record=1
run() {
  local engine="$1" bench="$2" file="$3"; shift 3
  local out="$work/out.json" err="$work/err.txt"
  if ! "$@" >"$out" 2>"$err"; then
    echo "error: $engine $bench on $file failed: $*" >&2
    cat "$err" >&2
    exit 1
  fi
  ((record)) || return 0
  jq -c --arg file "$file" --arg engine "$engine" --arg bench "$bench" '. + {file: $file, engine_tag: $engine, bench: $bench}' "$out" >>"$runs"
}

latency() { # ENGINE FILE INPUT_LEN OUTPUT_LEN [extra args]
  local engine="$1" file="$2" in="$3" out="$4"; shift 4
  # shellcheck disable=SC2086 # the pass-through arguments are meant to split
  if [[ "$engine" == ours ]]; then
    run ours latency "$file" "$ours" bench latency --model "$file" --threads "$threads" --input-len "$in" --output-len "$out" --json $ours_args "$@"
  else
    run llama.cpp latency "$file" "$peer" latency --model "$file" --threads "$threads" --input-len "$in" --output-len "$out" --json $peer_args "$@"
  fi
}

throughput() { # ENGINE FILE
  local engine="$1" file="$2"
  # shellcheck disable=SC2086
  if [[ "$engine" == ours ]]; then
    run ours throughput "$file" "$ours" bench throughput --model "$file" --threads "$threads" --num-prompts "$sequences" --max-num-seqs "$sequences" \
      --input-len "$seq_len:$seq_len" --output-len "$seq_len:$seq_len" --json $ours_args
  else
    run llama.cpp throughput "$file" "$peer" throughput --model "$file" --threads "$threads" --sequences "$sequences" \
      --input-len "$seq_len:$seq_len" --output-len "$seq_len:$seq_len" --json $peer_args
  fi
}

for file in "${files[@]}"; do
  echo "$(basename "$file"): warm-up" >&2
  record=0
  latency ours "$file" 16 8 --warmup 0 --repeats 1
  latency llama.cpp "$file" 16 8 --warmup 0 --repeats 1
  record=1
  for ((r = 1; r <= repeats; r++)); do
    echo "$(basename "$file"): round $r of $repeats" >&2
    if ((r % 2)); then order=(ours llama.cpp); else order=(llama.cpp ours); fi
    for e in "${order[@]}"; do latency "$e" "$file" "$input_len" "$output_len"; done
    ((latency_only)) || for e in "${order[@]}"; do throughput "$e" "$file"; done
  done
done

jq -s --argjson threads "$threads" --argjson repeats "$repeats" --argjson input_len "$input_len" --argjson output_len "$output_len" \
  --argjson sequences "$sequences" --argjson seq_len "$seq_len" --arg ours_args "$ours_args" --arg peer_args "$peer_args" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r2: if . == null then null else (. * 100 | round) / 100 end;
  def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else ($a / $b * 1000 | round) / 1000 end;
  def summary($runs; $engine):
    ($runs | map(select(.engine_tag == $engine))) as $e
    | ($e | map(select(.bench == "latency"))) as $lat
    | ($e | map(select(.bench == "throughput"))) as $thr
    | {
        device: ($e[0].device),
        decode_tokens_per_s: ($lat | map(.decode_tokens_per_s) | median | r2),
        prefill_tokens_per_s: ($lat | map(.prefill_tokens_per_s) | median | r2),
        throughput_output_tokens_per_s: ($thr | map(.output_tokens_per_s) | median | r2),
        latency_peak_rss_bytes: ($lat | map(.peak_rss_bytes) | median),
        throughput_peak_rss_bytes: ($thr | map(.peak_rss_bytes) | median),
        decode_runs: ($lat | map(.decode_tokens_per_s)),
        throughput_runs: ($thr | map(.output_tokens_per_s))
      };
  {
    threads: $threads,
    repeats: $repeats,
    ours_args: $ours_args,
    peer_args: $peer_args,
    latency: {input_len: $input_len, output_len: $output_len, batch: 1},
    throughput: {sequences: $sequences, input_len: $seq_len, output_len: $seq_len},
    files: (. as $all
      | reduce $all[].file as $f ([]; if index([$f]) then . else . + [$f] end)
      | map(. as $f | $all | map(select(.file == $f)))
      | map(
      . as $runs
      | summary($runs; "ours") as $o
      | summary($runs; "llama.cpp") as $l
      | {
          file: ($runs[0].file | split("/") | last),
          ours: $o,
          llama_cpp: $l,
          ours_over_llama_cpp: {
            decode: ratio($o.decode_tokens_per_s; $l.decode_tokens_per_s),
            prefill: ratio($o.prefill_tokens_per_s; $l.prefill_tokens_per_s),
            throughput: ratio($o.throughput_output_tokens_per_s; $l.throughput_output_tokens_per_s),
            latency_peak_rss: ratio($o.latency_peak_rss_bytes; $l.latency_peak_rss_bytes),
            throughput_peak_rss: ratio($o.throughput_peak_rss_bytes; $l.throughput_peak_rss_bytes)
          }
        }))
  }' "$runs"
