#!/usr/bin/python3 -I
# portal-forms.py: a browser-like client for scripts that drive the portal's own pages (deploy/local/slurm-test.sh):
# signs in through /Account/Login, keeps the cookies in a file, and posts forms with the page's antiforgery token,
# exactly as a browser would. Standard library only.
#
#   portal-forms.py --base URL --jar FILE login EMAIL PASSWORD
#   portal-forms.py --base URL --jar FILE get PATH                    prints the page's HTML (exit 1 unless 200)
#   portal-forms.py --base URL --jar FILE find PATH REGEX             prints the first group of REGEX in the page
#   portal-forms.py --base URL --jar FILE post PAGE ACTION [name=value ...] [file:name=PATH]
#       loads PAGE for its antiforgery token and posts the fields to ACTION (PAGE when ACTION is "-"). A redirect is
#       success (prints its Location); a page shown again means the form was refused: its messages go to stderr, exit 1.

import argparse
import html
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

TOKEN_RE = re.compile(r'name="__RequestVerificationToken" type="hidden" value="([^"]+)"')
# Messages a refused form shows: the validation summary's items and the messages beside fields.
SUMMARY_RE = re.compile(r'validation-summary-errors[^>]*>(.*?)</div>', re.S)
ITEM_RE = re.compile(r'<li>(.*?)</li>', re.S)
FIELD_RE = re.compile(r'class="[^"]*field-validation-error[^"]*"[^>]*>([^<]+)<')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Session:
    def __init__(self, base, jar_path):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.MozillaCookieJar(jar_path)
        if os.path.exists(jar_path):
            self.jar.load(ignore_discard=True, ignore_expires=True)
        self.opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(self.jar))

    def save(self):
        self.jar.save(ignore_discard=True, ignore_expires=True)

    def request(self, path, data=None, content_type=None):
        req = urllib.request.Request(self.base + path, data=data, method="POST" if data is not None else "GET")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with self.opener.open(req, timeout=60) as resp:
                status, headers, body = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        self.save()
        return status, headers, body.decode("utf-8", "replace")

    def page(self, path):
        status, headers, body = self.request(path)
        if status != 200:
            sys.exit("GET %s answered %d %s" % (path, status, headers.get("Location") or ""))
        return body

    def post(self, page, action, fields, files):
        token = TOKEN_RE.search(self.page(page))
        if not token:
            sys.exit("%s has no form with an antiforgery token" % page)
        fields = fields + [("__RequestVerificationToken", html.unescape(token.group(1)))]
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields:
                parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value))
            body = "".join(parts).encode("utf-8")
            for name, path in files:
                with open(path, "rb") as f:
                    content = f.read()
                body += ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: text/csv\r\n\r\n'
                         % (boundary, name, os.path.basename(path))).encode("utf-8") + content + b"\r\n"
            body += ("--%s--\r\n" % boundary).encode("utf-8")
            content_type = "multipart/form-data; boundary=" + boundary
        else:
            body = urllib.parse.urlencode(fields).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        status, headers, text = self.request(action, body, content_type)
        if status in (301, 302, 303):
            return headers.get("Location") or ""
        messages = [html.unescape(m).strip() for s in SUMMARY_RE.findall(text) for m in ITEM_RE.findall(s)]
        messages += [html.unescape(m).strip() for m in FIELD_RE.findall(text)]
        sys.exit("POST %s answered %d: %s" % (action, status, " | ".join(messages[:10]) or "(no message on the page)"))


def main():
    parser = argparse.ArgumentParser(description="Drive the portal's pages like a browser.")
    parser.add_argument("--base", required=True)
    parser.add_argument("--jar", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    login = sub.add_parser("login")
    login.add_argument("email")
    login.add_argument("password")
    get = sub.add_parser("get")
    get.add_argument("path")
    find = sub.add_parser("find")
    find.add_argument("path")
    find.add_argument("regex")
    post = sub.add_parser("post")
    post.add_argument("page")
    post.add_argument("action")
    post.add_argument("fields", nargs="*")
    args = parser.parse_args()
    session = Session(args.base, args.jar)
    if args.command == "login":
        location = session.post("/Account/Login", "/Account/Login",
                                [("Input.Email", args.email), ("Input.Password", args.password)], [])
        if "/Account/Login" in location:
            sys.exit("sign-in of %s failed" % args.email)
    elif args.command == "get":
        sys.stdout.write(session.page(args.path))
    elif args.command == "find":
        match = re.search(args.regex, session.page(args.path), re.S)
        if not match:
            sys.exit("%s: nothing matches %s" % (args.path, args.regex))
        print(html.unescape(match.group(1)))
    else:
        fields, files = [], []
        for item in args.fields:
            name, _, value = item.partition("=")
            if name.startswith("file:"):
                files.append((name[5:], value))
            else:
                fields.append((name, value))
        print(session.post(args.page, args.page if args.action == "-" else args.action, fields, files))


if __name__ == "__main__":
    main()
