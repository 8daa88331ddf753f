# kiosk-centerd end to end: a seeded town with kiosk-pki cards bound to
# residents, a real `openssl ocsp` responder, the center over mutual TLS,
# driven with curl; the card's signature is made with the software key of
# the card identity (openssl dgst -sign auth.key).  Checks answers AND the
# database (sqlite3): refused requests leave no rows, every issuance is
# bound to its own session, even with several processes under concurrency.
#
# env: KIOSK_BUILDDIR, KIOSK_SRCDIR, KIOSK_TMP (tests/run);
# KIOSK_CENTER_PORT (default 18443; +1 and +2 are used too),
# KIOSK_OCSP_PORT3 (default 18891).

. "$KIOSK_SRCDIR/tests/lib.sh"

PORT=${KIOSK_CENTER_PORT:-18443}
PORT2=$((PORT + 1))
PORT3=$((PORT + 2))
OPORT=${KIOSK_OCSP_PORT3:-18891}
CENTERD=$B/center/kiosk-centerd
SEED=$B/center/kiosk-center-seed
P=$T/pki
DB=$T/town.db
ocsp_pid=""
center_pid=""

for tool in curl jq sqlite3 openssl; do
	command -v $tool >/dev/null || { not_ok "$tool is installed"; exit 1; }
done
[ -x "$CENTERD" ] || { not_ok "kiosk-centerd built at $CENTERD"; exit 1; }

# --- fixtures -------------------------------------------------------------
setup_pki() {
	local n
	"$PKI_BIN" init "$P" >/dev/null || return 1
	for n in alice bob carol dave erin frank dv1 child1 moved1 deceased1 \
	    foreign1 noseal1 abolished1 elsewhere1 revoked1; do
		"$PKI_BIN" card "$P" $n >/dev/null || return 1
	done
	"$PKI_BIN" card "$P" expired1 --issued 2001-01-01 >/dev/null || return 1
	for n in S0001-T01 S0002-T01 S0009-T09; do
		"$PKI_BIN" kiosk "$P" $n >/dev/null || return 1
	done
	"$PKI_BIN" fleet-crl "$P" >/dev/null || return 1
	"$SEED" "$DB" --certs "$P" >"$T/seed.out" || return 1
	# made after seeding: valid but bound to no resident
	"$PKI_BIN" card "$P" unbound >/dev/null || return 1
	# a kiosk certificate from another CA
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/rogue-ca.key" -out "$T/rogue-ca.crt" -days 30 \
	    -subj "/CN=Rogue CA" 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/rogue.key" -out "$T/rogue.csr" \
	    -subj "/C=JP/O=S0001/OU=T01/CN=S0001-T01" 2>/dev/null || return 1
	openssl x509 -req -in "$T/rogue.csr" -CA "$T/rogue-ca.crt" \
	    -CAkey "$T/rogue-ca.key" -CAcreateserial -out "$T/rogue.crt" \
	    -days 30 2>/dev/null || return 1
	openssl x509 -in "$P/docsign.crt" -pubkey -noout >"$T/docsign-pub.pem"
}
check "test PKI, cards, kiosks and seeded town" setup_pki
grep -q '^card alice -> resident' "$T/seed.out" || { not_ok "cards bound"; exit 1; }

start_ocsp() {
	openssl ocsp -index "$P/index.txt" -port "$OPORT" -rsigner "$P/ocsp.crt" \
	    -rkey "$P/ocsp.key" -CA "$P/auth-ca.crt" -nmin 5 \
	    >>"$T/ocsp.log" 2>&1 &
	ocsp_pid=$!
	lib_pids="$lib_pids $ocsp_pid"
	wait_until "$ocsp_pid" 50 ocsp_up
}
ocsp_up() { ocsp_query alice >/dev/null 2>&1; }
# ocsp_query CARD: one query (also makes the responder re-read its index)
ocsp_query() {
	openssl ocsp -issuer "$P/auth-ca.crt" -cert "$P/cards/$1/auth.crt" \
	    -url "http://127.0.0.1:$OPORT" -CAfile "$P/auth-ca.crt" 2>&1 |
	    grep "auth.crt:"
}
stop_ocsp() { stop_bg ocsp_pid; }

# start_center PORT LOG [options...]: sets CPID
start_center() {
	local port=$1 log=$2
	shift 2
	"$CENTERD" -d -v --db "$DB" --listen "127.0.0.1:$port" \
	    --cert "$P/center.crt" --key "$P/center.key" \
	    --client-ca "$P/fleet-ca.crt" --client-crl "$P/fleet-crl.pem" \
	    --auth-roots "$P/auth-ca.crt" --ocsp "http://127.0.0.1:$OPORT" \
	    --ocsp-timeout 2000 \
	    --doc-key "$P/docsign.key" --doc-cert "$P/docsign.crt" \
	    --service-hours 00:00-24:00 --koseki-days all \
	    --koseki-hours 00:00-24:00 --newyear-closed no \
	    "$@" >>"$log" 2>&1 &
	CPID=$!
	lib_pids="$lib_pids $CPID"
	wait_until "$CPID" 100 center_up "$port"
}
center_up() { [ "$(req_code S0001-T01 GET "$1" /v1/status)" = 200 ]; }

