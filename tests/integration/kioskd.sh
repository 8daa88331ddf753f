# kioskd end to end through the real stack: kiosk-pki cards bound to
# residents (kiosk-center-seed), an `openssl ocsp` responder, kiosk-centerd
# over mutual TLS, kiosk-vcard in the private pcscd's vpcd reader, kioskd
# with a generated configuration, and kiosk-resident playing the resident
# on the UI socket.  Outcomes are asserted on the screens kiosk-resident
# printed, on the center's database (sqlite3) and on the APDUs the card
# logged, not on log lines.
#
# Documents come out of the private CUPS stack (tests/cups.sh through
# tools/check): the bytes the printer received are compared with the
# document rendered again from the center's stored content; the coin box
# simulator's ledger is counted against the center's fees.
#
# env: KIOSK_BUILDDIR, KIOSK_SRCDIR, KIOSK_TMP (tests/run); PCSCLITE_CSOCK_NAME,
# KIOSK_READER0, KIOSK_VPCD_PORT0, CUPS_SERVER, KIOSK_PRINTER_QUEUE,
# KIOSK_PRINTER_URI, KIOSK_IPPEVE_SPOOL (tools/check); KIOSK_CENTER_PORT2
# (default 18453), KIOSK_OCSP_PORT4 (default 18892).

. "$KIOSK_SRCDIR/tests/lib.sh"
. "$KIOSK_SRCDIR/tests/kioskd-stack.sh"

for tool in sqlite3 openssl jq pgrep; do
	command -v $tool >/dev/null || { not_ok "$tool is installed"; finish; }
done
for bin in "$KIOSKD" "$RESIDENT" "$CENTERD" "$SEED" "$RENDER" "$COINBOX"; do
	[ -x "$bin" ] || { not_ok "built: $bin"; finish; }
done

# --- fixtures -----------------------------------------------------------------
setup_pki() {
	local n
	"$PKI_BIN" init "$P" >/dev/null || return 1
	for n in alice bob carol dan dv1 erin frank gina revoked1; do
		"$PKI_BIN" card "$P" $n >/dev/null || return 1
	done
	"$PKI_BIN" card "$P" expired1 --issued 2001-01-01 >/dev/null || return 1
	"$PKI_BIN" kiosk "$P" S0001-T01 >/dev/null || return 1
	"$SEED" "$DB" --certs "$P" >"$T/seed.out" || return 1
	"$PKI_BIN" revoke "$P" revoked1 >/dev/null || return 1
}
check "test PKI, cards and a seeded town" setup_pki
grep -q '^card alice -> resident' "$T/seed.out" || { not_ok "cards bound to residents"; finish; }


check "openssl ocsp responder answers" start_ocsp
check "kiosk-centerd starts" start_center

write_conf "$T/kioskd.conf" "00:00 - 24:00"
"$KIOSKD" -n -f "$T/kioskd.conf" >"$T/n.out" 2>&1
expect_eq "kioskd -n: exit 0" "$?" 0
check "kioskd -n prints the configuration normalised" grep -q '^kiosk-id "S0001-T01"$' "$T/n.out"
printf 'bogus yes\n' >"$T/bad.conf"
"$KIOSKD" -n -f "$T/bad.conf" >"$T/nbad.out" 2>&1
expect_eq "kioskd -n with a bad file: exit 1" "$?" 1
check "kioskd -n names file:line" grep -q "bad.conf:1:" "$T/nbad.out"

check "kioskd starts, UI socket and card worker up" start_kioskd "$T/kioskd.conf"
expect_eq "UI socket mode 0660" "$(stat -c %a "$SOCK")" 660

# --- the UI protocol: hello first, bad input answered to that client only -----
cat >"$T/proto.script" <<'S'
send {"v":1,"cmd":"ping"}
send not json
error bad_json
send {"cmd":"fly"}
error bad_command
send {"v":2,"cmd":"start"}
error unsupported_version
send {"cmd":"pin","pin":"1234"}
error not_allowed
send {"cmd":"select","document":"juminhyo","extra":1}
error bad_field
S
resident proto --script "$T/proto.script"
expect_eq "protocol errors answered, one each" "$RC" 0
expect_eq "first message is hello v1, controlling" \
    "$(head -n 1 "$T/proto.out" | sed 's/^hello //' | jq -r '.type + " " + (.v|tostring) + " " + .role')" \
    "hello 1 control"
expect_eq "then the current screen" "$(sed -n 2p "$T/proto.out" | cut -d' ' -f1-2)" "screen idle"
expect_eq "ping answered" "$(grep -c '^pong ' "$T/proto.out")" 1
printf 'send %s\nerror line_too_long\nsleep 1\nsend {"cmd":"ping"}\nwait never\n' \
    "$(head -c 9000 /dev/zero | tr '\0' x)" >"$T/long.script"
