#!/usr/bin/env bash
# Starts the portal locally: a private PostgreSQL (installed from Debian's packages if absent), migrations,
# the demo program, a demo identity provider (Development only) and the portal on http://127.0.0.1:5080.
#
#   deploy/local/start.sh           start (reuses the data of the last run)
#   deploy/local/start.sh --reset   throw the local data away and start from scratch
#   deploy/local/start.sh stop      stop a portal, identity provider and database started by this script
#
# With ConnectionStrings__Portal set, no local database is started: that one is used (production style).
# PORTAL_HTTP_PORT (default 5080), PORTAL_PG_PORT (default: first free from 5433) and PORTAL_IDP_PORT (default:
# first free from the portal's port + 10) change the ports; PORTAL_DEMO_IDP=0 leaves the identity provider out.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

reset=0
command=start
for arg in "$@"; do
  case "$arg" in
    --reset) reset=1 ;;
    stop) command=stop ;;
    start) command=start ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) mca_die "unknown argument '$arg' (try --help)" ;;
  esac
done

STATE="$MCA_ROOT/.local"
WEB="$MCA_ROOT/src/Meta.ComputeAccess.Web"
HTTP_PORT="${PORTAL_HTTP_PORT:-5080}"
mkdir -p "$STATE"

stop_idp() {
  if [ -f "$STATE/idp.pid" ]; then
    kill "$(cat "$STATE/idp.pid")" 2>/dev/null || true
    rm -f "$STATE/idp.pid"
  fi
}

stop_all() {
  stop_idp
  if [ -f "$STATE/portal.pid" ]; then
    local pid
    pid="$(cat "$STATE/portal.pid")"
    kill "$pid" 2>/dev/null || true
    # Let the portal finish its shutdown (Hangfire, open transactions) before its database goes away.
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$STATE/portal.pid"
  fi
  if [ -f "$STATE/pg.dir" ]; then
    mca_require_postgres
    PG_OWNER="$(mca_pg_owner)"
    mca_stop_cluster "$(cat "$STATE/pg.dir")"
  fi
}

if [ "$command" = stop ]; then
  stop_all
  mca_log "stopped"
  exit 0
fi

command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"

if [ -z "${ConnectionStrings__Portal:-}" ]; then
  mca_require_postgres
  PG_OWNER="$(mca_pg_owner)"
  if [ "$reset" = 1 ]; then
    mca_log "--reset: removing local data"
    stop_all
    [ -f "$STATE/pg.dir" ] && rm -rf "$(cat "$STATE/pg.dir")"
    rm -rf "$STATE/pg" "$STATE/pg.dir" "$STATE/secrets" "$STATE/mail"
  fi
  PGDIR="$(mca_cluster_dir "$STATE/pg")"
  echo "$PGDIR" >"$STATE/pg.dir"
  mkdir -p "$STATE/secrets" && chmod 700 "$STATE/secrets"
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    mca_log "creating a private PostgreSQL cluster in $PGDIR (owner: $PG_OWNER)"
    rm -rf "$PGDIR/data"
    mca_random_secret >"$STATE/secrets/pg-superuser"
    mca_random_secret >"$STATE/secrets/pg-portal"
    mca_init_cluster "$PGDIR" "$(cat "$STATE/secrets/pg-superuser")"
  fi
  SUPER_PW="$(cat "$STATE/secrets/pg-superuser")"
  APP_PW="$(cat "$STATE/secrets/pg-portal")"
  if mca_cluster_running "$PGDIR"; then
    PG_PORT="$(cat "$STATE/pg.port")"
  else
    PG_PORT="${PORTAL_PG_PORT:-$(mca_free_port 5433)}"
    mca_log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    mca_start_cluster "$PGDIR" "$PG_PORT"
    echo "$PG_PORT" >"$STATE/pg.port"
  fi
  mca_create_portal_database "$PGDIR" "$PG_PORT" "$SUPER_PW" "$APP_PW"
  export ConnectionStrings__Portal="Host=127.0.0.1;Port=$PG_PORT;Database=meta_compute_access;Username=portal;Password=$APP_PW"
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
else
  mca_log "ConnectionStrings__Portal is set: using that database, no local cluster"
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
fi

export Smtp__PickupDirectory="${Smtp__PickupDirectory:-$STATE/mail}"
export Smtp__PublicBaseUrl="${Smtp__PublicBaseUrl:-http://127.0.0.1:$HTTP_PORT}"

mca_log "building the portal"
dotnet build "$WEB" -c Release -nologo -v quiet >"$STATE/build.log" 2>&1 || { tail -40 "$STATE/build.log"; mca_die "build failed (log: $STATE/build.log)"; }
PORTAL=(dotnet "$WEB/bin/Release/net10.0/Meta.ComputeAccess.Web.dll")

