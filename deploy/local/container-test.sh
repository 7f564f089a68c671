#!/usr/bin/env bash
# Builds deploy/container/Containerfile with Debian's podman and runs the image, on a machine that cannot pull
# Microsoft's base images (docs/operations.md, "Container", says what fails and why). It works around each failure:
#   - stand-in base images: a Debian 12 root made by debootstrap, plus the installed .NET 10 runtime (for aspnet)
#     and SDK (for sdk), given to the build as SDK_IMAGE and RUNTIME_IMAGE;
#   - Debian's runc instead of crun, with explicit ulimits;
#   - no network in the build: the host's NuGet package folder is the package source (RESTORE_OPTIONS).
# Then, against a throwaway PostgreSQL: `migrate` in a container, the portal in another (host network, port 8080),
# and checks: /health/ready, the sign-in page behind forwarded HTTPS, a static file, the user, the HEALTHCHECK.
# Manual, not part of test.sh: the first run takes 10 minutes or more (debootstrap, build). Root only (podman).
# Removes its containers, cluster and temporary files; keeps the images (podman rmi to remove them).
#
#   deploy/local/container-test.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" -eq 0 ] || mca_die "run as root (podman builds and runs the containers as root here)"
command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
mca_require_postgres
PG_OWNER="$(mca_pg_owner)"
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] || mca_apt_install "${missing[@]}"
! mca_port_in_use 8080 || mca_die "port 8080 is taken: the image listens there (host network)"

DOTNET_ROOT_DIR="$(dirname "$(readlink -f "$(command -v dotnet)")")"
NUGET_PACKAGES_DIR="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
SDK_IMAGE=localhost/standin/dotnet-sdk:10.0
RUNTIME_IMAGE=localhost/standin/dotnet-aspnet:10.0
IMAGE=localhost/meta-compute-access:test
# crun cannot run containers here (cgroup v1 and v2 mixed; no CAP_SYS_RESOURCE for its rlimits): runc and fixed limits.
RUNTIME=(--runtime runc --ulimit "nofile=$(ulimit -n):$(ulimit -n)" --ulimit nproc=4096:4096)
WORK="$(mktemp -d /tmp/mca-container.XXXXXX)"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
CONTAINER="mca-container-test-$$"
cleanup() {
  podman rm -f "$CONTAINER" >/dev/null 2>&1 || true
  mca_stop_cluster "$PGDIR"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! podman image exists "$SDK_IMAGE" || ! podman image exists "$RUNTIME_IMAGE"; then
  mca_log "stand-in base images: Debian 12 (debootstrap) with the .NET in $DOTNET_ROOT_DIR"
  root="$WORK/rootfs"
  debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,zlib1g,libstdc++6,tzdata \
    bookworm "$root" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; mca_die "debootstrap failed"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb
  # The user of Microsoft's runtime images: app, uid and gid 1654.
  echo 'app:x:1654:1654::/home/app:/bin/sh' >>"$root/etc/passwd"
  echo 'app:x:1654:' >>"$root/etc/group"
  install -d -o 1654 -g 1654 "$root/home/app"
  mkdir -p "$root/usr/share/dotnet"
  cp -a "$DOTNET_ROOT_DIR"/{dotnet,host,shared} "$root/usr/share/dotnet/"
  ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
  tar -C "$root" -cf - . | podman import --change 'ENV APP_UID=1654' - "$RUNTIME_IMAGE" >/dev/null
  cp -a "$DOTNET_ROOT_DIR"/{sdk,packs,sdk-manifests} "$root/usr/share/dotnet/"
  tar -C "$root" -cf - . | podman import --change 'ENV DOTNET_NOLOGO=1' - "$SDK_IMAGE" >/dev/null
  rm -rf "$root"
fi

mca_log "podman build (offline, packages from $NUGET_PACKAGES_DIR)"
cd "$MCA_ROOT"
# Every package the build needs must be in the host's package folder: a Release build of the portal puts them there.
dotnet restore src/Meta.ComputeAccess.Web -nologo -v quiet >/dev/null
podman build "${RUNTIME[@]}" --network none --format docker \
  -v "$NUGET_PACKAGES_DIR:/nuget:ro" --build-arg RESTORE_OPTIONS="--source /nuget -p:NuGetAudit=false" \
  --build-arg SDK_IMAGE="$SDK_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
  -f deploy/container/Containerfile -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log"; mca_die "podman build failed (log above)"; }
mca_check "the Containerfile builds with podman (stand-in base images, runc, offline restore)" "$IMAGE" podman image exists "$IMAGE"

mca_log "PostgreSQL, migrate, serve"
SUPER_PW="$(mca_random_secret)"
APP_PW="$(mca_random_secret)"
PG_PORT="$(mca_free_port 57700)"
mca_init_cluster "$PGDIR" "$SUPER_PW" "fsync = off"
mca_start_cluster "$PGDIR" "$PG_PORT"
mca_create_portal_database "$PGDIR" "$PG_PORT" "$SUPER_PW" "$APP_PW"
CS="Host=127.0.0.1;Port=$PG_PORT;Database=meta_compute_access;Username=portal;Password=$APP_PW"
RUN=(podman run "${RUNTIME[@]}" --network host -e "ConnectionStrings__Portal=$CS")

"${RUN[@]}" --rm "$IMAGE" migrate >"$WORK/migrate.log" 2>&1 && migrated=yes || migrated=no
mca_check "migrate runs as a one-off container" "$(grep -o 'Applied [0-9]* migration(s)' "$WORK/migrate.log" || tail -1 "$WORK/migrate.log")" test "$migrated" = yes

# (podman says on stderr that it cannot reach systemd for its health-check timers: true here, and handled below.)
"${RUN[@]}" -d --name "$CONTAINER" "$IMAGE" >/dev/null 2>"$WORK/run.log"
deadline=$((SECONDS + 120))
until curl -fsS -o /dev/null http://127.0.0.1:8080/health/ready 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 1; done
ready="$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/health/ready || true)"
login="$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-Forwarded-Proto: https' http://127.0.0.1:8080/Account/Login || true)"
css="$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/css/site.css || true)"
user="$(podman exec "$CONTAINER" id -u || true)"
mca_check "the image serves the portal as a non-root user" \
  "/health/ready $ready, sign-in page over forwarded HTTPS $login, /css/site.css $css, uid $user" \
  test "$ready" = 200 -a "$login" = 200 -a "$css" = 200 -a "$user" = 1654
# podman runs health checks from systemd timers, which this machine lacks: run the image's check once by hand.
podman healthcheck run "$CONTAINER" >/dev/null 2>&1 && health=healthy || health=unhealthy
mca_check "the image's HEALTHCHECK passes" "$health" test "$health" = healthy

[ "$MCA_FAILURES" -eq 0 ] || { echo "container: $MCA_FAILURES check(s) FAILED"; exit 1; }
echo "container: all checks passed in ${SECONDS}s"
