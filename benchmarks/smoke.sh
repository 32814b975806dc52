#!/usr/bin/env bash
# CI smoke of the benchmark harness (about a minute): every target once, tiny, timings not judged.
# Fails when the script breaks or pgsplit cannot serve a case.
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" --smoke --require-pgsplit "$@"
