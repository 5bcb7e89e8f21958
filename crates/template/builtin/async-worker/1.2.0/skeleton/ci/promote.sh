#!/bin/sh
# Promotes one environment: copies the manifests `pave render --env ENV` wrote into the GitOps
# repository under apps/<app>/<env>/ (Argo CD or Flux applies that folder) and pushes, rebasing
# and retrying when another pipeline pushed first. Each environment has its own folder, so
# promoting dev never changes what staging or prod run.
#
# usage: sh ci/promote.sh ENV RENDERED_DIR
# environment: GITOPS_URL (clone URL with credentials), APP, REVISION (the commit deployed)
set -eu

env_name=$1
rendered=$(cd "$2" && pwd)
: "${GITOPS_URL:?set GITOPS_URL}" "${APP:?set APP}" "${REVISION:?set REVISION}"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

git clone --quiet --depth 20 "$GITOPS_URL" "$workdir/gitops"
cd "$workdir/gitops"
git config user.name "pave-deploy"
git config user.email "pave-deploy@users.noreply.example.com"
branch=$(git rev-parse --abbrev-ref HEAD)
target="apps/$APP/$env_name"
rm -rf "$target"
mkdir -p "$(dirname "$target")"
cp -R "$rendered" "$target"
git add -A "apps/$APP"
if git diff --cached --quiet; then
  echo "$APP $env_name: already at $REVISION"
  exit 0
fi
git commit --quiet -m "deploy $APP to $env_name at $REVISION"
attempt=1
until git push --quiet origin "HEAD:$branch"; do
  if [ "$attempt" -ge 5 ]; then
    echo "could not push to the GitOps repository after $attempt attempts" >&2
    exit 1
  fi
  sleep $((attempt * 3))
  git pull --quiet --rebase origin "$branch"
  attempt=$((attempt + 1))
done
echo "$APP $env_name: deployed $REVISION"
