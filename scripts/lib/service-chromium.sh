# Sourced by scripts/lib/services.sh: the Chromium the console's browser tests drive.
#
# Not a server: Debian's `chromium` package, installed with apt-get when it is
# missing (as root; CI machines start without it), driven by Playwright through
# its executable (Playwright's own browser download is never used: no network
# but PyPI, Debian and npm). Exports REELSERVE_TEST_CHROMIUM. An already set
# REELSERVE_TEST_CHROMIUM is used as it is.

ensure_chromium() {
  if [ -n "${REELSERVE_TEST_CHROMIUM:-}" ]; then
    echo "== chromium: using REELSERVE_TEST_CHROMIUM as given"
    return 0
  fi
  local found
  found="$(command -v chromium || command -v chromium-browser || true)"
  if [ -z "$found" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "== chromium: missing, and installing it needs root (apt-get install chromium)" >&2
      return 0
    fi
    echo "== chromium: installing Debian's chromium (apt-get; about a minute)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >/tmp/reelserve-chromium-install.log 2>&1 \
      || { echo "== chromium: apt-get failed, see /tmp/reelserve-chromium-install.log" >&2; return 0; }
    found="$(command -v chromium || true)"
  fi
  if [ -n "$found" ]; then
    export REELSERVE_TEST_CHROMIUM="$found"
    echo "== chromium: $("$found" --version 2>/dev/null | head -1)"
  fi
}

ensure_chromium
