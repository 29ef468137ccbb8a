#!/usr/bin/env bash
# Post the review summary as ONE pull request comment: the first line of the comment is a hidden marker naming
# the file (and environment), so the next run finds its own comment (by that marker and its author) and updates
# it instead of adding another. Uses `gh api` (GH_TOKEN) only.
#
# Inputs (environment): CMR_SUMMARY (the Markdown file review.sh wrote), CMR_PR (the pull request number),
# CMR_FILE, CMR_ENV, CMR_AUTHOR (whose comment to update), GITHUB_REPOSITORY (OWNER/REPO).
set -euo pipefail

summary="${CMR_SUMMARY:?no summary: the review step did not run}"
pr="${CMR_PR:?no pull request number}"
repo="${GITHUB_REPOSITORY:?}"
author="${CMR_AUTHOR:-github-actions[bot]}"
[[ "$pr" =~ ^[0-9]+$ ]] || { echo "CMR_PR '$pr' is not a pull request number" >&2; exit 2; }
login='^[][A-Za-z0-9_.-]+$'  # letters, digits, - and _ (and the [bot] of an app's login)
[[ "$author" =~ $login ]] || { echo "CMR_AUTHOR '$author' is not a GitHub login" >&2; exit 2; }
# The marker names what is reviewed, in characters that cannot end an HTML comment or a line.
subject=$(printf '%s' "${CMR_FILE:-routes.yaml}${CMR_ENV:+ env=$CMR_ENV}" | tr -c 'A-Za-z0-9._/= -' '_')
marker="<!-- cloudmap-routes review: $subject -->"

body="$(dirname "$summary")/comment-$(basename "$summary")"
limit=60000  # GitHub refuses a comment body over 65,536 characters
{
  printf '%s\n' "$marker"
  if (( $(wc -c < "$summary") > limit )); then
    head -c "$limit" "$summary"
    printf '\n\n*(cut at %s bytes: the whole summary is in the job summary)*\n' "$limit"
  else
    cat "$summary"
  fi
} > "$body"

existing=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.user.login == \"$author\") | [(.id | tostring), (.body | split(\"\\n\") | .[0])] | @tsv" \
  | awk -F '\t' -v marker="$marker" '$2 == marker { print $1; exit }')
if [[ -n "$existing" ]]; then
  gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" --jq .html_url
  echo "updated comment $existing"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --jq .html_url
  echo "posted a new comment"
fi
