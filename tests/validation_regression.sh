#!/bin/sh
# Regression guard of `stepsim validate` (issue 7): runs validate on the rows recorded in
# tests/data/validation-baseline.json and fails when the throughput or memory MAPE, median or max
# |error| got worse than recorded by more than 1 point, or a fits/oom verdict turned wrong.
# Usage: validation_regression.sh STEPSIM SOURCE_DIR
# Re-record after a deliberate model change: tools/validation_report.py record --stepsim build/stepsim
set -eu
stepsim="$1"
src="$2"
exec python3 "$src/tools/validation_report.py" check --stepsim "$stepsim" --baseline "$src/tests/data/validation-baseline.json" -j 2
