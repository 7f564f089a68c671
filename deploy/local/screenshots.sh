#!/usr/bin/env bash
# Retakes the README's screenshots (docs/images/*.png) from a running demo portal, with /usr/bin/chromium and the
# Playwright driver (its own Node) that the browser tests' build restores from NuGet: nothing is downloaded.
#
#   deploy/local/start.sh &                   (or PORTAL_HTTP_PORT=5180 deploy/local/start.sh &)
#   deploy/local/screenshots.sh               PORTAL_URL=http://127.0.0.1:5180 deploy/local/screenshots.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DRIVER="$MCA_ROOT/tests/Meta.ComputeAccess.Browser.Tests/bin/Release/net10.0/.playwright"
if [ ! -x "$DRIVER/node/linux-x64/node" ]; then
  dotnet build "$MCA_ROOT/tests/Meta.ComputeAccess.Browser.Tests" -c Release -nologo -v quiet
fi
[ -x /usr/bin/chromium ] || mca_apt_install chromium

cd "$MCA_ROOT"
PLAYWRIGHT_PACKAGE="$DRIVER/package" PORTAL_URL="${PORTAL_URL:-http://127.0.0.1:${PORTAL_HTTP_PORT:-5080}}" \
  "$DRIVER/node/linux-x64/node" deploy/local/screenshots.mjs
