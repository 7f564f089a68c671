#!/usr/bin/env bash
# The production topology, for real, on loopback: a private PostgreSQL, the `migrate` command run once, TWO portal
# instances (Production environment, published as for production), a real SMTP server (aiosmtpd), and nginx from
# Debian's packages in front with the files of deploy/nginx/ themselves (TLS with a throwaway certificate, HTTP/2,
# round robin). Then, through nginx only, it proves:
#   1. TLS, HTTP/2 and X-Forwarded-Proto/For reach the portal; static files come from nginx's cache, cached long;
#   2. a user signed in on one instance keeps working on the other (cookies and antiforgery: keys in PostgreSQL);
#   3. the sign-in rate limit is one budget across both instances (and per forwarded client address);
#   4. outbox mail is sent exactly once and the minutely recurring job runs once per minute across the two;
#   5. a usage POST cut off by `kill -9` of its instance mid-transaction (502) and sent again charges once;
#   6. an instance killed with `kill -9` while a user works: the user carries on, on the other one.
# Prints PASS/FAIL per check; exits 1 if any failed. Everything it starts is stopped on exit. docs/operations.md,
# "The topology test", explains each check.
#
#   deploy/local/topology-test.sh              builds and publishes the portal (dotnet publish, as for production)
#   deploy/local/topology-test.sh --no-build   publishes the existing Release build (test.sh passes this)
#   KEEP_WORK=1 deploy/local/topology-test.sh  keeps the logs (instances, nginx, mail) in /tmp/mca-topology.*
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) mca_die "unknown argument '$arg' (try --help)" ;;
  esac
done

