#!/usr/bin/env bash
# 11. curl against `ustack up`'s HTTP/1.1 server on port 80: GET / is 200 and
# HTML; GET /bytes/10000000 has exactly 10,000,000 bytes, equal (sha256) to the
# resource's generator (byte i = 'a' + i % 26, src/apps/http.cc); two URLs in one
# curl invocation share one connection ("Re-using existing connection", one SYN
# in the capture); a missing path is 404; HEAD has the headers and no body. Then
# with --www DIR: a random file and its index come back byte-identical.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools curl tcpdump tshark sha256sum
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
ustack_up
capture_start "$WORK/http.pcap"
URL=http://$US_IP

# curl_get NAME URL [CURL ARGS...] : body to $WORK/NAME.body, headers to
# $WORK/NAME.hdr, "code size type" on stdout; fails if curl fails.
curl_get() {
  local name=$1 url=$2; shift 2
  local out rc=0
  out=$(nsx timeout 30 curl -sS --max-time 20 -o "$WORK/$name.body" -D "$WORK/$name.hdr" \
        -w '%{http_code} %{size_download} %{content_type}' "$@" "$url" 2>"$WORK/$name.err") || rc=$?
  [ "$rc" -eq 0 ] || fail "curl $* $url: exit status $rc: $(cat "$WORK/$name.err")"
  echo "$out"
}

# GET /: 200, text/html, an HTML document whose length is the Content-Length.
read -r code size type < <(curl_get index "$URL/")
[ "$code" = 200 ] || fail "GET /: status $code, expected 200"
[[ $type == text/html* ]] || fail "GET /: Content-Type '$type', expected text/html"
grep -qi '<html' "$WORK/index.body" || fail "GET /: body is not HTML: $(head -c 300 "$WORK/index.body")"
len=$(tr -d '\r' <"$WORK/index.hdr" | awk -F': ' 'tolower($1)=="content-length" {print $2}')
[ "$len" = "$size" ] && [ "$size" -eq "$(stat -c %s "$WORK/index.body")" ] \
  || fail "GET /: Content-Length '$len', $size bytes downloaded"
log "GET / -> 200 $type, $size bytes"

# GET /bytes/10000000: exact length, same bytes as the generator.
N=10000000
t0=$(date +%s%N)
read -r code size type < <(curl_get big "$URL/bytes/$N")
t1=$(date +%s%N)
[ "$code" = 200 ] || fail "GET /bytes/$N: status $code"
[ "$size" -eq "$N" ] && [ "$(stat -c %s "$WORK/big.body")" -eq "$N" ] || fail "GET /bytes/$N: $size bytes, expected $N"
want=$("$PY" "$INTEROP_DIR/py/bytes_gen.py" "$N" | sha256sum | cut -d' ' -f1)
got=$(sha256sum <"$WORK/big.body" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "GET /bytes/$N: sha256 $got, expected $want (byte i = 'a' + i % 26)"
ms=$(( (t1 - t0) / 1000000 ))
log "GET /bytes/$N -> 200, $N bytes, sha256 matches the generator (${ms} ms)"
rm -f "$WORK/big.body"

# Keep-alive: two URLs, one curl, one connection.
nsx timeout 30 curl -sv --max-time 20 -o "$WORK/ka1.body" "$URL/bytes/1000" -o "$WORK/ka2.body" "$URL/" \
  >"$WORK/ka.out" 2>&1 || fail "curl with two URLs failed: $(tail -20 "$WORK/ka.out")"
grep -q 'Re-using existing connection' "$WORK/ka.out" \
  || fail "curl did not reuse the connection for the second URL:
$(grep -E '^[*<>]' "$WORK/ka.out" | head -40)"
[ "$(grep -c '^< HTTP/1.1 200' "$WORK/ka.out")" -eq 2 ] || fail "keep-alive: expected two 200 responses: $(grep '^< HTTP' "$WORK/ka.out")"
[ "$(stat -c %s "$WORK/ka1.body")" -eq 1000 ] && cmp -s "$WORK/ka2.body" "$WORK/index.body" \
  || fail "keep-alive: wrong bodies ($(stat -c %s "$WORK/ka1.body") bytes for /bytes/1000)"
log "keep-alive: second URL re-used the connection"

# 404 for a missing path.
read -r code size type < <(curl_get missing "$URL/no/such/path")
[ "$code" = 404 ] || fail "GET /no/such/path: status $code, expected 404"
log "GET /no/such/path -> 404"

# HEAD: the headers of /bytes/10000 and no body.
read -r code size type < <(curl_get head "$URL/bytes/10000" -I)
[ "$code" = 200 ] || fail "HEAD /bytes/10000: status $code"
len=$(tr -d '\r' <"$WORK/head.hdr" | awk -F': ' 'tolower($1)=="content-length" {print $2}')
[ "$len" = 10000 ] || fail "HEAD /bytes/10000: Content-Length '$len', expected 10000"
[ "$size" -eq 0 ] || fail "HEAD /bytes/10000: $size body bytes, expected 0"
# If the server had sent a body after HEAD's headers, the next request on the
# connection would read it as garbage: HEAD then GET on one connection.
nsx timeout 30 curl -sv --max-time 20 -I "$URL/bytes/5000" --next -o "$WORK/after.body" "$URL/bytes/26" \
  >"$WORK/head2.out" 2>&1 || fail "HEAD then GET on one connection failed: $(tail -20 "$WORK/head2.out")"
[ "$(cat "$WORK/after.body")" = abcdefghijklmnopqrstuvwxyz ] \
  || fail "GET after HEAD on one connection: body '$(head -c 100 "$WORK/after.body")'"
log "HEAD /bytes/10000 -> 200, Content-Length 10000, no body; a GET after it on the same connection is intact"

capture_stop
capture_check_no_drops
syns=$(count_frames "$WORK/http.pcap" "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==80")
# index, big, keep-alive pair (1), missing, head, head+get (1)
[ "$syns" -eq 6 ] || fail "capture: $syns connections to port 80, expected 6 (the keep-alive pairs share one each)"
rst=$(frames_matching "$WORK/http.pcap" "tcp.flags.reset==1")
[ -z "$rst" ] || fail "capture: RST segments in clean HTTP exchanges:
$rst"
check_capture_clean "$WORK/http.pcap"
log "capture: $syns connections, no RST, checksums good"
ustack_stop

# --www DIR: a file of random bytes and the directory's index.html.
mkdir -p "$WORK/www/sub"
head -c 3000000 /dev/urandom >"$WORK/www/sub/blob.bin"
printf '<html><body>www index</body></html>\n' >"$WORK/www/index.html"
ustack_up --www "$WORK/www"
read -r code size type < <(curl_get blob "$URL/sub/blob.bin")
[ "$code" = 200 ] && cmp -s "$WORK/blob.body" "$WORK/www/sub/blob.bin" \
  || fail "--www: GET /sub/blob.bin: status $code, $size bytes, body differs from the file"
read -r code size type < <(curl_get wwwindex "$URL/")
[ "$code" = 200 ] && cmp -s "$WORK/wwwindex.body" "$WORK/www/index.html" || fail "--www: GET /: status $code, wrong body"
read -r code size type < <(curl_get wwwmissing "$URL/nothing.html")
[ "$code" = 404 ] || fail "--www: GET /nothing.html: status $code, expected 404"
log "--www: 3,000,000-byte file and index.html byte-identical, missing file 404"
ustack_stop
echo "NOTE: GET /bytes/$N took ${ms} ms"
echo PASS