resident long --script "$T/long.script" --timeout 10
expect_eq "an oversized line: error, then that client is dropped" \
    "$RC $(grep -c '"code":"line_too_long"' "$T/long.out")" "3 1"
printf 'sleep 2\n' >"$T/hold.script"
controllers() { grep -c 'ui: client [0-9]* connected (control)' "$T/kioskd.log"; }
before=$(controllers)
"$RESIDENT" --socket "$SOCK" --script "$T/hold.script" >"$T/hold.out" 2>&1 &
hold=$!
# the holder reads its hello only after its sleep: kioskd's log says when
# it took control
hold_controls() { [ "$(controllers)" -gt "$before" ]; }
wait_until "$hold" 50 hold_controls
printf 'send {"cmd":"start"}\nerror not_controller\n' >"$T/watch.script"
resident watch --script "$T/watch.script"
expect_eq "a second client watches and may not act" "$RC $(head -n 1 "$T/watch.out" | sed 's/^hello //' | jq -r .role)" "0 watch"
wait $hold
check "kioskd survived the malformed clients" kill -0 "$kioskd_pid"

# --- every document type, issued and verified -----------------------------------
ALICE=$(cert_sha alice)
i=0
for doc in juminhyo juminhyo_kisai inkan koseki_zenbu koseki_kojin koseki_fuhyo tax_shotoku; do
	card alice || { not_ok "alice's card inserted"; break; }
	before=$(sql "select count(*) from issuances")
	case $doc in
	juminhyo) resident "alice-$doc" --document $doc --pin 1234 --copies 2 \
	    --options '{"members":"all","head_relationship":true}' ;;
	*) resident "alice-$doc" --document $doc --pin 1234 ;;
	esac
	expect_eq "$doc: the resident reaches issued" "$RC" 0
	expect_eq "$doc: issued screen for the document" "$(screen_field "alice-$doc" .data.document)" "$doc"
	iid=$(screen_field "alice-$doc" .data.issuance_id)
	expect_eq "$doc: one issuance row more" "$(sql "select count(*) from issuances")" $((before + 1))
	expect_eq "$doc: the row is this issuance, for this kiosk" \
	    "$(sql "select document || ' ' || kiosk_id from issuances where public_id = '$iid'")" \
	    "$doc S0001-T01"
	expect_eq "$doc: printed, then committed at the center" "$(issuance_state "$iid" committed)" committed
	expect_eq "$doc: the printer received one job for it" "$(cups_printed_count "$iid")" 1
	check "$doc: the bytes at the printer are the document rendered from the signed content" printed_matches "$iid"
	expect_eq "$doc: its session was authenticated with alice's card" \
	    "$(sql "select s.state || ' ' || s.cert_sha256 from issuances i join sessions s on s.id = i.session_id where i.public_id = '$iid'")" \
	    "authenticated $ALICE"
	check "$doc: the screens went through every state" grep -q '^screen verifying ' "$T/alice-$doc.out"
	check "$doc: paid before issuing, printed before issued" \
	    sh -c "grep -o '^screen [a-z_]*' '$T/alice-$doc.out' | uniq | tr '\n' ' ' | grep -q 'paying screen issuing screen verifying screen printing screen issued'"
	expect_eq "$doc: one VERIFY with data" "$(apdu_count "$T/alice.apdu" '^0020008004')" 1
	expect_eq "$doc: never the signature certificate, key or password" \
	    "$(apdu_count "$T/alice.apdu" '^00A4020C02(0001|001A|001B)$')" 0
	expect_eq "$doc: card unpowered after the PIN session" \
	    "$(grep -A3 -E '^C: 802A0080' "$T/alice.apdu" | grep -c '^EV: power-off')" 1
	stop_vcard
	check "$doc: card taken, back to idle" wait_idle
	rm -f "$T/alice.apdu" "$T/alice.apdu.out"
	i=$((i + 1))
done
expect_eq "juminhyo: 2 copies recorded" "$(sql "select copies from issuances where document = 'juminhyo' order by rowid desc limit 1")" 2
fees=$(sql "select sum(fee_yen) from issuances where state = 'committed'")
expect_eq "the coin box took exactly the committed fees, no refund" "$(coins | cut -d' ' -f1-3)" "taken=$fees refunded=0 net=$fees"
expect_eq "the PIN never reached a log or a screen" "$(pin_seen 1234 "$T"/alice-*.out "$T"/alice-*.err "$T/kioskd.log")" 0

