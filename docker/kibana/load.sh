#!/bin/sh
# Loads every saved-objects file (*.ndjson) of this folder into Kibana at $1, overwriting.
set -eu
kibana="${1:-http://127.0.0.1:5601}"
for f in "$(dirname "$0")"/*.ndjson; do
  [ -e "$f" ] || continue
  echo "kibana: importing $f"
  curl -fsS -X POST "$kibana/api/saved_objects/_import?overwrite=true" \
    -H 'kbn-xsrf: true' --form file=@"$f"
  echo
done