# --- HTTP helpers -----------------------------------------------------------
# req KIOSK METHOD PORT PATH [BODY [CONTENT-TYPE]]: body on stdout, then a
# last line with the HTTP status (000 when TLS or the connection failed)
req() {
	local k=$1 m=$2 port=$3 path=$4 body=${5-} ct=${6-application/json}
	local args=(-sS -o "$T/body" -w '%{http_code}' --max-time 20
	    --cert "$P/kiosks/$k/kiosk.crt" --key "$P/kiosks/$k/kiosk.key"
	    --cacert "$P/center-ca.crt" -X "$m")
	[ -n "$body" ] && args+=(-H "Content-Type: $ct" --data-binary "$body")
	local code
	code=$(curl "${args[@]}" "https://127.0.0.1:$port$path" 2>"$T/curl.err") ||
	    code=${code:-000}
	cat "$T/body" 2>/dev/null
	rm -f "$T/body"
	echo
	echo "$code"
}
req_code() { req "$@" | tail -n 1; }
req_body() { req "$@" | sed '$d'; }
post() { req "$1" POST "${PORT_USE:-$PORT}" "$2" "$3"; }
code_of() { printf '%s\n' "$1" | tail -n 1; }
body_of() { printf '%s\n' "$1" | sed '$d'; }
jfield() { printf '%s\n' "$1" | sed '$d' | jq -r "$2" 2>/dev/null; }

cert_b64() { openssl x509 -in "$P/cards/$1/auth.crt" -outform DER | base64 -w0; }
cert_sha() { openssl x509 -in "$P/cards/$1/auth.crt" -outform DER | sha256sum | cut -d' ' -f1; }

# new_session KIOSK: sets SID, CHAL (base64)
new_session() {
	local r
	r=$(post "$1" /v1/sessions '{}')
	SID=$(jfield "$r" .session_id)
	CHAL=$(jfield "$r" .challenge)
	[ "$(code_of "$r")" = 201 ] && [ ${#SID} = 32 ]
}
# sign_b64 CARD CHALLENGE-B64
sign_b64() {
	printf '%s' "$2" | base64 -d | openssl dgst -sha256 -sign \
	    "$P/cards/$1/auth.key" | base64 -w0
}
# auth KIOSK CARD [SIGNATURE]: answer SID's challenge; sets AUTH
auth() {
	local sig=${3:-$(sign_b64 "$2" "$CHAL")}
	AUTH=$(post "$1" "/v1/sessions/$SID/auth" \
	    "{\"certificate\":\"$(cert_b64 "$2")\",\"signature\":\"$sig\"}")
}
# login KIOSK CARD: a fresh authenticated session (SID)
login() { new_session "$1" && auth "$1" "$2" && [ "$(code_of "$AUTH")" = 200 ]; }
# issue KIOSK DOC OPTIONS COPIES KEY: sets ISS
issue() {
	ISS=$(post "$1" /v1/issuances "{\"session_id\":\"$SID\",\"document\":\"$2\",\"options\":$3,\"copies\":$4,\"idempotency_key\":\"$5\"}")
}
# verify_doc RESPONSE: the signature verifies over the decoded content
verify_doc() {
	jfield "$1" .content | base64 -d >"$T/content.bin" || return 1
	jfield "$1" .signature | base64 -d >"$T/sig.bin" || return 1
	openssl dgst -sha256 -verify "$T/docsign-pub.pem" -signature \
	    "$T/sig.bin" "$T/content.bin" >/dev/null 2>&1
}
content_field() { jq -r "$1" <"$T/content.bin"; }
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
rows() { sql "select (select count(*) from sessions) || '/' || (select count(*) from issuances)"; }
error_code() { jfield "$1" .error.code; }
reason() { jfield "$1" .error.reason; }
newkey() { echo "key-$(date +%s%N)-$RANDOM"; }

# --- configuration file and -n ---------------------------------------------------
cat >"$T/center.conf" <<CONF
# kiosk-centerd test configuration
db = $DB
listen = 127.0.0.1:$PORT
cert = $P/center.crt
key = $P/center.key
client-ca = $P/fleet-ca.crt
auth-roots = $P/auth-ca.crt
crl = $P/crl.pem
doc-key = $P/docsign.key
doc-cert = $P/docsign.crt
fee = inkan=300
koseki-days = mon,tue,wed
CONF
"$CENTERD" -n --config "$T/center.conf" >"$T/n.out" 2>&1
expect_eq "-n with a config file: exit 0" "$?" 0
check "-n prints the normalized configuration" grep -q '^fee = inkan=300$' "$T/n.out"
"$CENTERD" -n --config "$T/center.conf" --ocsp http://127.0.0.1:1 \
    --ocsp-threads 2 >"$T/n3.out" 2>&1
check "-n prints the OCSP pool's size" grep -q '^ocsp-threads = 2$' "$T/n3.out"
"$CENTERD" -n --config "$T/center.conf" --ocsp-threads 0 >"$T/n4.out" 2>&1
expect_eq "--ocsp-threads 0: exit 1" "$?" 1
printf 'threads = many\n' >>"$T/center.conf"
"$CENTERD" -n --config "$T/center.conf" >"$T/n2.out" 2>&1
expect_eq "bad config line: exit 1" "$?" 1
check "bad config line named file:line" grep -q "center.conf:13: threads" "$T/n2.out"

# --- start ------------------------------------------------------------------
check "openssl ocsp responder answers" start_ocsp
check "kiosk-centerd starts" start_center "$PORT" "$T/center.log"
MAIN_PID=$CPID

r=$(req S0001-T01 GET "$PORT" /v1/status)
expect_eq "status 200" "$(code_of "$r")" 200
expect_eq "status body" "$(body_of "$r" | jq -c .)" '{"status":"ok","version":1}'

# --- sessions and auth --------------------------------------------------------
check "session created (201, 32-hex id)" new_session S0001-T01
expect_eq "challenge is 32 bytes" "$(printf '%s' "$CHAL" | base64 -d | wc -c | tr -d ' ')" 32
# the session row is written behind the reply (the id itself is MAC-bound):
# wait for it rather than racing the background insert
session_row() {
	local i=0 v
	while [ $i -lt 50 ]; do
		v=$(sql "select state || ' ' || kiosk_id from sessions where id = '$1'")
		[ -n "$v" ] && { echo "$v"; return; }
		sleep 0.1
		i=$((i + 1))
	done
}
expect_eq "session stored as new for this kiosk" "$(session_row "$SID")" "new S0001-T01"
auth S0001-T01 alice
expect_eq "auth alice 200" "$(code_of "$AUTH")" 200
expect_eq "auth: 7 documents offered" "$(jfield "$AUTH" '.documents | length')" 7
expect_eq "auth: juminhyo available" "$(jfield "$AUTH" '.documents[] | select(.type=="juminhyo") | .unavailable')" null
expect_eq "auth: koseki fee 450" "$(jfield "$AUTH" '.documents[] | select(.type=="koseki_zenbu") | .fee_yen')" 450
expect_eq "auth: certificate serial" "$(jfield "$AUTH" .certificate.serial)" \
    "$(sed -n 's/^serial=//p' "$P/cards/alice/info.txt")"
expect_eq "auth: not expiring soon" "$(jfield "$AUTH" .certificate.expires_soon)" false
check "auth: display name present" test -n "$(jfield "$AUTH" .resident.display_name)"
ALICE_SID=$SID
ALICE_RES=$(sql "select resident_id from sessions where id = '$SID'")
expect_eq "session authenticated with the card's hash" \
    "$(sql "select state || ' ' || cert_sha256 from sessions where id = '$SID'")" \
    "authenticated $(cert_sha alice)"
auth S0001-T01 alice
expect_eq "replayed auth: 409 session_used" "$(code_of "$AUTH") $(error_code "$AUTH")" "409 session_used"

# --- every document type, signed and bound ----------------------------------------
SID=$ALICE_SID
ALICE_SHA=$(cert_sha alice)
KEY_ID=$(openssl pkey -pubin -in "$T/docsign-pub.pem" -outform DER | sha256sum | cut -d' ' -f1)
REGCODE=$(sql "select register_code from residents where id = $ALICE_RES")
for doc in juminhyo juminhyo_kisai inkan koseki_zenbu koseki_kojin koseki_fuhyo tax_shotoku; do
	case $doc in
	juminhyo) opts='{"members":"all","head_relationship":true,"domicile":true}' ;;
	*) opts='{}' ;;
	esac
	k=$(newkey)
	issue S0001-T01 $doc "$opts" 2 "$k"
	expect_eq "$doc: 201" "$(code_of "$ISS")" 201
	check "$doc: signature verifies with the document key" verify_doc "$ISS"
	expect_eq "$doc: binding" \
	    "$(content_field '.binding.session_id + " " + .binding.cert_sha256 + " " + .binding.kiosk_id')" \
	    "$SID $ALICE_SHA S0001-T01"
	expect_eq "$doc: issuance id and type in content" \
	    "$(content_field '.issuance_id + " " + .document')" "$(jfield "$ISS" .issuance_id) $doc"
	# The document code: id, type, JST date of issue, content hash.
	when=$(content_field .issued_at)
	expect_eq "$doc: document code names this issuance and content" \
	    "$(jfield "$ISS" .code | cut -d';' -f1-5)" \
	    "KV1;$(jfield "$ISS" .issuance_id);$doc;$(TZ=Asia/Tokyo date -d "$when" +%Y%m%d);$(openssl dgst -sha256 -binary "$T/content.bin" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
	expect_eq "$doc: key id" "$(jfield "$ISS" .key_id)" "$KEY_ID"
	expect_eq "$doc: fee recorded for 2 copies" \
	    "$(sql "select fee_yen from issuances where public_id = '$(jfield "$ISS" .issuance_id)'")" \
	    "$(content_field .fee_yen)"
	check "$doc: no resident-register code in the content" \
	    test -n "$REGCODE" -a "$(grep -c "$REGCODE" "$T/content.bin")" = 0
	eval "ISS_$doc=\$(jfield \"\$ISS\" .issuance_id)"
