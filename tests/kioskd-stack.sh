# The kioskd stack for integration tests and benchmarks (sourced by
# tests/integration/kioskd.sh, exactly_once.sh and tests/bench/print after
# tests/lib.sh): the test PKI's OCSP responder, the center, kioskd with a
# generated configuration, the virtual card, the scripted resident, and the
# checks on what they left: the center's rows, the printer's documents, the
# coin box's ledger.
#
# Ports: CPORT and OPORT if set, else KIOSK_CENTER_PORT2 (18453) and
# KIOSK_OCSP_PORT4 (18892); the reader, the CUPS stack: tools/check's
# services (tests/services.sh).

CPORT=${CPORT:-${KIOSK_CENTER_PORT2:-18453}}
OPORT=${OPORT:-${KIOSK_OCSP_PORT4:-18892}}
R0=${KIOSK_READER0:?run through tools/check}
V0=${KIOSK_VPCD_PORT0:?run through tools/check}
QUEUE=${KIOSK_PRINTER_QUEUE:?run through tools/check}
. "$KIOSK_SRCDIR/tests/cups.sh"
KIOSKD=$B/kioskd/kioskd
RESIDENT=$B/kioskd/kiosk-resident
CENTERD=$B/center/kiosk-centerd
SEED=$B/center/kiosk-center-seed
RENDER=$B/printing/kiosk-render
COINBOX=$B/kioskd/kiosk-coinbox
P=$T/pki
DB=$T/town.db
SOCK=$T/ui.sock
ocsp_pid=""
center_pid=""
kioskd_pid=""

sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
cert_sha() { openssl x509 -in "$P/cards/$1/auth.crt" -outform DER | sha256sum | cut -d' ' -f1; }

ocsp_ok() {
	openssl ocsp -issuer "$P/auth-ca.crt" -cert "$P/cards/alice/auth.crt" \
	    -url "http://127.0.0.1:$OPORT" -CAfile "$P/auth-ca.crt" 2>&1 | grep -q "auth.crt:"
}
start_ocsp() {
	openssl ocsp -index "$P/index.txt" -port "$OPORT" -rsigner "$P/ocsp.crt" \
	    -rkey "$P/ocsp.key" -CA "$P/auth-ca.crt" -nmin 5 >>"$T/ocsp.log" 2>&1 &
	ocsp_pid=$!
	lib_pids="$lib_pids $ocsp_pid"
	wait_until "$ocsp_pid" 50 ocsp_ok
}
stop_ocsp() { stop_bg ocsp_pid; }

center_up() { (exec 3<>"/dev/tcp/127.0.0.1/$CPORT") 2>/dev/null; }
start_center() {
	"$CENTERD" -d -v --db "$DB" --listen "127.0.0.1:$CPORT" \
	    --cert "$P/center.crt" --key "$P/center.key" \
	    --client-ca "$P/fleet-ca.crt" --auth-roots "$P/auth-ca.crt" \
	    --ocsp "http://127.0.0.1:$OPORT" --ocsp-timeout 2000 \
	    --ocsp-cache-ttl 0 \
	    --doc-key "$P/docsign.key" --doc-cert "$P/docsign.crt" \
	    --service-hours 00:00-24:00 --koseki-days all \
	    --koseki-hours 00:00-24:00 --newyear-closed no \
	    >>"$T/center.log" 2>&1 &
	center_pid=$!
	lib_pids="$lib_pids $center_pid"
	wait_until "$center_pid" 100 center_up
}

