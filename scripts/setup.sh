#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine with Python 3.11: system packages (when root or sudo is available),
# a virtual environment .venv with the exact pins of requirements/torch.txt and requirements/tensorflow.txt
# (YouTube-8M TFRecord ingestion; torch and TensorFlow share the venv but never a process), and toeplitznet.
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"' || exit 1

SUDO=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"; }
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  need=()
  [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)   # smoke-scale data
  "$PY" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null \
      || echo "setup: WARNING: could not install ${need[*]} (smoke data falls back to data/ or a mirror)"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.toeplitznet-installed
want=$(cat requirements/torch.txt requirements/tensorflow.txt requirements/dev.txt requirements/slurm.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements/torch.txt -r requirements/tensorflow.txt -r requirements/dev.txt -r requirements/slurm.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "setup: ready (.venv: $(.venv/bin/python -c 'import torch, snakemake; print("torch", torch.__version__, "snakemake", snakemake.__version__)'), \
$(TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python -c 'import tensorflow as tf; print("tensorflow", tf.__version__)'))"
