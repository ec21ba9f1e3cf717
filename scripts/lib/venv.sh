# Sourced by scripts/quickstart and scripts/test: make .venv and install the
# project into it, once per change of pyproject.toml (a stamp file records it).
ensure_venv() {
  local extras="$1"
  local py="${REELSERVE_PYTHON:-}"
  if [ -z "$py" ]; then
    for candidate in python3.11 python3 python; do
      if command -v "$candidate" >/dev/null 2>&1 &&
         "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        py="$candidate"; break
      fi
    done
  fi
  if [ -z "$py" ]; then
    echo "reelserve needs Python >= 3.11 (set REELSERVE_PYTHON to its path)" >&2
    return 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$py" --version)"
    "$py" -m venv .venv
  fi
  local stamp=".venv/.reelserve-installed"
  local want
  want="$extras $(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing reelserve[$extras] into .venv (first run takes a minute)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    # The diffusers, images and music extras ask for a torch range; without a
    # torch already in place pip would pull the multi-GB CUDA build. Tests pin
    # the CPU wheel.
    if [[ ",$extras," == *",diffusers,"* || ",$extras," == *",images,"* ||
          ",$extras," == *",music,"* ]]; then
      .venv/bin/python -m pip install --quiet "torch==2.13.0"
    fi
    local target="."
    [ -n "$extras" ] && target=".[$extras]"
    .venv/bin/python -m pip install --quiet -e "$target"
    # basic-pitch's wheel carries the model the basic-pitch engine runs; its
    # declared dependencies (TensorFlow, numpy<2) are not wanted: no deps.
    if [[ ",$extras," == *",music,"* ]]; then
      .venv/bin/python -m pip install --quiet --no-deps "basic-pitch>=0.4,<0.5"
    fi
    echo "$want" > "$stamp"
  fi
}
