#!/usr/bin/env bash
# Runs the usage-ingest benchmark (tests/Meta.ComputeAccess.Benchmarks, "ingest") against a throwaway
# PostgreSQL with default durability settings, and always removes the cluster. Extra arguments go to the
# benchmark, e.g. deploy/local/bench-ingest.sh --records 200000
exec "$(dirname "${BASH_SOURCE[0]}")/bench.sh" ingest "$@"