# The demo identity provider (tests/Meta.ComputeAccess.OidcProvider): "Sign in with Demo institution" and "ORCID
# (demo)" on the sign-in page, its people listed in README.md. Anyone can sign in as anyone there: Development only.
IDP_URL=""
if [ "$ASPNETCORE_ENVIRONMENT" = Development ] && [ "${PORTAL_DEMO_IDP:-1}" != 0 ]; then
  IDP="$MCA_ROOT/tests/Meta.ComputeAccess.OidcProvider"
  mca_log "building the demo identity provider"
  dotnet build "$IDP" -c Release -nologo -v quiet >"$STATE/idp-build.log" 2>&1 || { tail -40 "$STATE/idp-build.log"; mca_die "build failed (log: $STATE/idp-build.log)"; }
  stop_idp
  IDP_PORT="${PORTAL_IDP_PORT:-$(mca_free_port $((HTTP_PORT + 10)))}"
  IDP_URL="http://127.0.0.1:$IDP_PORT"
  [ -f "$STATE/secrets/idp-client" ] || { mkdir -p "$STATE/secrets" && mca_random_secret >"$STATE/secrets/idp-client"; }
  IDP_SECRET="$(cat "$STATE/secrets/idp-client")"
  for scheme in demo orcid; do
    export "Authentication__Oidc__${scheme}__Authority=$IDP_URL"
    export "Authentication__Oidc__${scheme}__ClientSecret=$IDP_SECRET"
    export "Authentication__Oidc__${scheme}__RequireHttpsMetadata=false"
  done
  export Authentication__Oidc__demo__ClientId=portal
  export Authentication__Oidc__demo__DisplayName="Demo institution"
  export Authentication__Oidc__demo__Scopes="openid email profile org.cilogon.userinfo"
  export Authentication__Oidc__demo__ClaimMap__Institution=idp_name
  export Authentication__Oidc__demo__ClaimMap__Affiliation=eduperson_scoped_affiliation
  export Authentication__Oidc__demo__MfaAcrValues="https://refeds.org/profile/mfa"
  export Authentication__Oidc__orcid__ClientId=portal-orcid
  export Authentication__Oidc__orcid__DisplayName="ORCID (demo)"
  export Authentication__Oidc__orcid__Scopes="openid profile"
  export Authentication__Oidc__orcid__ClaimMap__Orcid=sub
fi

cd "$WEB"   # the content root: appsettings and wwwroot live here
"${PORTAL[@]}" migrate
if [ "$ASPNETCORE_ENVIRONMENT" = Development ]; then
  "${PORTAL[@]}" seed-demo
fi

if mca_port_in_use "$HTTP_PORT"; then
  mca_die "port $HTTP_PORT is taken (another portal running? 'deploy/local/start.sh stop', or set PORTAL_HTTP_PORT)"
fi

cleanup() {
  stop_idp
  rm -f "$STATE/portal.pid"
  if [ -n "${PGDIR:-}" ]; then mca_log "stopping PostgreSQL"; mca_stop_cluster "$PGDIR"; fi
}
trap cleanup EXIT

# Started only now, so a failed migration or a taken port leaves no provider running.
if [ -n "$IDP_URL" ]; then
  env "Provider__Clients__portal=$IDP_SECRET" "Provider__Clients__portal-orcid=$IDP_SECRET" \
    dotnet "$IDP/bin/Release/net10.0/Meta.ComputeAccess.OidcProvider.dll" --urls "$IDP_URL" >"$STATE/idp.log" 2>&1 &
  echo $! >"$STATE/idp.pid"
  for _ in $(seq 1 60); do mca_port_in_use "$IDP_PORT" && break; sleep 0.5; done
  mca_port_in_use "$IDP_PORT" || mca_die "the demo identity provider did not start (log: $STATE/idp.log)"
fi

cat <<MSG

  Meta Compute Access is starting on http://127.0.0.1:$HTTP_PORT   (Ctrl-C stops it and its database)
  Mail is not sent: read it at http://127.0.0.1:$HTTP_PORT/Dev/Mailbox
  or as .eml files in $Smtp__PickupDirectory (written within a minute by the delivery job).
  Docs: docs/notifications.md
  Background jobs: http://127.0.0.1:$HTTP_PORT/admin/jobs (admins)
${IDP_URL:+  Demo identity provider: $IDP_URL (buttons “Sign in with Demo institution” and “ORCID (demo)”; its people are in README.md)
}
MSG
"${PORTAL[@]}" --urls "http://127.0.0.1:$HTTP_PORT" &
PORTAL_PID=$!
echo "$PORTAL_PID" >"$STATE/portal.pid"
# A background child ignores Ctrl-C in a script, so pass it on.
trap 'kill -TERM "$PORTAL_PID" 2>/dev/null; wait "$PORTAL_PID"; exit 130' INT TERM
wait "$PORTAL_PID"
