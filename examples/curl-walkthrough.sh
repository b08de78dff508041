#!/usr/bin/env bash
# The DocuChat API with nothing but curl and jq: log in, upload a PDF, wait until it is ready, search, list.
#   API=http://localhost:8787 TENANT=demo ./examples/curl-walkthrough.sh [file.pdf]
# EMAIL picks the account (default: a fresh one). On a stack without DEV_RETURN_LOGIN_CODE=true the code is emailed:
# run it once, then again with CODE=<the 6 digits>.
set -euo pipefail
cd "$(dirname "$0")/.."

API="${API:-http://localhost:8787}"
TENANT="${TENANT:-demo}"
EMAIL="${EMAIL:-curl.$(date +%s).$$@example.com}"
PDF="${1:-test/fixtures/pdf/first-latex-doc-en.pdf}"

# An error answer ({"error":{"code","message","request_id"}}) goes to stderr and stops the script.
api() {
  local body
  if ! body="$(curl --silent --show-error --fail-with-body -H "X-Tenant-ID: $TENANT" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$@")"; then
    printf '%s\n' "$body" >&2
    return 1
  fi
  printf '%s\n' "$body"
}
step() { printf '\n== %s\n' "$*" >&2; }

step "1. ask for a login code for $EMAIL"
if [ -z "${CODE:-}" ]; then
  CODE="$(api -X POST "$API/v1/auth/request-code" -H 'Content-Type: application/json' -d "$(jq -n --arg email "$EMAIL" '{email: $email}')" | jq -r '.dev_code // empty')"
  [ -n "$CODE" ] || { echo "The code was emailed to $EMAIL: run again with CODE=<code> EMAIL=$EMAIL" >&2; exit 2; }
fi

step "2. exchange the code for a bearer token"
TOKEN="$(api -X POST "$API/v1/auth/verify-code" -H 'Content-Type: application/json' -d "$(jq -n --arg email "$EMAIL" --arg code "$CODE" '{email: $email, code: $code}')" | jq -r .access_token)"
api "$API/v1/me" | jq -c '{id, email}'

step "3. upload $PDF"
FILE_ID="$(api -X POST "$API/v1/files" -F "file=@$PDF;type=application/pdf" | jq -r .id)"
echo "file_id=$FILE_ID"

step "4. wait until it is ready (poll GET /v1/files/{id})"
for _ in $(seq 1 300); do
  doc="$(api "$API/v1/files/$FILE_ID")"
  status="$(jq -r .status <<<"$doc")"
  echo "status=$status pages_done=$(jq -r .progress.pages_done <<<"$doc")/$(jq -r '.progress.pages_total // "?"' <<<"$doc")"
  case "$status" in
    ready) break ;;
    failed) jq -c .error <<<"$doc" >&2; exit 1 ;;
  esac
  sleep 1
done
[ "$status" = ready ] || { echo "not ready after 300 s" >&2; exit 1; }

step "5. search"
api -X POST "$API/v1/search" -H 'Content-Type: application/json' -d '{"query":"How do I start a new section?","top_k":3}' |
  jq -c '.results[] | {filename, page_start, page_end, score}'

step "6. list your documents"
api "$API/v1/files" | jq -c '.files[] | {id, filename, status, page_count}'
