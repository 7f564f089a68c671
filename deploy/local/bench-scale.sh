#!/usr/bin/env bash
# Runs the program-scale benchmark (tests/Meta.ComputeAccess.Benchmarks, "scale") against a throwaway PostgreSQL with
# default durability settings, and always removes the cluster: the 1,000,000-record POST on an empty usage_records, then
# after preloading records generated in the database (default 20,000,000, fewer when the disk would keep less than
# 15 GiB free), and the allocation page of an allocation with 1,000,000 jobs. Extra arguments go to the benchmark, e.g.
#   deploy/local/bench-scale.sh --preload 5000000
exec "$(dirname "${BASH_SOURCE[0]}")/bench.sh" scale "$@"
