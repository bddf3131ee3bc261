#!/usr/bin/env bash
# The long API fuzzing run (schemathesis v4, every check, tests/slow/schemathesis.toml),
# against a running server, as an anonymous client, a reader and a moderator.
#
#   DATABASE_URL=postgresql://... FORUM_RATE_LIMITS=off forum serve --port 8807 &
#   DATABASE_URL=postgresql://... tests/slow/run_schemathesis.sh [base-url] [max-examples]
#
# Defaults: http://127.0.0.1:8807, 200 examples per operation (about 15-30 min on 2 cores).
# Session-ending operations (logout, erasure) run only anonymously, so the tokens survive;
# the SSE stream is left out (it never ends; tests/security covers it).
set -euo pipefail
BASE=${1:-http://127.0.0.1:8807}
EXAMPLES=${2:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
eval "$(python "$HERE/fuzz_accounts.py")"
status=0
for who in anonymous reader moderator; do
  args=()
  case $who in
    reader) args=(-H "Authorization: Bearer $READER_TOKEN" --exclude-operation-id logout_user --exclude-operation-id delete_me) ;;
    moderator) args=(-H "Authorization: Bearer $MODERATOR_TOKEN" --exclude-operation-id logout_user --exclude-operation-id delete_me) ;;
  esac
  echo "== schemathesis as $who"
  schemathesis --config-file "$HERE/schemathesis.toml" run "$BASE/schema/openapi.json" "${args[@]}" \
    --exclude-path-regex '/events$' --max-examples "$EXAMPLES" --workers 2 --request-timeout 30 \
    --no-color --report junit --report-dir "${REPORT_DIR:-/tmp/forum-schemathesis}/$who" || status=1
done
exit $status