# --- wrong PIN, then the right one -------------------------------------------------
cat >"$T/wrong-right.script" <<'S'
wait idle
start
wait select
select juminhyo
wait wait_pin
pin 9999
wait wait_pin
pin 1234
wait options
options juminhyo {} 1
wait options
confirm
wait issued
S
card bob
resident bob --script "$T/wrong-right.script"
expect_eq "wrong then right PIN: issued" "$RC" 0
expect_eq "after the wrong PIN the screen says 2 tries and why" \
    "$(grep '^screen wait_pin ' "$T/bob.out" | sed -n 2p | sed 's/^screen wait_pin //' | jq -r '(.data.tries_left|tostring) + " " + .data.error.code')" \
    "2 pin_wrong"
expect_eq "two VERIFYs with data reached the card" "$(apdu_count "$T/bob.apdu" '^0020008004')" 2
expect_eq "bob: one authenticated session" "$(sql "select count(*) from sessions where cert_sha256 = '$(cert_sha bob)' and state = 'authenticated'")" 1
stop_vcard
wait_idle

# --- three wrong PINs: the last needs a confirmation; then the card is blocked --------
cat >"$T/block.script" <<'S'
wait idle
start
wait select
select juminhyo
wait wait_pin
pin 1111
wait wait_pin
pin 2222
wait wait_pin
pin 3333
error confirm_last_try
pin 3333 confirm
wait aborted:pin_blocked
S
printf 'kiosk-vcard-state 1\nauth-tries 3\nsign-tries 5\n' >"$T/carol.state"
card carol --state "$T/carol.state"
resident carol --script "$T/block.script"
expect_eq "three wrong PINs: aborted pin_blocked" "$RC" 0
check "the last try was announced on the screen" \
    grep -q '"last_try":true' "$T/carol.out"
check "the blocked screen gives the city-hall advice" \
    sh -c "grep '^screen aborted ' '$T/carol.out' | grep -q 'municipal office'"
expect_eq "exactly three VERIFYs with data" "$(apdu_count "$T/carol.apdu" '^0020008004')" 3
rows=$(count_rows)
resident carol-again --pin 1234 --expect aborted:pin_blocked
expect_eq "blocked card, next session: refused with pin_blocked" "$RC" 0
expect_eq "no VERIFY with data after the card was blocked" "$(apdu_count "$T/carol.apdu" '^0020008004')" 3
expect_eq "blocked card: the center was not even asked" "$(count_rows)" "$rows"
stop_vcard
wait_idle

# --- the center refuses: expired, revoked, revocation unknown, not eligible ----------
refused() {
	local name=$1 code=$2 rows
	rows=$(count_rows)
	card "$name" || { not_ok "$name: card"; return; }
	resident "$name" --pin 1234 --expect "aborted:$code"
	expect_eq "$name: aborted with $code" "$RC" 0
	check "$name: the screen carries the message in both languages" \
	    test -n "$(screen_field "$name" '.data.message')" -a -n "$(screen_field "$name" '.data.message_ja')"
	expect_eq "$name: no issuance" "$(count_rows | cut -d/ -f2)" "$(echo "$rows" | cut -d/ -f2)"
	expect_eq "$name: the center's session failed" \
	    "$(sql "select state from sessions order by created_at desc, rowid desc limit 1")" failed
	stop_vcard
	wait_idle
}
refused expired1 cert_expired
refused revoked1 cert_revoked
refused dv1 not_eligible
expect_eq "not eligible: the reason is on the screen" "$(screen_field dv1 .data.reason)" support_measures
stop_ocsp
refused dan revocation_unavailable
check "openssl ocsp responder restarted" start_ocsp

# --- the card leaves the reader mid-session ----------------------------------------------
cat >"$T/remove.script" <<'S'
wait idle
start
wait select
select juminhyo
wait wait_pin
wait aborted:card_removed
S
card erin
rows=$(count_rows)
"$RESIDENT" --socket "$SOCK" --timeout 40 --script "$T/remove.script" >"$T/erin.out" 2>"$T/erin.err" &
rpid=$!
n=0
until grep -q '^screen wait_pin ' "$T/erin.out" 2>/dev/null || [ $n -gt 200 ]; do sleep 0.1; n=$((n + 1)); done
stop_vcard
wait $rpid
expect_eq "card removed at the PIN screen: aborted card_removed" "$?" 0
expect_eq "card removed: no VERIFY was sent" "$(apdu_count "$T/erin.apdu" '^0020008004')" 0
expect_eq "card removed: no issuance" "$(count_rows | cut -d/ -f2)" "$(echo "$rows" | cut -d/ -f2)"
wait_idle

