# kiosk-pki end to end, checked with the openssl command: chains, the exact
# JPKI issuer DN, the validity rule, an `openssl ocsp -index` responder that
# answers good and then revoked without a restart, the CRL, kiosk and center
# certificates, and error handling.  POSIX sh.
#
# env: KIOSK_BUILDDIR (binary at certs/kiosk-pki), KIOSK_TMP (private temp
# dir), KIOSK_OCSP_PORT (default 18888).

: "${KIOSK_BUILDDIR:?run through tests/run}"
: "${KIOSK_TMP:?run through tests/run}"
PKI=$KIOSK_BUILDDIR/certs/kiosk-pki
PORT=${KIOSK_OCSP_PORT:-18888}
T=$KIOSK_TMP
D=$T/pki
failed=0
ocsp_pid=""

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
# check NAME CMD...: ok when CMD succeeds
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# quiet CMD...: CMD with its stdout discarded
quiet() { "$@" >/dev/null; }
# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}
cleanup() {
	if [ -n "$ocsp_pid" ]; then
		kill "$ocsp_pid" 2>/dev/null
		wait "$ocsp_pid" 2>/dev/null
		ocsp_pid=""
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP
finish() {
	cleanup
	exit "$failed"
}

# ocsp_status CERT: the status the responder gives for CERT (good, revoked,
# unknown) or "error"
ocsp_status() {
	out=$(cd "$D" && openssl ocsp -issuer auth-ca.crt -cert "$1" \
	    -url "http://127.0.0.1:$PORT" -CAfile auth-ca.crt 2>"$T/ocsp.err")
	if ! grep -q '^Response verify OK' "$T/ocsp.err"; then
		echo error
		return
	fi
	printf '%s\n' "$out" | sed -n "s|^$1: ||p" | head -n 1
}

[ -x "$PKI" ] || { not_ok "kiosk-pki built at $PKI"; finish; }

# --- init
"$PKI" init "$D" >"$T/init.out" 2>"$T/init.err"
expect_eq "init exits 0" "$?" 0
[ -f "$D/auth-ca.crt" ] || { not_ok "init made auth-ca.crt"; finish; }
"$PKI" init "$D" >/dev/null 2>"$T/init2.err"
expect_eq "init refuses an initialised DIR" "$?" 1
check "init refusal names auth-ca.crt" grep -q '^kiosk-pki: .*auth-ca.crt already exists' "$T/init2.err"
for f in auth-ca sign-ca ocsp fleet-ca center-ca center docsign; do
	check "$f.crt and $f.key exist" test -s "$D/$f.crt" -a -s "$D/$f.key"
	expect_eq "$f.key mode 0600" "$(ls -l "$D/$f.key" | cut -c1-10)" "-rw-------"
done
expect_eq "index.txt empty after init" "$(wc -c <"$D/index.txt" | tr -d ' ')" 0
expect_eq "index.txt.attr" "$(cat "$D/index.txt.attr")" "unique_subject = no"
expect_eq "auth-ca subject = issuer, exact RDN order" \
    "$(openssl x509 -in "$D/auth-ca.crt" -noout -subject -issuer)" \
    "subject=C = JP, O = JPKI-TEST, OU = JPKI for user authentication, OU = Japan Agency for Local Authority Information Systems
issuer=C = JP, O = JPKI-TEST, OU = JPKI for user authentication, OU = Japan Agency for Local Authority Information Systems"
expect_eq "sign-ca subject" \
    "$(openssl x509 -in "$D/sign-ca.crt" -noout -subject)" \
    "subject=C = JP, O = JPKI-TEST, OU = JPKI for digital signature, OU = Japan Agency for Local Authority Information Systems"
openssl x509 -in "$D/auth-ca.crt" -noout -text >"$T/ca.txt"
check "auth-ca is CA:TRUE critical" grep -A1 -q 'Basic Constraints: critical' "$T/ca.txt"
check "auth-ca keyUsage keyCertSign+cRLSign critical" sh -c "grep -A1 'Key Usage: critical' '$T/ca.txt' | grep -q 'Certificate Sign, CRL Sign'"
expect_eq "auth-ca serial 1" "$(openssl x509 -in "$D/auth-ca.crt" -noout -serial)" "serial=01"
check "ocsp signer verifies against auth-ca" quiet openssl verify -CAfile "$D/auth-ca.crt" -purpose ocsphelper "$D/ocsp.crt"
check "center.crt is a localhost TLS server of center-ca" \
    quiet openssl verify -CAfile "$D/center-ca.crt" -purpose sslserver -verify_hostname localhost -verify_ip 127.0.0.1 "$D/center.crt"
check "docsign.crt verifies against center-ca" quiet openssl verify -CAfile "$D/center-ca.crt" "$D/docsign.crt"
check "empty CRL verifies" sh -c "openssl crl -in '$D/crl.pem' -CAfile '$D/auth-ca.crt' -noout 2>&1 | grep -q 'verify OK'"

# --- a card with a known validity
"$PKI" card "$D" x --birth 1980-05-05 --issued 2024-01-22 --card-expiry 2034-05-05 >"$T/card.out" 2>&1
expect_eq "card exits 0" "$?" 0
C=$D/cards/x
check "auth.crt verifies against auth-ca" quiet openssl verify -CAfile "$D/auth-ca.crt" "$C/auth.crt"
check "sign.crt verifies against sign-ca" quiet openssl verify -CAfile "$D/sign-ca.crt" "$C/sign.crt"
expect_eq "card issuer DN in the JPKI order" \
    "$(openssl x509 -in "$C/auth.crt" -noout -issuer)" \
    "issuer=C = JP, O = JPKI-TEST, OU = JPKI for user authentication, OU = Japan Agency for Local Authority Information Systems"
check "card subject is C=JP, CN=<opaque id>" sh -c \
    "openssl x509 -in '$C/auth.crt' -noout -subject | grep -Eqx 'subject=C = JP, CN = [0-9A-Z]{20,}'"
expect_eq "notBefore = issue date 00:00 JST" "$(openssl x509 -in "$C/auth.crt" -noout -startdate)" "notBefore=Jan 21 15:00:00 2024 GMT"
expect_eq "notAfter = 5th birthday 23:59:59 JST" "$(openssl x509 -in "$C/auth.crt" -noout -enddate)" "notAfter=May  5 14:59:59 2028 GMT"
serial=$(openssl x509 -in "$C/auth.crt" -noout -serial | sed 's/^serial=//')
check "serial is 4 bytes ($serial)" sh -c "printf '%s' '$serial' | grep -Eqx '[0-7][0-9A-F]{7}'"
expect_eq "auth.key mode 0600" "$(ls -l "$C/auth.key" | cut -c1-10)" "-rw-------"
check "auth key is RSA-2048 e=65537" sh -c "openssl x509 -in '$C/auth.crt' -noout -text | grep -q 'Public-Key: (2048 bit)' && openssl x509 -in '$C/auth.crt' -noout -text | grep -q 'Exponent: 65537'"
check "auth key matches the certificate" sh -c \
    "[ \"\$(openssl pkey -in '$C/auth.key' -pubout)\" = \"\$(openssl x509 -in '$C/auth.crt' -noout -pubkey)\" ]"
expect_eq "info.txt serial" "$(sed -n 's/^serial=//p' "$C/info.txt")" "$serial"
expect_eq "info.txt not_after" "$(sed -n 's/^not_after=//p' "$C/info.txt")" "2028-05-05T14:59:59Z"
check "index.txt has the V line" grep -q "^V	280505145959Z		$serial	unknown	/C=JP/CN=" "$D/index.txt"
"$PKI" card "$D" x >/dev/null 2>"$T/dup.err"
expect_eq "card refuses an existing NAME" "$?" 1

# --- OCSP: good, then revoked without restarting the responder
openssl ocsp -index "$D/index.txt" -port "$PORT" -rsigner "$D/ocsp.crt" \
    -rkey "$D/ocsp.key" -CA "$D/auth-ca.crt" >"$T/responder.log" 2>&1 &
ocsp_pid=$!
st=error
i=0
while [ $i -lt 50 ]; do
	st=$(ocsp_status cards/x/auth.crt)
	[ "$st" != error ] && break
	kill -0 "$ocsp_pid" 2>/dev/null || break
	sleep 0.2
	i=$((i + 1))
done
expect_eq "OCSP answers good" "$st" good
"$PKI" revoke "$D" x --reason keyCompromise >"$T/revoke.out" 2>&1
expect_eq "revoke exits 0" "$?" 0
check "index.txt has the R line with reason" grep -Eq "^R	280505145959Z	[0-9]{12}Z,keyCompromise	$serial	" "$D/index.txt"
# openssl ocsp rereads a changed index before it accepts the next
# connection, so the first answer after a change may still be the old one.
i=0
while [ $i -lt 3 ]; do
	st=$(ocsp_status cards/x/auth.crt)
	[ "$st" = revoked ] && break
	i=$((i + 1))
done
expect_eq "OCSP answers revoked after revoke (same responder)" "$st" revoked
check "responder still running" kill -0 "$ocsp_pid"
"$PKI" revoke "$D" x >/dev/null 2>"$T/revoke2.err"
expect_eq "second revoke fails" "$?" 1
check "second revoke says already revoked" grep -q '^kiosk-pki: .*already revoked' "$T/revoke2.err"
cleanup

# --- CRL
openssl crl -in "$D/crl.pem" -CAfile "$D/auth-ca.crt" -noout -text >"$T/crl.txt" 2>&1
expect_eq "openssl crl exits 0" "$?" 0
check "CRL signature verifies" grep -q '^verify OK' "$T/crl.txt"
check "CRL lists the serial" grep -q "Serial Number: $serial" "$T/crl.txt"
check "CRL has the reason code" grep -q 'Key Compromise' "$T/crl.txt"
check "CRL has a CRL number" grep -q 'X509v3 CRL Number' "$T/crl.txt"

# --- kiosk client certificate
"$PKI" kiosk "$D" S0001-T01 >/dev/null 2>&1
expect_eq "kiosk exits 0" "$?" 0
check "kiosk.crt verifies against fleet-ca" quiet openssl verify -CAfile "$D/fleet-ca.crt" "$D/kiosks/S0001-T01/kiosk.crt"
check "kiosk.crt is a TLS client" quiet openssl verify -CAfile "$D/fleet-ca.crt" -purpose sslclient "$D/kiosks/S0001-T01/kiosk.crt"
expect_eq "kiosk subject" "$(openssl x509 -in "$D/kiosks/S0001-T01/kiosk.crt" -noout -subject)" \
    "subject=C = JP, O = S0001, OU = T01, CN = S0001-T01"
"$PKI" kiosk "$D" S0001_T01 >/dev/null 2>&1
expect_eq "bad kiosk id rejected" "$?" 1

# --- validity rule cases
"$PKI" card "$D" old --birth 1950-01-01 --issued 2001-06-01 >/dev/null 2>&1
expect_eq "card issued in 2001 exits 0" "$?" 0
openssl verify -CAfile "$D/auth-ca.crt" "$D/cards/old/auth.crt" >"$T/old.out" 2>&1
expect_eq "certificate issued in 2001 does not verify" "$?" 2
check "... because it has expired" grep -q 'certificate has expired' "$T/old.out"
"$PKI" card "$D" kid --birth 2015-06-01 --issued 2024-01-10 >/dev/null 2>&1
expect_eq "card for a child exits 0" "$?" 0
check "no signature certificate under 15" test ! -e "$D/cards/kid/sign.crt"
expect_eq "under-18 card expiry = 5th birthday" "$(sed -n 's/^card_expiry=//p' "$D/cards/kid/info.txt")" 2028-06-01
"$PKI" card "$D" short --birth 1980-05-05 --issued 2024-01-22 --card-expiry 2025-03-31 >/dev/null 2>&1
expect_eq "notAfter = card expiry when earlier" "$(openssl x509 -in "$D/cards/short/auth.crt" -noout -enddate)" "notAfter=Mar 31 14:59:59 2025 GMT"
"$PKI" card "$D" leap --birth 2000-02-29 --issued 2024-03-01 >/dev/null 2>&1
expect_eq "29 Feb birthday: 28 Feb in a common year" "$(openssl x509 -in "$D/cards/leap/auth.crt" -noout -enddate)" "notAfter=Feb 28 14:59:59 2029 GMT"
"$PKI" card "$D" bad --birth 2023-02-30 >/dev/null 2>"$T/bad.err"
expect_eq "impossible date rejected" "$?" 1
check "impossible date message" grep -q "^kiosk-pki: --birth '2023-02-30': no such date" "$T/bad.err"
check "rejected card left nothing behind" test ! -e "$D/cards/bad"
"$PKI" card "$D" late --birth 2025-01-01 --issued 2024-01-01 >/dev/null 2>&1
expect_eq "birth after issue rejected" "$?" 1
"$PKI" card "$D" 'a/b' >/dev/null 2>&1
expect_eq "bad NAME rejected" "$?" 1
"$PKI" frob >/dev/null 2>&1
expect_eq "unknown command exits 1" "$?" 1
"$PKI" --help >"$T/help.out" 2>&1
expect_eq "--help exits 0" "$?" 0
check "--help shows usage" grep -q '^usage: kiosk-pki init DIR' "$T/help.out"
check "all card serials unique" sh -c "cut -f4 '$D/index.txt' | sort | uniq -d | grep -q . && exit 1 || exit 0"

finish
