#!/usr/bin/env bash
# Renders one stack at the pull request's base and at its head with the same render state, and writes
# the unified diff of the two: what the change does to every container file, resource and output,
# with no credentials at all (render evaluates the program offline). Used by the pull-request
# workflows in this folder; run it locally the same way.
#
#   docs/ci/render-diff.sh BASE_REF STACK OUT_FILE
#
# BASE_REF is a commit the checkout has (fetch it first), STACK a stack under stacks/. The base is
# extracted with `git archive` (no worktree, no checkout). It reuses this checkout's node_modules when
# package-lock.json did not change, and runs npm ci for the base otherwise. RENDER_HEAD_ARGS adds
# options to the head's render only (such as --set for a what-if). Exit status 0 with the diff in
# OUT_FILE (empty when nothing changes); 1 when either render fails (its message is printed).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 BASE_REF STACK OUT_FILE" >&2
    exit 2
fi
base_ref=$1
stack=$2
out_file=$3
head_dir=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/base-src"
git archive "$base_ref" | tar -x -C "$work/base-src"
if cmp -s "$work/base-src/package-lock.json" "$head_dir/package-lock.json"; then
    ln -s "$head_dir/node_modules" "$work/base-src/node_modules"
else
    (cd "$work/base-src" && npm ci --prefer-offline --no-audit --no-fund >/dev/null)
fi

# The same --state for both: keys and passwords generated for the base are reused by the head, so
# the diff shows only what the change does.
state="$work/render-state.json"
(cd "$work/base-src" && npm run -s render -- --stack "$stack" --out "$work/rendered/base" --state "$state")
# shellcheck disable=SC2086 # RENDER_HEAD_ARGS is a list of options
npm run -s render -- --stack "$stack" --out "$work/rendered/head" --state "$state" ${RENDER_HEAD_ARGS:-}

(cd "$work/rendered" && diff -ruN base head) >"$out_file" || [ $? -eq 1 ]
if [ -s "$out_file" ]; then
    echo "render diff for stack $stack: $(grep -c '^diff ' "$out_file") files changed"
else
    echo "render diff for stack $stack: no change"
fi