# --- the card worker killed mid-session -----------------------------------------------------
card frank
old=$(card_worker_pid)
sed 's/^wait aborted:card_removed$/wait aborted:card_worker_died/' "$T/remove.script" >"$T/kill.script"
"$RESIDENT" --socket "$SOCK" --timeout 40 --script "$T/kill.script" >"$T/frank.out" 2>"$T/frank.err" &
rpid=$!
n=0
until grep -q '^screen wait_pin ' "$T/frank.out" 2>/dev/null || [ $n -gt 200 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 "$old"
wait $rpid
expect_eq "card worker SIGKILLed at the PIN screen: session aborted card_worker_died" "$?" 0
n=0
until [ -n "$(card_worker_pid)" ] && [ "$(card_worker_pid)" != "$old" ] || [ $n -gt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "the card worker was restarted (new pid)" test -n "$(card_worker_pid)" -a "$(card_worker_pid)" != "$old"
wait_idle
resident frank-next --pin 1234
expect_eq "the next session after the restart is issued" "$RC" 0
stop_vcard
wait_idle

# --- the smartphone (Android) token: the certificate only after the PIN ------------------------
rm -f "$T/erin.apdu" "$T/erin.apdu.out"
card erin --token android
resident erin-phone --pin 1234
expect_eq "smartphone token: the resident reaches issued" "$RC" 0
iid=$(screen_field erin-phone .data.issuance_id)
expect_eq "smartphone token: authenticated with the phone's certificate" \
    "$(sql "select s.cert_sha256 from issuances i join sessions s on s.id = i.session_id where i.public_id = '$iid'")" \
    "$(cert_sha erin)"
v=$(apdus "$T/erin.apdu" | grep -n -m1 -E '^0020008004' | cut -d: -f1)
c=$(apdus "$T/erin.apdu" | grep -n -m1 -E '^00A4020C02000A' | cut -d: -f1)
check "smartphone token: the certificate was selected only after VERIFY" \
    test -n "$v" -a -n "$c" -a "${v:-0}" -lt "${c:-0}"
check "smartphone token: the document printed" printed_matches "$iid"
stop_vcard
wait_idle

# --- SIGHUP: a new configuration reaches the workers once no session is in flight -----------
backend_pid() { pgrep -P "$kioskd_pid" -x kioskd-backend; }
# wait_workers OLD_BACKEND: a new backend worker, and kioskd idle again
wait_workers() {
	local n=0
	until [ -n "$(backend_pid)" ] && [ "$(backend_pid)" != "$1" ] || [ $n -gt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	wait_idle
}
DEAD=$((CPORT + 97))	# nothing listens there
old=$(backend_pid)
sed -i "s|url \"https://127.0.0.1:$CPORT\"|url \"https://127.0.0.1:$DEAD\"|" "$T/kioskd.conf"
kill -HUP "$kioskd_pid"
wait_workers "$old"
check "SIGHUP: the backend worker was started again (new pid)" test -n "$(backend_pid)" -a "$(backend_pid)" != "$old"
check "SIGHUP: kioskd logged the restart for the new configuration" \
    grep -q "restarting the workers with the new configuration" "$T/kioskd.log"
card frank
rows=$(count_rows)
resident frank-hup --pin 1234 --expect aborted:center_unreachable
expect_eq "SIGHUP: the next session uses the new center address (unreachable)" "$RC" 0
expect_eq "SIGHUP: nothing reached the old center" "$(count_rows)" "$rows"
stop_vcard
wait_idle
old=$(backend_pid)
sed -i "s|url \"https://127.0.0.1:$DEAD\"|url \"https://127.0.0.1:$CPORT\"|" "$T/kioskd.conf"
kill -HUP "$kioskd_pid"
wait_workers "$old"
card frank
resident frank-hup2 --pin 1234
expect_eq "SIGHUP back: the next session is issued by the center again" "$RC" 0
stop_vcard
wait_idle

# --- outside service hours: refused before the card or the center ---------------------------
stop_kioskd
h=$(TZ=Asia/Tokyo date +%H)
write_conf "$T/closed.conf" "$(printf '%02d:00 - %02d:00' $(( (10#$h + 2) % 24 )) $(( (10#$h + 3) % 24 )))"
check "kioskd restarts with hours that exclude now" start_kioskd "$T/closed.conf"
card gina
rows=$(count_rows)
resident gina --pin 1234 --expect aborted:service_hours
expect_eq "outside service hours: refused with service_hours" "$RC" 0
expect_eq "outside service hours: refused at the checking step" "$(screen_field gina .data.during)" checking
expect_eq "outside service hours: no center session" "$(count_rows)" "$rows"
expect_eq "outside service hours: the card was not read" "$(apdu_count "$T/gina.apdu" '^00A4')" 0
stop_vcard
stop_kioskd
check "kioskd removed its UI socket on exit" test ! -e "$SOCK"

finish
