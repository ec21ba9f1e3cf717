# Sourced by scripts/test: start the servers the suite needs.
#
# Each scripts/lib/service-*.sh starts one server (PostgreSQL, the S3 server)
# when sourced, exports the variables the tests read, and pushes the command
# that stops it onto SERVICE_STOPS; they run in reverse order when the test
# script exits, however it exits.
SERVICE_STOPS=()

stop_services() {
  local i
  for ((i = ${#SERVICE_STOPS[@]} - 1; i >= 0; i--)); do
    eval "${SERVICE_STOPS[$i]}" || true
  done
}

start_services() {
  trap stop_services EXIT
  # A signal ends the script through `exit`, so the EXIT trap stops the services too.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local f
  for f in scripts/lib/service-*.sh; do
    [ -e "$f" ] || continue
    . "$f"
  done
}
