#!/bin/sh
# Builds the Debian packages (fedgate, fedgate-sdk, fedgate-mock) from the
# committed tree: a clean copy made with `git archive` of HEAD, with
# packaging/debian/ placed at its root, built by dpkg-buildpackage and checked
# by lintian. The .debs (and the .changes and .buildinfo) land in OUTDIR
# (default build/deb/).
#
#   packaging/build-deb.sh [OUTDIR]
#
# Uncommitted changes are not packaged: commit first.
set -eu
cd "$(dirname "$0")/.."
out="${1:-build/deb}"
./packaging/install-deps.sh --package

# One version: debian/changelog's must be the project's.
cmake_version=$(sed -n 's/^project(fedgate VERSION \([0-9.]*\) .*/\1/p' CMakeLists.txt)
deb_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$cmake_version" != "$deb_version" ]; then
  echo "build-deb: debian/changelog says $deb_version, CMakeLists.txt says" \
    "$cmake_version: add a changelog entry (dch -v $cmake_version)" >&2
  exit 1
fi

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "build-deb: warning: uncommitted changes are not in the package" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/fedgate-$deb_version"
mkdir "$src"
git archive --format=tar HEAD | tar -x -C "$src"
cp -r packaging/debian "$src/debian"

# Reproducible dates come from the changelog, as Debian's own builds do.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp)
export SOURCE_DATE_EPOCH
# debian/rules hands FG_GIT_COMMIT to CMake (the copy has no .git).
(cd "$src" && FG_GIT_COMMIT="$commit" dpkg-buildpackage -us -uc -b -j"$(nproc)")
# Errors and warnings fail the build; overrides say why in their comments.
lintian --fail-on error,warning --info "$tmp"/*.changes

mkdir -p "$out"
for f in "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo; do
  cp "$f" "$out/"
done
echo "build-deb: packages of commit $commit in $out:"
ls -l "$out"/*.deb