done
expect_eq "juminhyo: fee 200 x 2" "$(sql "select fee_yen from issuances where public_id = '$ISS_juminhyo'")" 400
expect_eq "koseki: fee 450 x 2" "$(sql "select fee_yen from issuances where public_id = '$ISS_koseki_zenbu'")" 900
issue S0001-T01 juminhyo '{"members":"all","head_relationship":true}' 1 "$(newkey)"
verify_doc "$ISS"
expect_eq "juminhyo: whole household printed" "$(content_field '.body.members | length')" \
    "$(sql "select count(*) from residents where status = 'active' and household_id = (select household_id from residents where id = $ALICE_RES)")"
expect_eq "juminhyo: no My Number unless asked" "$(content_field '[.body.members[] | has("my_number")] | any')" false
issue S0001-T01 juminhyo '{"my_number":true}' 1 "$(newkey)"
verify_doc "$ISS"
expect_eq "juminhyo: My Number when asked" "$(content_field '.body.members[0].my_number')" \
    "$(sql "select my_number from residents where id = $ALICE_RES")"
issue S0001-T01 inkan '{}' 1 "$(newkey)"
verify_doc "$ISS"
check "inkan: seal image is a PNG" sh -c "jq -r .body.seal_image.data <'$T/content.bin' | base64 -d | head -c 4 | grep -q PNG"
# what the menu does not read, the documents print: every tax item, every
# register entry, every 附票 line
issue S0001-T01 tax_shotoku '{}' 1 "$(newkey)"
verify_doc "$ISS"
expect_eq "tax_shotoku: every item of the record" "$(content_field '.body.items | length')" \
    "$(sql "select count(*) from tax_items where tax_id = (select id from tax_records where resident_id = $ALICE_RES and fiscal_year = $(content_field .body.fiscal_year))")"
issue S0001-T01 koseki_zenbu '{}' 1 "$(newkey)"
verify_doc "$ISS"
expect_eq "koseki_zenbu: every entry of the register" "$(content_field '.body.entries | length')" \
    "$(sql "select count(*) from koseki_entries where koseki_id = (select koseki_id from residents where id = $ALICE_RES)")"