command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
mca_require_postgres
PG_OWNER="$(mca_pg_owner)"
missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
[ -f /usr/lib/python3/dist-packages/aiosmtpd/__init__.py ] || missing+=(python3-aiosmtpd)
[ ${#missing[@]} -eq 0 ] || mca_apt_install "${missing[@]}"
PY=/usr/bin/python3   # Debian's, which has aiosmtpd (a python3 earlier on PATH may not)

WEB="$MCA_ROOT/src/Meta.ComputeAccess.Web"
WORK="$(mktemp -d /tmp/mca-topology.XXXXXX)"
APP="$WORK/app"
DLL="$APP/Meta.ComputeAccess.Web.dll"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
declare -A PORT_OF=() PID_OF=() NAME_OF_PORT=()
NGINX_PID=""
SMTP_PID=""
LOAD_PIDS=()

cleanup() {
  local pid
  for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PID_OF[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
  [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  mca_stop_cluster "$PGDIR"
  if [ "${KEEP_WORK:-0}" = 1 ]; then mca_log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { mca_log "$* (at ${SECONDS}s)"; }

# Published, as production runs it: only a publish gives fingerprinted static files their year-long cache headers.
step "publishing the portal"
publish=(dotnet publish "$WEB" -c Release -o "$APP" -nologo -v quiet)
[ "$build" = 1 ] || publish+=(--no-build)
"${publish[@]}" >"$WORK/publish.log" 2>&1 || { tail -40 "$WORK/publish.log"; mca_die "dotnet publish failed (with --no-build: build Release first)"; }

# ---------------------------------------------------------------------------------------------------------------
# Helpers in Python (stdlib): form fields from a page, sacct batches, JSON fields, the mail received.
cat >"$WORK/mca_topology.py" <<'PY'
import email, glob, html.parser, json, sys, urllib.parse
from datetime import datetime, timedelta, timezone

class Forms(html.parser.HTMLParser):
    """Every POST form of a page: its named fields as a browser would submit them."""
    def __init__(self):
        super().__init__()
        self.forms, self.form, self.select, self.textarea = [], None, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.form = []
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.form.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None, None]
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            if self.select[2] is None:
                self.select[2] = value
            if "selected" in a:
                self.select[1] = value
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select is not None:
            if self.form is not None:
                self.form.append((self.select[0], self.select[1] if self.select[1] is not None else self.select[2] or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            if self.form is not None:
                self.form.append(tuple(self.textarea))
            self.textarea = None

def form(page, *overrides):
    """The urlencoded body of the page's POST form that has the first override's field, with the overrides applied."""
    parser = Forms()
    parser.feed(open(page, encoding="utf-8").read())
    changes = [o.split("=", 1) for o in overrides]
    target = next(f for f in parser.forms if any(n == changes[0][0] for n, _ in f))
    fields = [(n, dict(changes).get(n, v)) for n, v in target]
    print(urllib.parse.urlencode(fields))

def sacct(path, first, count):
    """Finished one-GPU jobs of 36 s (0.01 GPU-hour each) on account lowres-speech, ended in the last two days."""
    first, count = int(first), int(count)
    end = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(days=2)
    with open(path, "w") as f:
        f.write("JobID|JobName|Account|User|Partition|Start|End|ElapsedRaw|AllocTRES|State|ExitCode\n")
        for i in range(count):
            finish = end + timedelta(seconds=i % 86400)
            f.write(f"{first + i}|topology|lowres-speech|amara|gpu|{(finish - timedelta(seconds=36)):%Y-%m-%dT%H:%M:%S}|"
                    f"{finish:%Y-%m-%dT%H:%M:%S}|36|billing=8,cpu=8,gres/gpu=1,mem=64G,node=1|COMPLETED|0:0\n")

def field(path, name):
    print(json.load(open(path)).get(name, ""))

def mail_ids(maildir):
    """The Message-ID of every message the SMTP server stored, one a line (duplicates kept)."""
    for path in sorted(glob.glob(maildir + "/new/*") + glob.glob(maildir + "/cur/*")):
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f)
        print((message["Message-ID"] or "").strip("<> ").split("@")[0])

def mail_to(maildir):
    for path in sorted(glob.glob(maildir + "/new/*") + glob.glob(maildir + "/cur/*")):
        with open(path, "rb") as f:
            print(email.message_from_binary_file(f)["To"])

{"form": form, "sacct": sacct, "field": field, "mail-ids": mail_ids, "mail-to": mail_to}[sys.argv[1]](*sys.argv[2:])
PY
helper() { "$PY" "$WORK/mca_topology.py" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
step "PostgreSQL"
SUPER_PW="$(mca_random_secret)"
APP_PW="$(mca_random_secret)"
PG_PORT="$(mca_free_port 56432)"
mca_init_cluster "$PGDIR" "$SUPER_PW" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
mca_start_cluster "$PGDIR" "$PG_PORT"
mca_create_portal_database "$PGDIR" "$PG_PORT" "$SUPER_PW" "$APP_PW"
db() { mca_psql "$PGDIR" "$PG_PORT" "$SUPER_PW" meta_compute_access "$1"; }
connection() { echo "Host=127.0.0.1;Port=$PG_PORT;Database=meta_compute_access;Username=portal;Password=$APP_PW;Application Name=$1"; }

step "SMTP server (aiosmtpd, Maildir)"
SMTP_PORT="$(mca_free_port 52525)"
MAILDIR="$WORK/maildir"
"$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAILDIR" >"$WORK/smtp.log" 2>&1 &
SMTP_PID=$!

cd "$APP"   # the content root: appsettings and wwwroot
portal_command() {
  # An operator command, with the configuration an instance has.
  ConnectionStrings__Portal="$(connection mca-topology-cli)" "$@"
}
NGINX_PORT="$(mca_free_port 58443)"
HOST=compute.example.org
BASE="https://$HOST:$NGINX_PORT"

start_instance() {
  local name="$1" port="$2"
  ASPNETCORE_ENVIRONMENT=Production \
  ASPNETCORE_URLS="http://127.0.0.1:$port" \
  ConnectionStrings__Portal="$(connection "mca-topology-$name")" \
  ForwardedHeaders__KnownProxies__0=127.0.0.1 \
  Smtp__Host=127.0.0.1 Smtp__Port="$SMTP_PORT" Smtp__TlsMode=None Smtp__PickupDirectory= \
  Smtp__PublicBaseUrl="$BASE" \
  RateLimits__AccountPostsPerMinute=6 \
  Serilog__MinimumLevel__Default=Warning \
    dotnet "$DLL" >>"$WORK/instance-$name.log" 2>&1 &
  PID_OF[$name]=$!
  PORT_OF[$name]=$port
  NAME_OF_PORT[$port]=$name
}
wait_ready() {
  local name="$1" deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null "http://127.0.0.1:${PORT_OF[$name]}/health/ready" 2>/dev/null; do
    kill -0 "${PID_OF[$name]}" 2>/dev/null || { tail -30 "$WORK/instance-$name.log"; mca_die "instance $name exited"; }
    [ $SECONDS -lt $deadline ] || { tail -30 "$WORK/instance-$name.log"; mca_die "instance $name not ready after 120 s"; }
    sleep 0.5
  done
}
step "migrate (once, before any instance starts)"
portal_command env ASPNETCORE_ENVIRONMENT=Production dotnet "$DLL" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; mca_die "migrate failed"; }
step "two portal instances (Production), the demo data and a cluster token meanwhile"
start_instance a "$(mca_free_port 58081)"
start_instance b "$(mca_free_port $((PORT_OF[a] + 1)))"
# seed-demo refuses to run outside Development (accounts with public passwords): it runs as a Development command
# against the same database; the instances themselves run in Production.
portal_command env ASPNETCORE_ENVIRONMENT=Development dotnet "$DLL" seed-demo >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; mca_die "seed-demo failed"; }
TOKEN="$(portal_command env ASPNETCORE_ENVIRONMENT=Production dotnet "$DLL" cluster token create grand-teton --name topology-test | tail -n 1)"
wait_ready a
wait_ready b

step "nginx with deploy/nginx/*.conf"
NG="$WORK/nginx"
mkdir -p "$NG/tls" "$NG/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
  -keyout "$NG/tls/privkey.pem" -out "$NG/tls/fullchain.pem" >/dev/null 2>&1
# The shipped files with this machine's addresses put in; every replacement must apply exactly as expected, so an
# edit of a shipped file that this test no longer understands fails here instead of testing something else.
"$PY" - "$MCA_ROOT/deploy/nginx" "$NG" <<PY
import re, sys
shipped, out = sys.argv[1], sys.argv[2]
def sub(pattern, replacement, count):
    global text, name
    text, n = re.subn(pattern, replacement, text, flags=re.M)
    if n != count:
        sys.exit(f"deploy/nginx/{name}: expected {count} match(es) of {pattern!r}, found {n}")
name = "meta-compute-access-upstream.conf"
text = open(f"{shipped}/{name}").read()
sub(r"^    server 10\.0\.0\.11:8080 ", "    server 127.0.0.1:${PORT_OF[a]} ", 1)
sub(r"^    server 10\.0\.0\.12:8080 ", "    server 127.0.0.1:${PORT_OF[b]} ", 1)
open(f"{out}/upstream.conf", "w").write(text)
name = "meta-compute-access.conf"
text = open(f"{shipped}/{name}").read()
sub(r"^    listen 80;\n    listen \[::\]:80;", "    listen 127.0.0.1:$(mca_free_port $((NGINX_PORT + 1)));", 1)
sub(r"^    listen 443 ssl http2;\n    listen \[::\]:443 ssl http2;", "    listen 127.0.0.1:$NGINX_PORT ssl http2;", 1)
sub(r"/etc/ssl/compute\.example\.org/", "$NG/tls/", 2)
sub(r"/var/log/nginx/", "$NG/", 2)
sub(r"/var/cache/nginx-meta-compute-access ", "$NG/cache ", 1)
sub(r"include snippets/mca-proxy\.conf;", "include $MCA_ROOT/deploy/nginx/mca-proxy.conf;", 4)
# Test-only: which instance answered, as a response header (the access log has it too). Not in the static location,
# which sets headers of its own (nginx then drops the server's); X-Cache-Status says what matters there.
sub(r"^    server_tokens off;\n\n    access_log", "    server_tokens off;\n    add_header X-Mca-Upstream \$upstream_addr always;\n\n    access_log", 1)
open(f"{out}/site.conf", "w").write(text)
PY
NGINX_USER="$(id -un)"
cat >"$NG/nginx.conf" <<CONF
# Private nginx for the topology test: own prefix, pid, logs and temporary files. One worker: round robin strict.
$( [ "$(id -u)" -eq 0 ] && echo "user $NGINX_USER;" )
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    include $NG/upstream.conf;
    include $NG/site.conf;
}
CONF
/usr/sbin/nginx -t -p "$NG" -c "$NG/nginx.conf" >"$NG/configtest.log" 2>&1 || { cat "$NG/configtest.log"; mca_die "nginx refused the configuration"; }
/usr/sbin/nginx -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
until mca_port_in_use "$NGINX_PORT"; do kill -0 "$NGINX_PID" 2>/dev/null || mca_die "nginx exited (log: $NG/error.log)"; sleep 0.1; done

# ---------------------------------------------------------------------------------------------------------------
# Requests through nginx only. req [curl args...] URL: sets STATUS, UPSTREAM (the instance that answered, by name,
# or "nginx" for files nginx served itself), BODY (file) and HEADERS (file).
BODY="$WORK/body"
HEADERS="$WORK/headers"
req() {
  STATUS="$(curl -sS -k --http2 --resolve "$HOST:$NGINX_PORT:127.0.0.1" --max-time 120 -o "$BODY" -D "$HEADERS" -w '%{http_code}' "$@" 2>>"$WORK/curl.log")" || STATUS=000
  local addr
  addr="$(tr -d '\r' <"$HEADERS" | sed -n 's/^[Xx]-[Mm]ca-[Uu]pstream: //p' | tail -n 1)"
  addr="${addr##*, }"
  UPSTREAM=nginx
  [ -z "$addr" ] || UPSTREAM="${NAME_OF_PORT[${addr##*:}]:-$addr}"
}
header() { tr -d '\r' <"$HEADERS" | sed -n "s/^$1: //Ip" | tail -n 1; }
antiforgery() { grep -o 'name="__RequestVerificationToken" type="hidden" value="[^"]*"' "$BODY" | head -n 1 | sed 's/.*value="//; s/"$//'; }
# as JAR [curl args...] URL: a request with a user's cookie jar.
as() { local jar="$WORK/$1.cookies"; shift; req -b "$jar" -c "$jar" "$@"; }

AMARA=amara.okafor@lakeside.example.edu
PASSWORD='ComputeDemo!2026'   # the demo's, from seed-demo

step "checks"
# Mail first: the outbox-delivery job runs every minute, and the checks below use the wait ------------------------
# Password-reset mail for three demo people, asked from another client address (its own rate-limit budget: the
# forwarded address, not nginx's, is what the portal counts).
requested=""
for person in lukas.schmidt@hafen.example.de mei.chen@harbour.example.edu rosa.martinez@northfield.example.edu; do
  as mailer --interface 127.0.0.3 "$BASE/Account/ForgotPassword"
  token="$(antiforgery)"
  as mailer --interface 127.0.0.3 --data-urlencode "Email=$person" --data-urlencode "__RequestVerificationToken=$token" "$BASE/Account/ForgotPassword"
  requested="$requested $UPSTREAM:$STATUS"
done
ok=0
[[ "$requested" != *429* && "$requested" == *:302*:302*:302* ]] && ok=1
mca_check "password resets asked from another address are not held by the first one's limit" "$requested" test "$ok" = 1

# TLS, HTTP/2, forwarded headers, static files ----------------------------------------------------------------
http_version="$(curl -sS -k --http2 --resolve "$HOST:$NGINX_PORT:127.0.0.1" -o /dev/null -w '%{http_version}' "$BASE/Account/Login")"
req "$BASE/Account/Login"
hsts="$(header Strict-Transport-Security)"
mca_check "TLS and HTTP/2 at nginx; X-Forwarded-Proto honoured by the portal" \
  "HTTP/$http_version, status $STATUS, Strict-Transport-Security: ${hsts:-none} (sent only to HTTPS requests)" \
  test "$http_version" = 2 -a "$STATUS" = 200 -a -n "$hsts"
# The stylesheets and scripts the page links (fingerprinted names), each asked for twice: the second answer must come
# from nginx's cache, with the portal's year-long immutable Cache-Control.
assets="$(grep -o '\(href\|src\)="/\(css\|js\|lib\)/[^"]*"' "$BODY" | sed 's/^[a-z]*="//; s/"$//')"
cached=0; total=0; seen=""
for asset in $assets; do
  total=$((total + 1))
  req "$BASE$asset"
  req "$BASE$asset"
  status="$(header X-Cache-Status)"; cache="$(header Cache-Control)"
  seen="$seen ${asset##*/}:$STATUS/${status:-no cache status}"
  [ "$STATUS" = 200 ] && [ "$status" = HIT ] && [[ "$cache" == *max-age=31536000*immutable* ]] && cached=$((cached + 1))
done
mca_check "the static files a page links are answered from nginx's cache, cached a year by browsers" \
  "$cached of $total (second request: status/nginx cache):$seen; Cache-Control: ${cache:-none}" \
  test "$total" -gt 0 -a "$cached" = "$total"
head -c $((13 * 1024 * 1024)) /dev/zero >"$WORK/13mb"
req -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/13mb" "$BASE/Account/Login"
mca_check "bodies over 12 MB refused by nginx outside the usage API" "status $STATUS" test "$STATUS" = 413

# One user across both instances -------------------------------------------------------------------------------
as amara "$BASE/Account/Login"
login_page_from="$UPSTREAM"
token="$(antiforgery)"
as amara --data-urlencode "Input.Email=$AMARA" --data-urlencode "Input.Password=$PASSWORD" --data-urlencode "__RequestVerificationToken=$token" "$BASE/Account/Login"
login_status="$STATUS"; login_on="$UPSTREAM"; login_location="$(header Location)"
# Netscape cookie file: field 4 is "secure", field 6 the name.
secure_cookie="$(awk -F '\t' '$6 == "mca.auth" {print $4}' "$WORK/amara.cookies")"
mca_check "sign-in through nginx: form from one instance, post answered by the other" \
  "form from $login_page_from, post on $login_on: $login_status to ${login_location:-nowhere}; mca.auth cookie secure: ${secure_cookie:-no cookie}" \
  test "$login_status" = 302 -a "$login_page_from" != "$login_on" -a "$secure_cookie" = TRUE
served=""; ok=1
for _ in 1 2 3 4 5 6; do
  as amara "$BASE/Allocations"
  served="$served $UPSTREAM:$STATUS"
  { [ "$STATUS" = 200 ] && grep -q "$AMARA" "$BODY"; } || ok=0
done
[[ "$served" == *a:200* && "$served" == *b:200* ]] || ok=0
mca_check "signed-in pages answered by both instances with the same session" "$served" test "$ok" = 1

profile_post() {
  # GET the profile form on one instance, POST it (antiforgery token and cookie from that answer) on the next,
  # and read "Profile saved." (a TempData cookie) on the one after.
  local institution="$1"
  as amara "$BASE/Account/Profile"
  PROFILE_FORM_FROM="$UPSTREAM"
  cp "$BODY" "$WORK/profile.html"
  as amara -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "$(helper form "$WORK/profile.html" "Input.Institution=$institution")" "$BASE/Account/Profile"
  PROFILE_POST_ON="$UPSTREAM"; PROFILE_POST_STATUS="$STATUS"
  as amara "$BASE/Account/Profile"
  PROFILE_READ_ON="$UPSTREAM"
  grep -q 'Profile saved.' "$BODY" && grep -q "value=\"$institution\"" "$BODY"
}
profile_post "Lakeside University (topology a/b)" && saved=yes || saved=no
mca_check "a form from one instance posted to the other (antiforgery and TempData across instances)" \
  "form from $PROFILE_FORM_FROM, post on $PROFILE_POST_ON ($PROFILE_POST_STATUS), saved shown by $PROFILE_READ_ON: $saved; data-protection keys in PostgreSQL: $(db "SELECT count(*) FROM data_protection_keys")" \
  test "$saved" = yes -a "$PROFILE_FORM_FROM" != "$PROFILE_POST_ON"

# The sign-in rate limit holds across instances ------------------------------------------------------------------
# Six posts a minute per client address (RateLimits__AccountPostsPerMinute=6); each client below has its own
# loopback address (curl --interface), which nginx forwards in X-Forwarded-For. Windows are whole minutes: start
# well inside one (the eight requests take a few seconds).
second=$((10#$(date +%S)))
[ "$second" -lt 45 ] || sleep $((61 - second))
attacker=""; statuses=""; retry_after=""
as attacker --interface 127.0.0.2 "$BASE/Account/Login"
token="$(antiforgery)"
for i in 1 2 3 4 5 6 7; do
  # Round robin sends the posts to a and b in turn; the antiforgery pair stays valid on both. One address per post:
  # five wrong passwords for one address would pause it (docs/decisions/0006), which is not what is checked here.
  as attacker --interface 127.0.0.2 --data-urlencode "Input.Email=nobody$i@example.org" --data-urlencode "Input.Password=guess $i" \
    --data-urlencode "__RequestVerificationToken=$token" "$BASE/Account/Login"
  attacker="$attacker $UPSTREAM:$STATUS"
  statuses="$statuses $STATUS"
  [ "$STATUS" != 429 ] || retry_after="$(header Retry-After)"
done
ok=0
[[ "$statuses" == " 200 200 200 200 200 200 429" && "$attacker" == *a:200* && "$attacker" == *b:200* && -n "$retry_after" ]] && ok=1
mca_check "the sign-in rate limit is one budget across both instances" \
  "7 posts from 127.0.0.2:$attacker; Retry-After ${retry_after:-none}" test "$ok" = 1

# Mail exactly once; the recurring job once per minute across the two ----------------------------------------------
step "waiting for the outbox-delivery job (every minute) to send the mail"
deadline=$((SECONDS + 150))
while :; do
  pending="$(db "SELECT count(*) FROM outbox_messages WHERE status = 'Pending'")"
  received="$(find "$MAILDIR/new" -type f 2>/dev/null | wc -l)"
  { [ "$pending" = 0 ] && [ "$received" -ge 3 ]; } && break
  [ $SECONDS -lt $deadline ] || break
  sleep 2
done
sent_ids="$(db "SELECT replace(id::text, '-', '') FROM outbox_messages WHERE status = 'Sent' ORDER BY 1")"
received_ids="$(helper mail-ids "$MAILDIR" | sort)"
unique_received="$(printf '%s\n' "$received_ids" | sort -u)"
resets="$(helper mail-to "$MAILDIR" | grep -c -E 'lukas.schmidt|mei.chen|rosa.martinez' || true)"
mca_check "outbox mail sent exactly once (SMTP server's messages = outbox rows marked sent, no duplicates)" \
  "$(printf '%s\n' "$sent_ids" | grep -c . || true) sent in the outbox, $(printf '%s\n' "$received_ids" | grep -c . || true) received, $resets of the 3 resets, $pending pending" \
  test -n "$sent_ids" -a "$sent_ids" = "$received_ids" -a "$received_ids" = "$unique_received" -a "$resets" = 3 -a "$pending" = 0

hangfire_runs() {
  db "SELECT j.id || ' ' || to_char(j.createdat, 'HH24:MI:SS') || ' ' ||
             (SELECT count(*) FROM hangfire.state s WHERE s.jobid = j.id AND s.name = 'Processing') || ' ' ||
             coalesce((SELECT split_part(s.data::json ->> 'ServerId', ':', 2) FROM hangfire.state s WHERE s.jobid = j.id AND s.name = 'Processing' LIMIT 1), '-')
      FROM hangfire.job j JOIN hangfire.jobparameter p ON p.jobid = j.id
      WHERE p.name = 'RecurringJobId' AND p.value = '\"outbox-delivery\"' ORDER BY j.id"
}
runs="$(hangfire_runs)"
servers="$(db "SELECT count(*) FROM hangfire.server")"
per_minute_max="$(db "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM hangfire.job j JOIN hangfire.jobparameter p ON p.jobid = j.id
  WHERE p.name = 'RecurringJobId' AND p.value = '\"outbox-delivery\"' GROUP BY date_trunc('minute', j.createdat)) m")"
ran_by=""
for pid in $(printf '%s\n' "$runs" | awk '{print $4}'); do
  for n in "${!PID_OF[@]}"; do
    if [ "${PID_OF[$n]}" = "$pid" ]; then ran_by="$ran_by $n"; fi
  done
done
twice="$(printf '%s\n' "$runs" | awk '$3 != 1' | wc -l)"
mca_check "the minutely recurring job (outbox-delivery) runs once per minute across two Hangfire servers" \
  "$servers servers; runs (job/created/Processing states/pid): $(printf '%s\n' "$runs" | tr ' ' '/' | tr '\n' ' '); at most $per_minute_max a minute; $twice run more than once; ran by: ${ran_by:-?}" \
  test "$servers" = 2 -a -n "$runs" -a "$per_minute_max" = 1 -a "$twice" = 0

# A usage POST cut off by kill -9 (502) and sent again charges once ---------------------------------------------------
step "usage POST cut off by kill -9"
restart_instance() {
  local name="$1" deadline=$((SECONDS + 60))
  start_instance "$name" "${PORT_OF[$name]}"
  wait_ready "$name"
  # Ready is not enough: nginx leaves an instance that failed out for fail_timeout (10 s), and would have no live
  # upstream if the other one died meanwhile. Go on once nginx sends it requests again, as a rolling upgrade must.
  until { req "$BASE/Account/Login"; [ "$UPSTREAM" = "$name" ]; } || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
  [ "$UPSTREAM" = "$name" ] || mca_die "nginx did not send requests to the restarted instance $name within 60 s"
}
used() {
  db "SELECT q.used_hours FROM allocation_quotas q JOIN allocations a ON a.id = q.allocation_id JOIN clusters c ON c.id = q.cluster_id
      WHERE a.slurm_account = 'lowres-speech' AND c.slug = 'grand-teton'"
}
post_usage() { req -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary "@$1" "$BASE/api/v1/usage"; }
JOBS=150000
first_job=900000000
cut=""; killed=""
for attempt in 1 2 3; do
  batch="$WORK/usage-$attempt.sacct"
  helper sacct "$batch" "$first_job" "$JOBS"
  before="$(used)"
  # The batch (about 20 MB: over the 12 MB of ordinary requests) streams through nginx to one instance; once that
  # instance holds the ingest transaction open (its advisory lock), it is killed.
  ( post_usage "$batch"; echo "$STATUS" >"$WORK/usage-status" ) &
  poster=$!
  holder=""
  while kill -0 "$poster" 2>/dev/null && [ -z "$holder" ]; do
    holder="$(db "SELECT a.application_name FROM pg_stat_activity a
                  WHERE a.application_name LIKE 'mca-topology-%' AND a.xact_start IS NOT NULL
                    AND (EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory') OR a.query ILIKE '%usage_records%')
                  LIMIT 1")"
  done
  if [ -n "$holder" ]; then
    killed="${holder#mca-topology-}"
    kill -9 "${PID_OF[$killed]}"
  fi
  wait "$poster" || true
  cut="$(cat "$WORK/usage-status")"
  [ "$cut" = 502 ] && break
  # Too late (the answer was already out) or landed nowhere: a new batch, a new try.
  [ -z "$killed" ] || { restart_instance "$killed"; killed=""; }
  first_job=$((first_job + JOBS))
done
post_usage "$batch"; retry_status="$STATUS"; retry_on="$UPSTREAM"; cp "$BODY" "$WORK/retry.json"
post_usage "$batch"; again_status="$STATUS"; cp "$BODY" "$WORK/again.json"
after="$(used)"
batch_rows="FROM usage_records WHERE job_id ~ '^[0-9]+$' AND job_id::bigint BETWEEN $first_job AND $((first_job + JOBS - 1))"
stored="$(db "SELECT count(*) || ' jobs, ' || coalesce(sum(gpu_hours), 0) || ' GPU-h' $batch_rows")"
charged="$(db "SELECT $after - $before")"
exact="$(db "SELECT $after - $before = $((JOBS / 100)) AND (SELECT count(*) = $JOBS AND sum(gpu_hours) = $((JOBS / 100)) $batch_rows)")"
ok=0
[ "$cut" = 502 ] && [ "$retry_status" = 200 ] && [ "$again_status" = 200 ] && [ "$exact" = t ] && ok=1
mca_check "a usage POST cut off by kill -9 mid-transaction and sent again charges once" \
  "$(($(stat -c %s "$batch") / 1000000)) MB batch; instance ${killed:-none} killed holding the ingest transaction: client got $cut; retry on $retry_on: $retry_status, accepted $(helper field "$WORK/retry.json" accepted); again: $again_status, duplicate $(helper field "$WORK/again.json" duplicate); stored: $stored; quota used +$charged h (expected $((JOBS / 100)))" \
  test "$ok" = 1
[ -z "$killed" ] || restart_instance "$killed"

# kill -9 while a user works ------------------------------------------------------------------------------------------
step "kill -9 while a user works"
# Two browsers' worth of requests keep going while instance a is killed; none may fail, and none sent after the
# kill may be answered by a.
load() {
  local out="$1" jar="$WORK/amara.cookies" i code addr when
  for i in $(seq 1 60); do
    when=before; [ ! -f "$WORK/killed" ] || when=after
    code="$(curl -sS -k --http2 --resolve "$HOST:$NGINX_PORT:127.0.0.1" -b "$jar" -o "$WORK/load-$out.html" -D "$WORK/load-$out.hdr" -w '%{http_code}' "$BASE/Allocations" 2>/dev/null || echo 000)"
    grep -q "$AMARA" "$WORK/load-$out.html" || code="$code(not signed in)"
    addr="$(tr -d '\r' <"$WORK/load-$out.hdr" | sed -n 's/^x-mca-upstream: //Ip' | tail -n 1)"
    echo "$code ${addr##*, } $when" >>"$WORK/load-$out"
  done
}
: >"$WORK/load-1"; : >"$WORK/load-2"
load 1 & LOAD_PIDS+=($!)
load 2 & LOAD_PIDS+=($!)
until [ "$(wc -l <"$WORK/load-1")" -ge 10 ] && [ "$(wc -l <"$WORK/load-2")" -ge 10 ]; do sleep 0.1; done
kill -9 "${PID_OF[a]}"
touch "$WORK/killed"
wait "${LOAD_PIDS[@]}" || true
LOAD_PIDS=()
unset 'PID_OF[a]'
failed="$(cat "$WORK/load-1" "$WORK/load-2" | grep -vc '^200 ' || true)"
# What the failed ones got (status, instance, before or after the kill), for the report.
failures_seen="$(cat "$WORK/load-1" "$WORK/load-2" | grep -v '^200 ' | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)"
loads_after="$(cat "$WORK/load-1" "$WORK/load-2" | grep -c ' after$' || true)"
after_kill_on_a="$(cat "$WORK/load-1" "$WORK/load-2" | grep -c ":${PORT_OF[a]} after\$" || true)"
profile_post "Lakeside University (after a died)" && saved=yes || saved=no
mca_check "instance a killed with kill -9 while the user works: no request fails, the session carries on on b" \
  "120 page loads, $loads_after sent after the kill: $failed failed${failures_seen:+ (${failures_seen})}, $after_kill_on_a answered by a after the kill; then a form post on $PROFILE_POST_ON: saved $saved" \
  test "$failed" = 0 -a "$loads_after" -gt 40 -a "$after_kill_on_a" = 0 -a "$saved" = yes -a "$PROFILE_POST_ON" = b

# Mail still exactly once after all that.
final_ids="$(helper mail-ids "$MAILDIR" | sort)"
mca_check "no mail sent twice by the end" "$(printf '%s\n' "$final_ids" | grep -c . || true) received, $(printf '%s\n' "$final_ids" | sort -u | grep -c . || true) distinct" \
  test "$final_ids" = "$(printf '%s\n' "$final_ids" | sort -u)"

if [ "$MCA_FAILURES" -gt 0 ]; then
  printf 'topology: %d check(s) FAILED in %ds (logs were in %s; KEEP_WORK=1 keeps them)\n' "$MCA_FAILURES" "$SECONDS" "$WORK"
  exit 1
fi
echo "topology: all checks passed in ${SECONDS}s"
