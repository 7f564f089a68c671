#!/usr/bin/env bash
# Runs the pages-under-load benchmark (tests/Meta.ComputeAccess.Benchmarks, "pages": dashboard, admin proposal list of
# 10,000, proposal page at 32 concurrent signed-in clients) against a throwaway PostgreSQL, and always removes the
# cluster. Extra arguments go to the benchmark, e.g. deploy/local/bench-pages.sh --seconds 10 --only list-search
exec "$(dirname "${BASH_SOURCE[0]}")/bench.sh" pages "$@"