issue S0001-T01 koseki_fuhyo '{}' 1 "$(newkey)"
verify_doc "$ISS"
expect_eq "koseki_fuhyo: every 附票 line of the register" "$(content_field '[.body.entries[].addresses | length] | add')" \
    "$(sql "select count(*) from fuhyo_entries f join koseki_entries e on e.id = f.entry_id where e.koseki_id = (select koseki_id from residents where id = $ALICE_RES)")"

# --- idempotency and results ----------------------------------------------------------
k=$(newkey)
issue S0001-T01 juminhyo '{}' 1 "$k"
first=$ISS
issue S0001-T01 juminhyo '{"members":[],"my_number":false}' 1 "$k"
expect_eq "same key again: 200" "$(code_of "$ISS")" 200
expect_eq "same key again: same issuance" "$(jfield "$ISS" .issuance_id)" "$(jfield "$first" .issuance_id)"
expect_eq "same key again: identical content, signature and code" \
    "$(jfield "$ISS" '.content + .signature + .code')" "$(jfield "$first" '.content + .signature + .code')"
# a row without content (an older center's, or the two-step create): the
# key's next request builds that row's content once and stores it
k2=$(newkey)
issue S0001-T01 juminhyo '{}' 1 "$k2"
old_id=$(jfield "$ISS" .issuance_id)
sql "update issuances set content = NULL where idempotency_key = '$k2'"
issue S0001-T01 juminhyo '{}' 1 "$k2"
expect_eq "row without content: 200, the same issuance" "$(code_of "$ISS") $(jfield "$ISS" .issuance_id)" "200 $old_id"
check "row without content: the built document verifies" verify_doc "$ISS"
expect_eq "row without content: built for that row and this card" \
    "$(content_field '.issuance_id + " " + .binding.cert_sha256')" "$old_id $(cert_sha alice)"
rebuilt=$ISS
issue S0001-T01 juminhyo '{}' 1 "$k2"
expect_eq "row without content: stored once, then replayed byte for byte" \
    "$(jfield "$ISS" '.content + .signature') $(sql "select content is not null from issuances where idempotency_key = '$k2'")" \
    "$(jfield "$rebuilt" '.content + .signature') 1"
# ... and a row without content made between this request's read of its
# key and its own write (the database held locked meanwhile): the request
# runs again and answers with that row, its content built once
k3=$(newkey)
rm -f "$T/held"
sqlite3 -cmd '.timeout 5000' "$DB" "BEGIN IMMEDIATE;" \
    "INSERT INTO issuances (idempotency_key, public_id, session_id, kiosk_id, resident_id, document, options, copies, fee_yen, state, created_at, updated_at)
     SELECT '$k3', lower(hex(randomblob(16))), session_id, kiosk_id, resident_id, document, options, copies, fee_yen, 'issued', created_at, updated_at
     FROM issuances WHERE idempotency_key = '$k2';" \
    ".shell touch '$T/held'; sleep 2" "COMMIT;" &
