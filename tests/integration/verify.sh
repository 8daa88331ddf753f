# certs/libjpkiverify through kiosk-certcheck against a real `openssl ocsp`
# responder and kiosk-pki's test PKI: two root generations with one DN,
# good → revoked without restarting the responder, the expired and
# untrusted cases, the responder down (CRL fallback, stale CRL), and a
# responder that accepts TCP and never answers (bounded, not a hang).
#
# Note: `openssl ocsp -index` re-reads index.txt only between
# connections, so the first answer after `kiosk-pki revoke` may still be
# "good"; the revoked check queries up to three times.
#
# env: KIOSK_BUILDDIR, KIOSK_SRCDIR, KIOSK_TMP (tests/run); KIOSK_OCSP_PORT2
# (default 18890) for the responder.
. "$KIOSK_SRCDIR/tests/lib.sh"

CHECK=$B/certs/kiosk-certcheck
PORT=${KIOSK_OCSP_PORT2:-18890}
URL=http://127.0.0.1:$PORT
D=$T/pki
ocsp_pid=""
hang_pid=""

stop_pid() {
	[ -n "$1" ] || return 0
	kill -CONT "$1" 2>/dev/null
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	stop_pid "$ocsp_pid"
	ocsp_pid=""
	stop_pid "$hang_pid"
	hang_pid=""
	lib_cleanup
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP
finish() {
	cleanup
	exit $lib_failed
}

# cc NAME ARGS...: run kiosk-certcheck, output in $T/NAME.out, status in rc
cc() {
	local name=$1
	shift
	timeout -k 5 30 "$CHECK" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}

start_responder() {
	openssl ocsp -index "$D/index.txt" -port "$PORT" -rsigner "$D/ocsp.crt" \
	    -rkey "$D/ocsp.key" -CA "$D/auth-ca.crt" >>"$T/responder.log" 2>&1 &
	ocsp_pid=$!
	local i=0
	# ready when it answers (any verdict but revocation_unavailable)
	while [ $i -lt 50 ]; do
		cc ready --roots "$T/roots" --ocsp "$URL" --timeout 2000 "$D/cards/x/auth.crt"
		[ "$(value code "$T/ready.out")" != revocation_unavailable ] && return 0
		kill -0 "$ocsp_pid" 2>/dev/null || break
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

for f in "$CHECK" "$PKI_BIN"; do
	[ -x "$f" ] || { not_ok "built: $f"; finish; }
done

# --- the PKI: generation 1 (D), generation 2 (D2, same DN, other key),
# and a foreign root with the same DN (D3, never trusted)
"$PKI_BIN" init "$D" >/dev/null 2>"$T/init.err" || { not_ok "kiosk-pki init"; finish; }
"$PKI_BIN" init "$T/pki2" >/dev/null 2>&1 || { not_ok "kiosk-pki init gen2"; finish; }
"$PKI_BIN" init "$T/pki3" >/dev/null 2>&1 || { not_ok "kiosk-pki init foreign"; finish; }
for c in x y; do
	"$PKI_BIN" card "$D" "$c" --birth 1980-05-05 >/dev/null 2>&1 || { not_ok "kiosk-pki card $c"; finish; }
done
"$PKI_BIN" card "$D" old --birth 1950-01-01 --issued 2001-01-01 >/dev/null 2>&1 || { not_ok "kiosk-pki card old"; finish; }
"$PKI_BIN" card "$T/pki2" g2 --birth 1980-05-05 >/dev/null 2>&1 || { not_ok "kiosk-pki card g2"; finish; }
"$PKI_BIN" card "$T/pki3" f --birth 1980-05-05 >/dev/null 2>&1 || { not_ok "kiosk-pki card f"; finish; }
mkdir -p "$T/roots"
cp "$D/auth-ca.crt" "$T/roots/gen1.pem"
cp "$T/pki2/auth-ca.crt" "$T/roots/gen2.pem"
expect_eq "roots share one DN" \
    "$(openssl x509 -in "$T/roots/gen1.pem" -noout -subject)" \
    "$(openssl x509 -in "$T/roots/gen2.pem" -noout -subject)"
check "the foreign root has the same DN too" test \
    "$(openssl x509 -in "$T/pki3/auth-ca.crt" -noout -subject)" = \
    "$(openssl x509 -in "$T/roots/gen1.pem" -noout -subject)"
X=$D/cards/x/auth.crt
Y=$D/cards/y/auth.crt

# --- responder up: good
start_responder || { not_ok "openssl ocsp responder answers on $PORT"; finish; }
ok "openssl ocsp responder answers on $PORT"
cc good --roots "$T/roots" --ocsp "$URL" "$X"
expect_eq "good card: exit 0" "$rc" 0
expect_eq "good card: verdict" "$(value verdict "$T/good.out")" ok
expect_eq "good card: decided by OCSP" "$(value revocation "$T/good.out")" ocsp
expect_eq "good card: generation-1 root reported" "$(value root "$T/good.out")" gen1.pem
expect_eq "serial as kiosk-pki wrote it" "$(value serial "$T/good.out")" \
    "$(sed -n 's/^serial=//p' "$D/cards/x/info.txt")"
expect_eq "sha256 of the DER" "$(value sha256 "$T/good.out")" \
    "$(openssl x509 -in "$X" -outform DER | sha256sum | cut -d' ' -f1)"
expect_eq "not_after as kiosk-pki wrote it" "$(value not_after "$T/good.out")" \
    "$(sed -n 's/^not_after=//p' "$D/cards/x/info.txt")"

# --- generation 2: the responder of generation 1 does not know it; its
# own CRL decides, and the generation-2 root is reported
cc gen2 --roots "$T/roots" --ocsp "$URL" --crl "$T/pki2/crl.pem" "$T/pki2/cards/g2/auth.crt"
expect_eq "generation-2 card: verdict" "$(value verdict "$T/gen2.out")" ok
expect_eq "generation-2 card: generation-2 root reported" "$(value root "$T/gen2.out")" gen2.pem
expect_eq "generation-2 card: decided by its CRL" "$(value revocation "$T/gen2.out")" crl
check "generation-2 card: the OCSP failure is noted" grep -q '^reason: ok by the CRL; OCSP: ' "$T/gen2.out"
cc gen2nocrl --roots "$T/roots" --ocsp "$URL" "$T/pki2/cards/g2/auth.crt"
expect_eq "generation-2 card without its CRL: revocation_unavailable" \
    "$(value code "$T/gen2nocrl.out")" revocation_unavailable
expect_eq "... exit 1" "$rc" 1

# --- untrusted and expired
cc foreign --roots "$T/roots" --ocsp "$URL" "$T/pki3/cards/f/auth.crt"
expect_eq "card of a same-DN foreign root: cert_untrusted" "$(value code "$T/foreign.out")" cert_untrusted
expect_eq "... exit 1" "$rc" 1
cc old --roots "$T/roots" --ocsp "$URL" "$D/cards/old/auth.crt"
expect_eq "card issued 2001: cert_expired" "$(value code "$T/old.out")" cert_expired
cc sign --roots "$T/roots" --ocsp "$URL" "$D/cards/x/sign.crt"
expect_eq "the signature certificate (other CA): cert_untrusted" "$(value code "$T/sign.out")" cert_untrusted
cc ca --roots "$T/roots" "$D/auth-ca.crt"
expect_eq "a root itself: cert_untrusted" "$(value code "$T/ca.out")" cert_untrusted

# --- the card's signature over a challenge
head -c 32 /dev/urandom >"$T/challenge"
openssl dgst -sha256 -sign "$D/cards/x/auth.key" -out "$T/sig" "$T/challenge"
cc sig --roots "$T/roots" --ocsp "$URL" --message "$T/challenge" --signature "$T/sig" "$X"
expect_eq "signature by the card's key: valid" "$(value signature "$T/sig.out")" valid
expect_eq "... exit 0" "$rc" 0
openssl dgst -sha256 -sign "$D/cards/y/auth.key" -out "$T/sig2" "$T/challenge"
cc sig2 --roots "$T/roots" --no-revocation --message "$T/challenge" --signature "$T/sig2" "$X"
expect_eq "signature by another card's key: invalid" "$(value signature "$T/sig2.out")" invalid
expect_eq "... exit 1" "$rc" 1

# --- revoke x; the responder keeps running (first answer may lag)
"$PKI_BIN" revoke "$D" x --reason keyCompromise >/dev/null 2>&1 || not_ok "kiosk-pki revoke"
i=0
while [ $i -lt 3 ]; do
	cc revoked --roots "$T/roots" --ocsp "$URL" "$X"
	[ "$(value code "$T/revoked.out")" = cert_revoked ] && break
	i=$((i + 1))
done
expect_eq "revoked card: cert_revoked" "$(value code "$T/revoked.out")" cert_revoked
expect_eq "... decided by OCSP" "$(value revocation "$T/revoked.out")" ocsp
check "... with the revocation time" grep -q '^revoked_at: 20[0-9-]*T' "$T/revoked.out"
expect_eq "... exit 1" "$rc" 1
cc stillgood --roots "$T/roots" --ocsp "$URL" "$Y"
expect_eq "another card still good" "$(value verdict "$T/stillgood.out")" ok
check "responder still running" kill -0 "$ocsp_pid"

# --- responder down
stop_pid "$ocsp_pid"
ocsp_pid=""
cc down --roots "$T/roots" --ocsp "$URL" --timeout 2000 "$Y"
expect_eq "responder down, no CRL: revocation_unavailable" "$(value code "$T/down.out")" revocation_unavailable
expect_eq "... exit 1" "$rc" 1
cc downcrl --roots "$T/roots" --ocsp "$URL" --timeout 2000 --crl "$D/crl.pem" "$Y"
expect_eq "responder down, current CRL: ok" "$(value verdict "$T/downcrl.out")" ok
expect_eq "... decided by the CRL" "$(value revocation "$T/downcrl.out")" crl
cc downcrlrev --roots "$T/roots" --ocsp "$URL" --timeout 2000 --crl "$D/crl.pem" "$X"
expect_eq "responder down, CRL lists the card: cert_revoked" "$(value code "$T/downcrlrev.out")" cert_revoked
expect_eq "... decided by the CRL" "$(value revocation "$T/downcrlrev.out")" crl
# 40 days on, kiosk-pki's CRL (next update in 30 days) is stale
later=$(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ)
cc stale --roots "$T/roots" --ocsp "$URL" --timeout 2000 --crl "$D/crl.pem" --at "$later" "$Y"
expect_eq "responder down, stale CRL: revocation_unavailable" "$(value code "$T/stale.out")" revocation_unavailable
check "... says the CRL is stale" grep -q 'CRL is stale' "$T/stale.out"
cc wrongcrl --roots "$T/roots" --timeout 2000 --crl "$T/pki3/crl.pem" "$Y"
expect_eq "CRL of a same-DN foreign root: revocation_unavailable" "$(value code "$T/wrongcrl.out")" revocation_unavailable

# --- a responder that accepts TCP and never answers: a stopped
# `openssl ocsp` (the kernel still completes connections into its backlog)
openssl ocsp -index "$D/index.txt" -port "$PORT" -rsigner "$D/ocsp.crt" \
    -rkey "$D/ocsp.key" -CA "$D/auth-ca.crt" >>"$T/responder.log" 2>&1 &
hang_pid=$!
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && break
	sleep 0.1
done
kill -STOP "$hang_pid"
start=$(date +%s%N)
cc hang --roots "$T/roots" --ocsp "$URL" --timeout 1500 "$Y"
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "silent responder: revocation_unavailable" "$(value code "$T/hang.out")" revocation_unavailable
check "... within the timeout (${ms} ms)" test "$ms" -ge 1400 -a "$ms" -lt 5000
check "... says it timed out" grep -q 'no answer within the timeout' "$T/hang.out"
cc hangcrl --roots "$T/roots" --ocsp "$URL" --timeout 1000 --crl "$D/crl.pem" "$Y"
expect_eq "silent responder, current CRL: the CRL decides" "$(value revocation "$T/hangcrl.out")" crl
stop_pid "$hang_pid"
hang_pid=""

# the same with a server that accepts the connection and holds it open
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' "$PORT" >"$T/hold.out" 2>&1 &
	hang_pid=$!
	i=0
	until grep -q ready "$T/hold.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 50 ] && break
		sleep 0.1
	done
	start=$(date +%s%N)
	cc hold --roots "$T/roots" --ocsp "$URL" --timeout 1000 "$Y"
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_eq "accepting, silent server: revocation_unavailable" "$(value code "$T/hold.out")" revocation_unavailable
	check "... within the timeout (${ms} ms)" test "$ms" -ge 900 -a "$ms" -lt 4000
	stop_pid "$hang_pid"
	hang_pid=""
else
	echo "# python3 not found: the accepting-server variant is skipped"
fi

# --- usage and configuration errors exit 2
cc usage1 "$X"
expect_eq "no --roots: exit 2" "$rc" 2
cc usage2 --roots "$T/nonexistent" "$X"
expect_eq "missing roots: exit 2" "$rc" 2
cc usage3 --roots "$T/roots" --ocsp https://127.0.0.1/ "$X"
expect_eq "https OCSP URL: exit 2" "$rc" 2
check "... with a message" grep -q 'https is not supported' "$T/usage3.err"
cc usage4 --roots "$T/roots" --at yesterday "$X"
expect_eq "bad --at: exit 2" "$rc" 2
printf 'junk' >"$T/junk.der"
cc junk --roots "$T/roots" --no-revocation "$T/junk.der"
expect_eq "garbage certificate: bad_request" "$(value code "$T/junk.out")" bad_request
cc help --help
expect_eq "--help exits 0" "$rc" 0

finish
