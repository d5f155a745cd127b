#!/usr/bin/env bash
# The prepared GPU check of the ILGPU backend (see src/OrleansInfer.Backends.Ilgpu/README.md).
#
#   bash .ci/gpu-check.sh package          # here: self-contained linux-x64 build + test data -> artifacts/gpu/orleans-infer-gpu.tar.xz
#   bash .ci/gpu-check.sh run [--dry-run]  # on the GPU machine (repo root, no .NET, no network): checks, benchmarks, a table last
#
# `run --dry-run` does the same on ILGPU's CPU accelerator with a tiny synthetic model, to test this script without a GPU.
# Logs and results.tsv go to $OUT when set (the device tool brings that folder back), else /tmp/gpu-check.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGE=artifacts/gpu/orleans-infer-gpu.tar.xz
NAME=orleans-infer-gpu

package() {
  set -e
  local shared="${ORLEANSINFER_SHARED:-../shared}"
  local stage=artifacts/gpu/$NAME
  rm -rf "$stage" && mkdir -p "$stage/data"
  local flags=(-c Release -r linux-x64 --self-contained -p:DebugType=none -p:GenerateDocumentationFile=false -o "$stage")
  dotnet publish src/OrleansInfer.Cli "${flags[@]}"
  dotnet publish tests/OrleansInfer.GpuCheck "${flags[@]}"
  # The GPU machine has no ../shared: the package carries the small model, the reference and the tokenizers.
  cp "$shared/models/stories260K.gguf" "$shared/models/tok512.bin" "$shared/models/llama2-tokenizer.bin" "$shared/reference/stories260K-greedy.json" "$stage/data/"
  tar -C artifacts/gpu -cf - "$NAME" | xz -T0 -6 > "$PACKAGE"
  rm -rf "$stage"
  echo "package: $PACKAGE ($(du -h "$PACKAGE" | cut -f1))"
}

run() {
  local dry=0
  [ "${1:-}" = "--dry-run" ] && dry=1
  local out="${OUT:-/tmp/gpu-check}"
  local root=/tmp/$NAME
  mkdir -p "$out" && rm -f "$out/results.tsv"
  exec > >(tee "$out/gpu-check.log") 2>&1
  [ -f "$PACKAGE" ] || { echo "missing $PACKAGE: run 'bash .ci/gpu-check.sh package' first (and carry it to the device)"; exit 2; }
  rm -rf "$root" && mkdir -p /tmp
  if command -v xz >/dev/null; then xz -dc "$PACKAGE" | tar -C /tmp -xf -
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$PACKAGE" | tar -C /tmp -xf -; fi
  local check="$root/OrleansInfer.GpuCheck" cli="$root/orleans-infer" data="$root/data"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
  local device=cuda preset=llama2-7b tokenizer="$data/llama2-tokenizer.bin" quick=() model=/tmp/llama2-7b-f16.gguf
  if [ $dry = 1 ]; then
    device=cpu preset=stories260k tokenizer="$data/tok512.bin" quick=(--quick) model=/tmp/stories260k-f16.gguf
  fi
  local status=0 common=(--device "$device" --results "$out")

  echo "== device =="
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv; else echo "nvidia-smi: not found"; fi
  if ! timeout 60 "$check" device "${common[@]}"; then
    echo "ILGPU found no usable $device device: nothing else can run"
    "$check" table --results "$out"
    exit 1
  fi

  echo "== kernel checks =="
  timeout 180 "$check" kernels "${common[@]}" "${quick[@]}" || status=1

  echo "== greedy reference (stories260K) =="
  timeout 120 "$check" reference "${common[@]}" "${quick[@]}" --model "$data/stories260K.gguf" --reference "$data/stories260K-greedy.json" || status=1

  echo "== model families (tiny random models vs the naive reference) =="
  timeout 240 "$check" families "${common[@]}" || status=1

  echo "== synthetic $preset f16 =="
  local t0=$SECONDS
  if timeout 240 "$cli" model synth --preset "$preset" --type f16 --out "$model" --tokenizer "$tokenizer"; then
    echo "synth took $((SECONDS - t0)) s"
    echo "== benchmarks =="
    timeout 240 "$check" bench "${common[@]}" "${quick[@]}" --model "$model" || status=1
  else
    echo "synth failed or timed out"; status=1
  fi
  rm -f "$model"

  "$check" table --results "$out" || status=1
  exit $status
}

case "${1:-}" in
  package) package ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 package | run [--dry-run]"; exit 2 ;;
esac