held_pid=$!
i=0
while [ ! -e "$T/held" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
issue S0001-T01 juminhyo '{}' 1 "$k3"
wait "$held_pid"
expect_eq "raced row without content: 200 with that row" "$(code_of "$ISS") $(jfield "$ISS" .issuance_id)" \
    "200 $(sql "select public_id from issuances where idempotency_key = '$k3'")"
check "raced row without content: the built document verifies" verify_doc "$ISS"
check "raced row without content: the center ran the request again" \
    grep -q "issuance $(jfield "$ISS" .issuance_id): another builder's row has no content yet" "$T/center.log"
expect_eq "raced row without content: one row, its content stored" \
    "$(sql "select count(*) || ' ' || min(content is not null) from issuances where idempotency_key = '$k3'")" "1 1"
issue S0001-T01 juminhyo '{}' 2 "$k"
expect_eq "same key, other request: 409 idempotency_conflict" \
    "$(code_of "$ISS") $(error_code "$ISS")" "409 idempotency_conflict"
IID=$(jfield "$first" .issuance_id)
r=$(post S0001-T01 "/v1/issuances/$IID/result" '{"status":"printed","pages":1}')
expect_eq "result printed: committed" "$(code_of "$r") $(jfield "$r" .state)" "200 committed"
r=$(post S0001-T01 "/v1/issuances/$IID/result" '{"status":"printed","pages":1}')
expect_eq "result printed again: 200" "$(code_of "$r") $(jfield "$r" .state)" "200 committed"
r=$(post S0001-T01 "/v1/issuances/$IID/result" '{"status":"failed","pages":0}')
expect_eq "result failed after printed: 409" "$(code_of "$r") $(error_code "$r")" "409 result_conflict"
r=$(post S0001-T01 "/v1/issuances/$ISS_inkan/result" '{"status":"failed","pages":0}')
expect_eq "result failed: voided" "$(code_of "$r") $(jfield "$r" .state)" "200 voided"
expect_eq "states stored" "$(sql "select state from issuances where public_id in ('$IID', '$ISS_inkan') order by state")" \
    "committed
voided"
r=$(post S0002-T01 "/v1/issuances/$ISS_koseki_zenbu/result" '{"status":"printed","pages":1}')
expect_eq "result from another kiosk: 403 wrong_kiosk" "$(code_of "$r") $(error_code "$r")" "403 wrong_kiosk"
r=$(post S0001-T01 "/v1/issuances/0123456789abcdef0123456789abcdef/result" '{"status":"printed","pages":1}')
expect_eq "result for no issuance: 404" "$(code_of "$r") $(error_code "$r")" "404 not_found"

# --- sessions misused ---------------------------------------------------------------
new_session S0001-T01
issue S0001-T01 juminhyo '{}' 1 "$(newkey)"
expect_eq "issuance before auth: 409" "$(code_of "$ISS") $(error_code "$ISS")" "409 session_not_authenticated"
auth S0002-T01 alice
expect_eq "auth from another kiosk: 403 wrong_kiosk" "$(code_of "$AUTH") $(error_code "$AUTH")" "403 wrong_kiosk"
SID=$ALICE_SID
issue S0002-T01 juminhyo '{}' 1 "$(newkey)"
expect_eq "issuance from another kiosk: 403 wrong_kiosk" "$(code_of "$ISS") $(error_code "$ISS")" "403 wrong_kiosk"
new_session S0001-T01
auth S0001-T01 bob "$(sign_b64 bob "$(head -c 32 /dev/zero | base64 -w0)")"
expect_eq "signature over another challenge: 401" "$(code_of "$AUTH") $(error_code "$AUTH")" "401 signature_invalid"
auth S0001-T01 bob
expect_eq "right answer after a wrong one: 409 session_used" "$(code_of "$AUTH") $(error_code "$AUTH")" "409 session_used"
new_session S0001-T01
auth S0001-T01 bob "$(sign_b64 alice "$CHAL")"
expect_eq "signature by another card's key: 401" "$(code_of "$AUTH") $(error_code "$AUTH")" "401 signature_invalid"
new_session S0001-T01
auth S0001-T01 expired1
expect_eq "expired certificate: 403 cert_expired" "$(code_of "$AUTH") $(error_code "$AUTH")" "403 cert_expired"
new_session S0001-T01
auth S0001-T01 unbound
expect_eq "certificate of no resident: 403 unknown_certificate" "$(code_of "$AUTH") $(error_code "$AUTH")" "403 unknown_certificate"
"$PKI_BIN" revoke "$P" revoked1 >/dev/null
ocsp_query revoked1 >/dev/null	# the responder re-reads its index per connection
expect_eq "responder says revoked" "$(ocsp_query revoked1 | sed 's/.*: //')" revoked
new_session S0001-T01
auth S0001-T01 revoked1
expect_eq "revoked certificate: 403 cert_revoked" "$(code_of "$AUTH") $(error_code "$AUTH")" "403 cert_revoked"
stop_ocsp
new_session S0001-T01
auth S0001-T01 carol
expect_eq "OCSP responder down: 503 revocation_unavailable" "$(code_of "$AUTH") $(error_code "$AUTH")" "503 revocation_unavailable"
expect_eq "OCSP down: session not authenticated" "$(sql "select state from sessions where id = '$SID'")" failed
expect_eq "OCSP down: nothing issued for it" "$(sql "select count(*) from issuances where session_id = '$SID'")" 0
check "openssl ocsp responder restarted" start_ocsp

# --- eligibility refusals ---------------------------------------------------------
for c in "dv1 support_measures" "child1 under_15" "moved1 moved_out" "deceased1 deceased"; do
	set -- $c
	new_session S0001-T01
	auth S0001-T01 $1
	expect_eq "$1: 403 not_eligible $2" "$(code_of "$AUTH") $(error_code "$AUTH") $(reason "$AUTH")" "403 not_eligible $2"
done
for c in "noseal1 inkan seal_not_registered" "abolished1 inkan seal_abolished" \
    "elsewhere1 koseki_zenbu koseki_not_in_town" "foreign1 koseki_kojin koseki_foreign"; do
	set -- $c
	login S0001-T01 $1
	expect_eq "$1: auth lists $2 as $3" \
	    "$(jfield "$AUTH" '.documents[] | select(.type=="'$2'") | .unavailable.reason')" "$3"
	before=$(rows)
	issue S0001-T01 $2 '{}' 1 "$(newkey)"
	expect_eq "$1: $2 refused: not_eligible $3" "$(code_of "$ISS") $(error_code "$ISS") $(reason "$ISS")" "403 not_eligible $3"
	expect_eq "$1: no issuance row for the refusal" "$(rows)" "$before"
done
# 附票 lists every member's address: another member of alice's register
# under support measures takes it off her menu, and only it
other=$(sql "select e.resident_id from koseki_entries e join residents r on r.id = e.resident_id
    where e.koseki_id = (select koseki_id from residents where id = $ALICE_RES)
    and e.resident_id <> $ALICE_RES and r.support_measures = 0 limit 1")
check "alice's register has another resident member" test -n "$other"
sql "update residents set support_measures = 1 where id = $other"
login S0001-T01 alice
expect_eq "protected register member: auth lists koseki_fuhyo as support_measures, koseki_zenbu available" \
    "$(jfield "$AUTH" '[(.documents[] | select(.type=="koseki_fuhyo") | .unavailable.reason), (.documents[] | select(.type=="koseki_zenbu") | .unavailable)] | map(tostring) | join(" ")')" \
    "support_measures null"
before=$(rows)
issue S0001-T01 koseki_fuhyo '{}' 1 "$(newkey)"
expect_eq "protected register member: koseki_fuhyo refused" "$(code_of "$ISS") $(error_code "$ISS") $(reason "$ISS")" "403 not_eligible support_measures"
expect_eq "protected register member: no issuance row" "$(rows)" "$before"
sql "update residents set support_measures = 0 where id = $other"
login S0001-T01 alice
expect_eq "protection lifted: koseki_fuhyo offered again" \
    "$(jfield "$AUTH" '.documents[] | select(.type=="koseki_fuhyo") | .unavailable')" null
fy=$(jfield "$AUTH" '.documents[] | select(.type=="tax_shotoku") | .options.fiscal_year')
issue S0001-T01 tax_shotoku "{\"fiscal_year\":$((fy - 1))}" 1 "$(newkey)"
expect_eq "previous fiscal year: not_eligible tax_year_unavailable" "$(code_of "$ISS") $(reason "$ISS")" "403 tax_year_unavailable"
issue S0001-T01 juminhyo '{"members":[31]}' 1 "$(newkey)"
expect_eq "member index outside the household: 400" "$(code_of "$ISS") $(error_code "$ISS")" "400 bad_request"

# a second center on the same database: short challenges (4 s: a slow
# sanitizer build must still sign in within it), 戸籍 office closed,
# fewer documents
check "second center (challenge-ttl 4, koseki closed) starts" start_center "$PORT2" "$T/center2.log" \
    --challenge-ttl 4 --koseki-days none --documents juminhyo,koseki_zenbu,tax_shotoku
PORT_USE=$PORT2 login S0001-T01 alice
PORT_USE=$PORT2 issue S0001-T01 koseki_zenbu '{}' 1 "$(newkey)"
expect_eq "koseki outside office days: koseki_hours" "$(code_of "$ISS") $(reason "$ISS")" "403 koseki_hours"
PORT_USE=$PORT2 issue S0001-T01 inkan '{}' 1 "$(newkey)"
expect_eq "document not offered: no_document" "$(code_of "$ISS") $(reason "$ISS")" "403 no_document"
PORT_USE=$PORT2 new_session S0001-T01
sleep 5.2
PORT_USE=$PORT2 auth S0001-T01 alice
expect_eq "expired challenge: 410 challenge_expired" "$(code_of "$AUTH") $(error_code "$AUTH")" "410 challenge_expired"

# --- bad requests: right codes, no rows ------------------------------------------------
login S0001-T01 alice
before=$(rows)
r=$(post S0001-T01 /v1/sessions '{"x":1}')
expect_eq "unknown field: 400" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
r=$(post S0001-T01 /v1/sessions '{')
expect_eq "malformed JSON: 400" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
r=$(post S0001-T01 /v1/sessions '[]')
expect_eq "not an object: 400" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
r=$(req S0001-T01 POST "$PORT" /v1/sessions '{}' text/plain)
expect_eq "wrong content type: 415" "$(code_of "$r") $(error_code "$r")" "415 unsupported_media_type"
big=$(head -c 70000 /dev/zero | tr '\0' a)
r=$(post S0001-T01 /v1/sessions "{\"pad\":\"$big\"}")
expect_eq "oversized body: 413" "$(code_of "$r") $(error_code "$r")" "413 too_large"
r=$(req S0001-T01 GET "$PORT" /v1/sessions)
expect_eq "wrong method: 405" "$(code_of "$r") $(error_code "$r")" "405 method_not_allowed"
r=$(req S0001-T01 DELETE "$PORT" /v1/status)
expect_eq "wrong method on status: 405" "$(code_of "$r") $(error_code "$r")" "405 method_not_allowed"
r=$(req S0001-T01 GET "$PORT" /v2/nothing)
expect_eq "unknown path: 404" "$(code_of "$r") $(error_code "$r")" "404 not_found"
r=$(post S0001-T01 /v1/sessions/0123456789abcdef0123456789abcdef/auth '{"certificate":"AAAA","signature":"AAAA"}')
expect_eq "auth of no session: 404" "$(code_of "$r") $(error_code "$r")" "404 not_found"
r=$(post S0001-T01 "/v1/sessions/$SID/auth" '{"certificate":"not base64!","signature":"AAAA"}')
expect_eq "certificate not base64: 400" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
for b in '{"session_id":"'$SID'","document":"juminhyo","copies":0,"idempotency_key":"abcdefghijklmnop"}' \
    '{"session_id":"'$SID'","document":"juminhyo","copies":11,"idempotency_key":"abcdefghijklmnop"}' \
    '{"session_id":"'$SID'","document":"juminhyo","copies":"1","idempotency_key":"abcdefghijklmnop"}' \
    '{"session_id":"'$SID'","document":"passport","copies":1,"idempotency_key":"abcdefghijklmnop"}' \
    '{"session_id":"'$SID'","document":"juminhyo","copies":1,"idempotency_key":"short"}' \
    '{"session_id":"'$SID'","document":"juminhyo","copies":1,"idempotency_key":"abcdefghijklmnop","extra":true}' \
    '{"session_id":"'$SID'","document":"inkan","options":{"my_number":true},"copies":1,"idempotency_key":"abcdefghijklmnop"}' \
    '{"session_id":"'$SID'","document":"juminhyo","copies":1,"idempotency_key":"abcdefghijklmnop","copies":2}' \
    '{"document":"juminhyo","copies":1,"idempotency_key":"abcdefghijklmnop"}'; do
	r=$(post S0001-T01 /v1/issuances "$b")
	expect_eq "bad issuance request: 400 ($(printf '%s' "$b" | cut -c 44-100))" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
done
r=$(post S0001-T01 "/v1/issuances/$ISS_juminhyo/result" '{"status":"lost","pages":1}')
expect_eq "bad result status: 400" "$(code_of "$r") $(error_code "$r")" "400 bad_request"
expect_eq "bad requests stored nothing" "$(rows)" "$before"
expect_eq "center still serving after bad requests" "$(req_code S0001-T01 GET "$PORT" /v1/status)" 200

# --- TLS and kiosk identity --------------------------------------------------------
tls_refused() {
	curl -sS -o /dev/null --max-time 10 --cacert "$P/center-ca.crt" "$@" \
	    "https://127.0.0.1:$PORT/v1/status" 2>/dev/null
	[ $? -ne 0 ]
}
check "client certificate from another CA: refused" tls_refused --cert "$T/rogue.crt" --key "$T/rogue.key"
check "no client certificate: refused" tls_refused
check "TLS 1.2 client: refused" tls_refused --tls-max 1.2 \
    --cert "$P/kiosks/S0001-T01/kiosk.crt" --key "$P/kiosks/S0001-T01/kiosk.key"
expect_eq "kiosk S0009-T09 served before its revocation" "$(req_code S0009-T09 GET "$PORT" /v1/status)" 200
"$PKI_BIN" revoke-kiosk "$P" S0009-T09 >/dev/null
kill -HUP "$MAIN_PID"
revoked_refused() { [ "$(req_code S0009-T09 GET "$PORT" /v1/status)" = 000 ]; }
wait_until "$MAIN_PID" 50 revoked_refused
expect_eq "revoked kiosk refused after SIGHUP" "$(req_code S0009-T09 GET "$PORT" /v1/status)" 000
expect_eq "other kiosks still served" "$(req_code S0001-T01 GET "$PORT" /v1/status)" 200

# --- two processes, two kiosks, concurrent transactions --------------------------------
check "third center with two processes on the same port and database" \
    start_center "$PORT" "$T/center3.log" --processes 2
# one_tx N KIOSK CARD: one full transaction; prints "ok N" or "bad N why"
one_tx() {
	local n=$1 kiosk=$2 card=$3 sid name
	new_session "$kiosk" || { echo "bad $n session"; return; }
	sid=$SID
	auth "$kiosk" "$card"
	[ "$(code_of "$AUTH")" = 200 ] || { echo "bad $n auth $(code_of "$AUTH")"; return; }
	name=$(jfield "$AUTH" .resident.display_name)
	issue "$kiosk" juminhyo '{}' 1 "$(newkey)-$n"
	[ "$(code_of "$ISS")" = 201 ] || { echo "bad $n issue $(code_of "$ISS") $(error_code "$ISS")"; return; }
	jfield "$ISS" .content | base64 -d >"$T/c$n.json"
	jfield "$ISS" .signature | base64 -d >"$T/s$n.bin"
	openssl dgst -sha256 -verify "$DOCPUB" -signature "$T/s$n.bin" \
	    "$T/c$n.json" >/dev/null 2>&1 || { echo "bad $n signature"; return; }
	local b
	b=$(jq -r '.binding.session_id + " " + .binding.cert_sha256 + " " + .binding.kiosk_id + " " + .body.members[0].name' <"$T/c$n.json")
	[ "$b" = "$sid $(cert_sha "$card") $kiosk $name" ] || { echo "bad $n binding $b"; return; }
	echo "ok $n"
}
export -f one_tx new_session auth issue post req code_of error_code jfield newkey cert_b64 cert_sha sign_b64
DOCPUB=$T/docsign-pub.pem
export P T PORT B DOCPUB
cards=(alice bob dave erin frank)
: >"$T/tx.out"
for n in $(seq 1 40); do
	k=S0001-T01
	[ $((n % 2)) = 0 ] && k=S0002-T01
	echo "$n $k ${cards[$((n % 5))]}"
done | xargs -P 8 -L 1 bash -c 'T="$T/tx$0"; mkdir -p "$T"; one_tx "$0" "$1" "$2"' >"$T/tx.out" 2>&1
expect_eq "40 concurrent transactions from two kiosks all bound to their own session" \
    "$(grep -c '^ok ' "$T/tx.out")" 40
grep -v '^ok ' "$T/tx.out" | head -n 5 | sed 's/^/# /'
expect_eq "database: every issuance's kiosk and resident are its session's" \
    "$(sql "select count(*) from issuances i join sessions s on s.id = i.session_id where i.kiosk_id <> s.kiosk_id or i.resident_id <> s.resident_id")" 0
expect_eq "database: every issuance's content names its own session" \
    "$(sql "select count(*) from issuances where content is null or instr(content, cast('\"session_id\":\"' || session_id || '\"' as blob)) = 0")" 0
check "both processes of the third center answered" test \
    "$(grep -h -- '-> 201' "$T/center3.log" | sed -n 's/^kiosk-centerd\[\([0-9]*\)\].*/\1/p' | sort -u | wc -l)" -ge 2
# --- an OCSP responder that accepts and never answers ---------------------------------
# Workers ask the responder themselves, but never all of them: a reserve
# (a quarter, at least 2) does not, and the authentications past that
# wait for it in the fetch pool, off the workers.  With 4 workers and 6
# authentications waiting, a request that needs a worker is still
# answered at once, and each authentication ends with a clear refusal
# once the OCSP timeout has passed, nothing authenticated.
HPORT=$((OPORT + 10))
silent_pid=""
perl -MIO::Socket::INET -e '
	$| = 1;
	my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	    LocalPort => $ARGV[0], Listen => 64, ReuseAddr => 1)
	    or die "listen: $!\n";
	print "listening\n";
	my @held;
	while (my $c = $l->accept) { push @held, $c; print "accepted\n"; }
' "$HPORT" >"$T/silent.log" 2>&1 &
silent_pid=$!
lib_pids="$lib_pids $silent_pid"
silent_accepted() { [ "$(grep -c '^accepted' "$T/silent.log")" -ge "$1" ]; }
check "a responder that never answers listens" \
    wait_until "$silent_pid" 50 grep -q '^listening' "$T/silent.log"
stop_bg CPID
check "a center with 2 workers asking it (timeout 4 s, no cache) starts" \
    start_center "$PORT3" "$T/center4.log" --threads 2 --ocsp-threads 2 \
    --ocsp-cache-ttl 0 --ocsp "http://127.0.0.1:$HPORT" --ocsp-timeout 4000
# hang_auth CARD [LABEL [SIGNER]]: one authentication on the third port,
# its "SID CODE ERROR" in $T/hang-LABEL.out once answered
hang_auth() {
	local T="$T/hang-${2:-$1}" PORT_USE=$PORT3 sig=""
	mkdir -p "$T"
	if new_session S0001-T01; then
		[ -n "${3-}" ] && sig=$(sign_b64 "$3" "$CHAL")
		auth S0001-T01 "$1" $sig
	fi
	echo "$SID $(code_of "$AUTH") $(error_code "$AUTH")" >"$T.tmp"
	mv "$T.tmp" "$T.out"
}
answered() { for f in "$@"; do [ -e "$T/hang-$f.out" ] && echo "$f"; done | wc -l; }
# A refused answer uses its challenge up, durably, before the refusal is
# sent, but the worker does not wait for that commit: with the database
# held locked by another writer, 3 refusals wait and a request that
# needs a worker is still answered.
rm -f "$T/held"
sqlite3 -cmd '.timeout 5000' "$DB" "BEGIN IMMEDIATE;" \
    ".shell touch '$T/held'; sleep 3" "COMMIT;" &
held_pid=$!
i=0
while [ ! -e "$T/held" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
hang_pids=""
for a in "expired1 exp1" "expired1 exp2" "bob badsig alice"; do
	hang_auth $a &
	hang_pids="$hang_pids $!"
done
sleep 0.5	# the three reach the writer
R=$(PORT_USE=$PORT3 post S0002-T01 /v1/issuances '{"session_id":"0123456789abcdef0123456789abcdef","document":"juminhyo","options":{},"copies":1,"idempotency_key":"'"$(newkey)"'"}')
locked=$(kill -0 "$held_pid" 2>/dev/null && echo locked)
expect_eq "database locked: a request that needs a worker is answered (404) while 3 refusals wait for their commit" \
    "$(code_of "$R") $locked $(answered exp1 exp2 badsig)" "404 locked 0"
wait "$held_pid"
for p in $hang_pids; do wait "$p"; done
expect_eq "once the lock is gone: the refusals" \
    "$(cat "$T"/hang-exp1.out "$T"/hang-exp2.out "$T"/hang-badsig.out | cut -d' ' -f2- | sort | uniq -c | sed 's/^ *//' | paste -sd' ' -)" \
    "1 401 signature_invalid 2 403 cert_expired"
burned=$(cut -d' ' -f1 "$T"/hang-exp1.out "$T"/hang-exp2.out "$T"/hang-badsig.out | sed "s/.*/'&'/" | paste -sd, -)
expect_eq "... and their challenges used up (rows failed)" \
    "$(sql "select count(*) || ' ' || group_concat(distinct state) from sessions where id in ($burned)")" "3 failed"
rm -f "$T"/hang-*.out
stop_bg CPID
check "the same with 4 workers (2 may ask the responder themselves)" \
    start_center "$PORT3" "$T/center4.log" --threads 4 --ocsp-threads 2 \
    --ocsp-cache-ttl 0 --ocsp "http://127.0.0.1:$HPORT" --ocsp-timeout 4000
hang_cards="alice bob dave erin frank carol"
hang_pids=""
for c in $hang_cards; do
	hang_auth $c &
	hang_pids="$hang_pids $!"
done
check "the responder got the first queries" wait_until "$silent_pid" 40 silent_accepted 4
sleep 0.3	# the other two authentications reach their queue
R=$(PORT_USE=$PORT3 post S0002-T01 /v1/issuances '{"session_id":"0123456789abcdef0123456789abcdef","document":"juminhyo","options":{},"copies":1,"idempotency_key":"'"$(newkey)"'"}')
waiting=$(for c in $hang_cards; do [ -e "$T/hang-$c.out" ] || echo $c; done | wc -l)
expect_eq "a request that needs a worker is answered (404) while the 6 authentications still wait" \
    "$(code_of "$R") $waiting" "404 6"
expect_eq "GET /v1/status answered meanwhile too" "$(req_code S0002-T01 GET "$PORT3" /v1/status)" 200
expect_eq "the responder was asked 4 times at once: 2 workers, 2 pool threads" \
    "$(grep -c '^accepted' "$T/silent.log")" 4
for p in $hang_pids; do wait "$p"; done
expect_eq "each waiting authentication ends 503 revocation_unavailable" \
    "$(cat "$T"/hang-*.out | cut -d' ' -f2- | sort | uniq -c | sed 's/^ *//')" "6 503 revocation_unavailable"
hang_sids=$(cut -d' ' -f1 "$T"/hang-*.out | sed "s/.*/'&'/" | paste -sd, -)
expect_eq "their sessions failed, none authenticated, nothing issued" \
    "$(sql "select group_concat(distinct state) || ' ' || (select count(*) from issuances where session_id in ($hang_sids)) from sessions where id in ($hang_sids)")" "failed 0"
check "the center says the responder did not answer" \
    grep -q 'revocation status unavailable: OCSP: .*\(timeout\|in time\)' "$T/center4.log"
# stopping while authentications wait: they are answered, the center exits
rm -f "$T"/hang-*.out
hang_pids=""
asked=$(grep -c '^accepted' "$T/silent.log")
for c in alice bob; do
	hang_auth $c &
	hang_pids="$hang_pids $!"
done
check "two more queries reached the responder" wait_until "$silent_pid" 40 silent_accepted $((asked + 2))
kill "$CPID"
wait "$CPID" 2>/dev/null
for p in $hang_pids; do wait "$p"; done
expect_eq "stopped while waiting: both still answered 503 revocation_unavailable" \
    "$(cat "$T"/hang-*.out | cut -d' ' -f2- | sort | uniq -c | sed 's/^ *//')" "2 503 revocation_unavailable"
check "the center logged its OCSP queries on the way out" \
    grep -q 'ocsp: [0-9]* queries by the workers, [0-9]* by the pool' "$T/center4.log"
CPID=""
stop_bg silent_pid

check "no crash in the logs" sh -c "! grep -qi 'fatal\|segmentation\|abort' '$T'/center*.log"

exit $lib_failed
