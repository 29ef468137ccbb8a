#!/usr/bin/env bash
# The review action.yml runs, in the folder of routes.yaml: check, diff against the base branch, and (with
# CMR_PLAN=true) synth, terraform plan and summarize-plan. Writes the Markdown summary to a file and names it in
# $GITHUB_OUTPUT (summary=PATH, failed=true|false), and appends it to $GITHUB_STEP_SUMMARY. Always exits 0 once it
# has a summary, so that the comment is posted either way; action.yml's last step fails the job on failed=true.
#
# Inputs (environment): CMR_FILE (routes.yaml), CMR_ENV, CMR_STRICT (true|false), CMR_BASE (default
# origin/$GITHUB_BASE_REF), CMR_PLAN (true|false), CMR_STATE (s3://BUCKET/KEY). Runs `cloudmap-routes` and
# `terraform` from PATH, and git.
set -uo pipefail

file="${CMR_FILE:-routes.yaml}"
environment="${CMR_ENV:-}"
base="${CMR_BASE:-}"
if [[ -z "$base" ]]; then
  base="origin/${GITHUB_BASE_REF:?no CMR_BASE and no GITHUB_BASE_REF: run on pull_request, or set the base input}"
fi
work="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cloudmap-routes-review"
mkdir -p "$work"
summary="$work/summary-$(printf '%s' "$file${environment:+-$environment}" | tr -c 'A-Za-z0-9._-' '_').md"
env_args=()
[[ -n "$environment" ]] && env_args=(--env "$environment")
failed=false

# A fenced block that no line of the text can close: one backtick more than its longest run (at least three).
fenced() {
  local longest fence
  longest=$(grep -o '`\+' "$1" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')
  fence=$(printf '%*s' "$(( longest >= 3 ? longest + 1 : 3 ))" '' | tr ' ' '`')
  printf '%s\n' "$fence"
  cat "$1"
  printf '%s\n' "$fence"
}

{
  printf '## cloudmap-routes review of `%s`%s\n\n' "$file" "${environment:+ (environment \`$environment\`)}"
} > "$summary"

strict=()
[[ "${CMR_STRICT:-false}" == "true" ]] && strict=(--strict)
echo "::group::cloudmap-routes check $file ${env_args[*]} ${strict[*]}"
cloudmap-routes check "$file" "${env_args[@]}" "${strict[@]}" 2> "$work/check.txt"
check_status=$?
cat "$work/check.txt" >&2
echo "::endgroup::"
if (( check_status != 0 )); then
  failed=true
  { echo "**check failed** (exit $check_status): nothing below was compared or planned."; echo
    fenced "$work/check.txt"; } >> "$summary"
else
  if ! git cat-file -e "$base:./$file" 2> /dev/null; then
    printf '`%s` does not exist on %s: every route in it is new.\n\n' "$file" "$base" >> "$summary"
  elif ! cloudmap-routes diff "$base:./$file" "$file" --format markdown "${env_args[@]}" >> "$summary" \
      2> "$work/diff.txt"; then
    failed=true
    { echo "**diff failed**:"; fenced "$work/diff.txt"; } >> "$summary"
  fi
  if [[ "${CMR_PLAN:-true}" == "true" ]]; then
    state=()
    [[ -n "${CMR_STATE:-}" ]] && state=(--state "$CMR_STATE")
    stack="${environment:-routes}"
    out="$work/cdktf.out"
    stack_dir="$out/stacks/$stack"
    echo "::group::terraform plan of stack $stack"
    if cloudmap-routes synth "$file" "${env_args[@]}" "${state[@]}" --out "$out" \
        && terraform -chdir="$stack_dir" init -input=false -no-color \
        && terraform -chdir="$stack_dir" plan -input=false -lock=false -no-color -out=tfplan \
        && terraform -chdir="$stack_dir" show -json tfplan > "$stack_dir/plan.json"; then
      echo "::endgroup::"
      { echo; cloudmap-routes summarize-plan "$stack_dir/plan.json" --format markdown; } >> "$summary" \
        || failed=true
    else
      echo "::endgroup::"
      failed=true
      echo "**the plan failed**: see the job's log." >> "$summary"
    fi
  fi
fi

[[ -n "${GITHUB_STEP_SUMMARY:-}" ]] && cat "$summary" >> "$GITHUB_STEP_SUMMARY"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  { echo "summary=$summary"; echo "failed=$failed"; } >> "$GITHUB_OUTPUT"
fi
echo "summary: $summary (failed=$failed)"
