#!/usr/bin/env bash
# Builds vmq's Debian binary package from this tree and checks it with lintian.
#
#   deploy/build-deb.sh [OUTDIR]        (default OUTDIR: build-deb/ at the top)
#
# The packaging lives in deploy/debian (the project's top level has no
# debian/): the source is staged in a temporary directory, git's tracked files
# plus untracked ones that are not ignored (or, outside git, a copy without
# build directories), with deploy/debian as debian/. The tests are not built
# (-DVMQ_BUILD_TESTS=OFF, DEB_BUILD_OPTIONS=nocheck); ccache is used when
# present. OUTDIR receives the .deb files, the .changes and .buildinfo and
# lintian.txt. Fails on any lintian error; warnings are printed.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=${1:-$top/build-deb}

for tool in dpkg-buildpackage dh lintian; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-deb: $tool is missing (apt-get install dpkg-dev debhelper lintian)" >&2
    exit 1
  fi
done

version=$(dpkg-parsechangelog -l "$top/deploy/debian/changelog" -S Version)
# The same staging path every time, so that ccache finds the compilations of
# the last build (the paths are in the compiler's arguments); one build at a
# time holds it.
stage=${TMPDIR:-/tmp}/vmq-build-deb
exec 9<"${BASH_SOURCE[0]}"
flock 9
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
src=$stage/vmq-$version
mkdir -p "$src"

# The files of the source tree, as paths relative to $top, NUL-separated.
source_files() {
  if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # --cached also lists files deleted from the work tree: keep what exists.
    git -C "$top" ls-files -z --cached --others --exclude-standard --deduplicate |
      while IFS= read -r -d '' f; do
        if [[ -e $top/$f || -L $top/$f ]]; then printf '%s\0' "$f"; fi
      done
  else
    (cd "$top" && find . -path './build*' -prune -o -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\0')
  fi
}
source_files | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
rm -rf "$src/debian"
cp -a "$src/deploy/debian" "$src/debian"

if command -v ccache >/dev/null; then
  # debhelper points HOME elsewhere: name the cache it would not find.
  export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
build_options="nocheck ${DEB_BUILD_OPTIONS:-}"
if [[ $build_options != *parallel=* ]]; then build_options+=" parallel=$(nproc)"; fi

echo "build-deb: building vmq $version in $src"
(cd "$src" && DEB_BUILD_OPTIONS=$build_options dpkg-buildpackage -b -us -uc) >"$stage/build.log" 2>&1 || {
  tail -n 60 "$stage/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (the last lines of its log are above)" >&2
  exit 1
}

mkdir -p "$outdir"
changes=$stage/vmq_${version}_amd64.changes
mapfile -t artifacts < <(cd "$stage" && ls ./*.deb ./*.ddeb ./*.changes ./*.buildinfo 2>/dev/null)
(cd "$stage" && cp -- "${artifacts[@]}" "$outdir/")

status=0
lintian --fail-on error --display-info "$changes" >"$outdir/lintian.txt" 2>&1 ||
  status=$?
cat "$outdir/lintian.txt"
if ((status != 0)); then
  echo "build-deb: lintian reports errors (above; also in $outdir/lintian.txt)" >&2
  exit 1
fi
echo "build-deb: $(cd "$outdir" && ls vmq_"${version}"_*.deb) in $outdir; lintian: no errors"
