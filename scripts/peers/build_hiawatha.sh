#!/usr/bin/env bash
# Builds Hiawatha 10.9 (a test peer, GPL-2.0, not part of the package) from
# the unmodified seed tarball into a cache prefix outside the repo. The
# interop suite finds it there (tests/support/hiawatha_peer.ts
# spells the same paths). Idempotent: an installed binary means nothing to do.
#
#   bash scripts/peers/build_hiawatha.sh            # builds (once), prints the binary's path
#   bash scripts/peers/build_hiawatha.sh --tarball  # prints the tarball's path, or fails
#
# Needs: cmake gcc make libxml2-dev libxslt1-dev zlib1g-dev (Debian).
set -euo pipefail

VERSION=10.9
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/webfcgi/hiawatha-$VERSION"
binary="$prefix/sbin/hiawatha"

# WEBFCGI_SEED_SERVERS, when set, is the only place looked in.
find_tarball() {
  local dirs dir
  if [ -n "${WEBFCGI_SEED_SERVERS:-}" ]; then
    dirs=("$WEBFCGI_SEED_SERVERS")
  else
    dirs=("$repo/../shared/seed-servers" /work/shared/seed-servers)
  fi
  for dir in "${dirs[@]}"; do
    if [ -f "$dir/hiawatha-$VERSION.tar.gz" ]; then
      echo "$dir/hiawatha-$VERSION.tar.gz"
      return 0
    fi
  done
  echo "hiawatha-$VERSION.tar.gz not found in: ${dirs[*]} (set WEBFCGI_SEED_SERVERS to its directory)" >&2
  return 1
}

if [ "${1:-}" = "--tarball" ]; then
  find_tarball
  exit
fi

if [ -x "$binary" ]; then
  echo "hiawatha $VERSION already built: $binary"
  exit 0
fi

tarball=$(find_tarball)

for tool in cmake gcc make xml2-config xslt-config /usr/include/zlib.h; do
  command -v "$tool" >/dev/null 2>&1 || [ -e "$tool" ] || {
    echo "missing $tool (apt-get install cmake gcc make libxml2-dev libxslt1-dev zlib1g-dev)" >&2
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/webfcgi-hiawatha-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "building hiawatha $VERSION from $tarball into $prefix"
tar -xzf "$tarball" -C "$work"
src="$work/hiawatha-$VERSION"
# Default options: XSLT stays on (without XSLT and the Monitor, Hiawatha
# checks the request path on disk before FastCGI and app routes are 404s).
cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
make -C "$work/build" -j "$(nproc 2>/dev/null || echo 2)" >"$work/make.log" 2>&1 ||
  { tail -n 60 "$work/make.log" >&2; exit 1; }
# Stage the install (DESTDIR) and move it in whole, so a broken install never
# leaves a binary that makes the next run think it is built.
make -C "$work/build" install DESTDIR="$work/stage" >"$work/install.log" 2>&1 ||
  { tail -n 40 "$work/install.log" >&2; exit 1; }
# The tests never use cgi-wrapper: no setuid-root program in a cache dir.
chmod u-s "$work/stage$prefix/sbin/cgi-wrapper"
rm -rf "$prefix"
mkdir -p "$(dirname "$prefix")"
mv "$work/stage$prefix" "$prefix"
"$binary" -v | head -n 1
echo "$binary"