# write_conf FILE HOURS (PRINT_TIMEOUT, JOB_TIMEOUT: default 60s)
write_conf() {
	cat >"$1" <<CONF
# kioskd integration test ($(basename "$1"))
kiosk-id "S0001-T01"
store-name "テスト店 1号機"
reader "$R0"
center {
	url "https://127.0.0.1:$CPORT"
	ca "$P/center-ca.crt"
	client-cert "$P/kiosks/S0001-T01/kiosk.crt"
	client-key "$P/kiosks/S0001-T01/kiosk.key"
	document-key "$P/docsign.crt"
	timeout 10s
}
hours $2
closed none
timeout select 30s
timeout card 20s
timeout read 20s
timeout pin 30s
timeout auth 30s
timeout options 30s
timeout issue 30s
timeout payment 30s
timeout print ${PRINT_TIMEOUT:-60s}
timeout remove 10s
timeout collect 2s
ui-socket "$SOCK" mode 0660
status-socket "$T/status.sock" mode 0600
journal "$T/journal.db"
payment coinbox "ledger=$T/coinbox.db"
printer "$QUEUE" {
	server "$CUPS_SERVER"
	uri "$KIOSK_PRINTER_URI"
	poll 1s
	job-timeout ${JOB_TIMEOUT:-60s}
}
CONF
}

kioskd_up() { [ -S "$SOCK" ] && card_worker_pid >/dev/null; }
start_kioskd() {
	"$KIOSKD" -d -v -f "$1" >>"$T/kioskd.log" 2>&1 &
	kioskd_pid=$!
	lib_pids="$lib_pids $kioskd_pid"
	wait_until "$kioskd_pid" 100 kioskd_up
}
stop_kioskd() { stop_bg kioskd_pid; }
card_worker_pid() { pgrep -P "$kioskd_pid" -x kioskd-card; }

# card NAME [kiosk-vcard options]: put NAME's card on the reader; APDUs in $T/NAME.apdu
card() {
	local n=$1 c=$P/cards/$1
	shift
	start_vcard "$V0" "$R0" "$T/$n.apdu" --cert "$c/auth.crt" --key "$c/auth.key" \
	    --ca "$P/auth-ca.crt" --pin 1234 "$@"
}

# resident NAME [kiosk-resident options]: output in $T/NAME.out; sets RC
resident() {
	local n=$1
	shift
	if [ -n "$kioskd_pid" ] && ! kill -0 "$kioskd_pid" 2>/dev/null; then
		not_ok "kioskd is still running (before $n)"
		tail -n 20 "$T/kioskd.log" | sed 's/^/# /'
		finish
	fi
	"$RESIDENT" --socket "$SOCK" --timeout 40 "$@" >"$T/$n.out" 2>"$T/$n.err"
	RC=$?
}
# last_screen NAME: the JSON of the last screen printed
last_screen() { sed -n 's/^screen [a-z_]* //p' "$T/$1.out" | tail -n 1; }
screen_field() { last_screen "$1" | jq -r "$2"; }
# kioskd back at the idle screen
wait_idle() { "$RESIDENT" --socket "$SOCK" --no-start --expect idle --timeout 20 >/dev/null 2>&1; }
count_rows() { sql "select (select count(*) from sessions) || '/' || (select count(*) from issuances)"; }
# issuance_state IID WANT: the center's row reaches WANT (settlement reports
# behind the resident's back) within 15 s
issuance_state() {
	local i=0 st
	while [ $i -lt 150 ]; do
		st=$(sql "select state from issuances where public_id = '$1'")
		[ "$st" = "$2" ] && { echo "$st"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	echo "$st"
}
# printed_matches IID: the printer received exactly the document kioskd
# renders from the center's stored content, code and this kiosk's id
printed_matches() {
	local f env code
	f=$(cups_printed_by_name "$1") || return 1
	sqlite3 "$DB" "select writefile('$T/env.bin', content) from issuances where public_id = '$1'" >/dev/null
	code=$(head -n 1 "$T/env.bin" | cut -d' ' -f4)
	tail -n +2 "$T/env.bin" >"$T/content.json"
	"$RENDER" --kiosk-id S0001-T01 --code "$code" "$T/content.json" "$T/rendered.pdf" >/dev/null || return 1
	cmp -s "$f" "$T/rendered.pdf"
}
coins() { "$COINBOX" --ledger "$T/coinbox.db" --summary; }
