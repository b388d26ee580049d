#!/usr/bin/env bash
# Fail if any tracked C file differs from clang-format's output.
set -uo pipefail
bad=()
while IFS= read -r f; do
    [[ -f $f ]] || continue
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h')
if [[ ${#bad[@]} -gt 0 ]]; then
    echo "format-check: not clang-formatted (run 'make format'): ${bad[*]}" >&2
    exit 1
fi
echo "format-check: ok"
