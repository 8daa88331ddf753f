# Exactly once, across faults, through the real stack (kioskd-stack.sh):
# the printer out of paper before payment and during a job, a jam, kioskd
# killed with SIGKILL right after each journal step and started again, and
# the center down while a crashed transaction is settled.  Every case ends
# in exactly one of: printed, committed at the center and the fee kept; or
# nothing printed, voided (or never issued) and the fee refunded -- asserted
# on the kiosk's journal, the center's rows, the documents the printer
# received and the coin box's ledger.
#
# env: as tests/integration/kioskd.sh.

. "$KIOSK_SRCDIR/tests/lib.sh"
. "$KIOSK_SRCDIR/tests/kioskd-stack.sh"

for bin in "$KIOSKD" "$RESIDENT" "$CENTERD" "$SEED" "$RENDER" "$COINBOX"; do
	[ -x "$bin" ] || { not_ok "built: $bin"; finish; }
done

setup_pki() {
	"$PKI_BIN" init "$P" >/dev/null || return 1
	"$PKI_BIN" card "$P" alice >/dev/null || return 1
	"$PKI_BIN" kiosk "$P" S0001-T01 >/dev/null || return 1
	"$SEED" "$DB" --certs "$P" >"$T/seed.out" || return 1
}
check "test PKI and a seeded town" setup_pki

J=$T/journal.db
jsql() { sqlite3 -cmd '.timeout 5000' "$J" "$1"; }
unfinished() { jsql "select count(*) from tx where finished_at is null"; }
# settled: every journal row finished within 40 s
settled() {
	local i=0
	while [ $i -lt 400 ]; do
		[ "$(unfinished 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# the last transaction of the journal: "<last step> <answer> <reason>"
last_tx() { jsql "select id, issuance_id, idem_key from tx order by id desc limit 1"; }
# money: taken and refunded so far (yen)
money() { coins | sed 's/ takes=.*//'; }
taken() { coins | sed 's/.*taken=\([0-9]*\).*/\1/'; }
refunded() { coins | sed 's/.*refunded=\([0-9]*\).*/\1/'; }

# outcome NAME: check the last transaction ended in exactly one outcome and
# print "printed" or "voided"; FEE is the fee of one juminhyo
FEE=200
outcome() {
	local row id iid key st printed docs t0 r0
	row=$(jsql "select id || '|' || ifnull(issuance_id, '') || '|' || idem_key || '|' || ifnull(printed_at, 0) || '|' || ifnull(refunded_yen, 0) || '|' || ifnull(paid_yen, 0) || '|' || ifnull(answer, 0) from tx order by id desc limit 1")
	IFS='|' read -r id iid key printed refunded_row paid answer <<EOF
$row
EOF
	if [ -n "$iid" ]; then
		st=$(sql "select state from issuances where public_id = '$iid'")
		docs=$(cups_printed_count "$iid")
	else
		st=$(sql "select count(*) from issuances where idempotency_key = '$key'")
		[ "$st" = 0 ] && st=absent
		docs=0
	fi
	if [ "$printed" != 0 ]; then
		[ "$st" = committed ] && [ "$docs" = 1 ] && [ "$refunded_row" = 0 ] &&
		    [ "$answer" = 1 ] && { echo printed; return; }
	else
		case $st in voided | absent) ;; *) echo "bad: center $st"; return ;; esac
		[ "$docs" = 0 ] || { echo "bad: $docs documents printed"; return; }
		[ "$paid" = 0 ] || [ "$refunded_row" = "$paid" ] ||
		    { echo "bad: paid $paid refunded $refunded_row"; return; }
		echo voided
		return
	fi
	echo "bad: printed=$printed center=$st docs=$docs refunded=$refunded_row answer=$answer"
}

check "openssl ocsp responder answers" start_ocsp
check "kiosk-centerd starts" start_center
PRINT_TIMEOUT=8s write_conf "$T/kioskd.conf" "00:00 - 24:00"
check "kioskd starts" start_kioskd "$T/kioskd.conf"
card alice || { not_ok "alice's card inserted"; finish; }

# --- the printer out of paper before the resident pays ----------------------------
cups_paper_out
n=0
until "$RESIDENT" --socket "$SOCK" --no-start --expect idle --timeout 5 >"$T/oos.out" 2>&1 &&
    grep '^screen idle ' "$T/oos.out" | tail -n 1 | grep -q '"in_service":false' || [ $n -gt 20 ]; do
	sleep 0.5
	n=$((n + 1))
done
expect_eq "paper out: the idle screen says out of service, with the reason" \
    "$(grep '^screen idle ' "$T/oos.out" | tail -n 1 | sed 's/^screen idle //' | jq -r '(.data.in_service|tostring) + " " + .data.printer.reason')" \
    "false media_empty"
rows=$(count_rows)
printf 'send {"v":1,"cmd":"start"}\nerror out_of_service\n' >"$T/oos.script"
resident oos-start --script "$T/oos.script"
expect_eq "paper out: Start refused (out_of_service)" "$RC" 0
expect_eq "paper out: no fee taken" "$(taken)" 0
expect_eq "paper out: the center was not asked" "$(count_rows)" "$rows"
cups_paper_reload
resident back --pin 1234
expect_eq "paper reloaded: back in service by itself, a document issued" "$RC" 0
expect_eq "paper reloaded: printed, committed, fee kept" "$(settled && outcome)" printed
stop_vcard
wait_idle
card alice

# --- paper runs out during the job, reloaded: it completes, counted once ----------
# paper_out_mid [RESIDENT OPTIONS]: a session in the background; the paper
# runs out right after the kiosk's last readiness check (the paying screen)
# and before the job reaches the printer.  1 when the job still beat it
# (the race is lost: that session is wound up and the caller tries again);
# sets rpid and iid.
paper_out_mid() {
	local n=0
	"$RESIDENT" --socket "$SOCK" --timeout 60 --pin 1234 "$@" >"$T/mid.out" 2>&1 &
	rpid=$!
	until grep -q '^screen paying ' "$T/mid.out" 2>/dev/null || [ $n -gt 3000 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	cups_paper_out
	n=0
	until grep -q '^screen printing .*"spooled":true' "$T/mid.out" 2>/dev/null ||
	    ! kill -0 $rpid 2>/dev/null || [ $n -gt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	sleep 1
	iid=$(jsql "select issuance_id from tx order by id desc limit 1")
	[ "$(cups_printed_count "$iid")" = 0 ] && return 0
	echo "# the job reached the printer before the paper ran out: again"
	cups_paper_reload
	wait $rpid
	settled
	stop_vcard
	wait_idle
	card alice
	return 1
}
tries=1
until paper_out_mid || [ $tries -ge 4 ]; do tries=$((tries + 1)); done
sleep 1
expect_eq "paper out during the job: the job waits, nothing printed yet" "$(cups_printed_count "$iid")" 0
cups_paper_reload
wait $rpid
expect_eq "paper reloaded during the job: the resident gets the document" "$?" 0
expect_eq "paper reloaded during the job: printed once, committed, fee kept" "$(settled && outcome)" printed
stop_vcard
wait_idle
card alice

# --- paper out during the job, not reloaded in time: print timeout --------------
# The session gives up (print_timeout); settlement cancels the job in CUPS
# and at the printer.  A printer that drops the job: voided and refunded.
# ippeveprinter keeps a job that waits for paper even after Cancel-Job
# (successful-ok, still processing), so it may print later: then nothing
# is refunded or voided while it may, and once the paper is back it prints
# once and is committed.  Either way, one outcome.
tries=1
until paper_out_mid --expect aborted:print_timeout || [ $tries -ge 4 ]; do tries=$((tries + 1)); done
before=$(refunded)
wait $rpid
expect_eq "paper not reloaded in time: the session ends with print_timeout" "$?" 0
iid=$(jsql "select issuance_id from tx order by id desc limit 1")
sleep 3
if [ "$(unfinished)" = 1 ]; then
	expect_eq "job still at the printer: no refund while it may print" "$(refunded)" "$before"
	expect_eq "job still at the printer: neither committed nor voided" \
	    "$(sql "select state from issuances where public_id = '$iid'")" issued
	cups_paper_reload
	check "paper back: settled" settled
	expect_eq "paper back: printed once and committed, fee kept" "$(outcome)" printed
	expect_eq "paper back: one document at the printer" "$(cups_printed_count "$iid")" 1
else
	expect_eq "job dropped by the printer: voided and refunded" "$(outcome)" voided
	expect_eq "job dropped by the printer: the fee came back" "$(refunded)" $((before + FEE))
	cups_paper_reload
	sleep 3
	expect_eq "paper back: the cancelled job never prints" "$(cups_printed_count "$iid")" 0
fi
stop_vcard
wait_idle
card alice

# --- a jam: the job fails, voided and refunded ------------------------------------
before=$(refunded)
cups_jam_next
resident jam --pin 1234 --expect aborted:print_failed
expect_eq "jam: the session ends with print_failed" "$RC" 0
expect_eq "jam: the screen names the jam" "$(screen_field jam .data.reason)" media_jam
check "jam: settled" settled
expect_eq "jam: voided and refunded" "$(outcome)" voided
expect_eq "jam: the fee came back" "$(refunded)" $((before + FEE))
cups_jam_clear
stop_vcard
wait_idle

# --- SIGKILL right after each journal step, then a restart -------------------------
# crash STEP [RESIDENT OPTIONS]: kioskd dies right after STEP is durable;
# started again, it settles the transaction by itself
crash() {
	local step=$1 n=0
	shift
	stop_kioskd
	KIOSKD_CRASH_AFTER=$step start_kioskd "$T/kioskd.conf" || return 1
	card alice || return 1
	"$RESIDENT" --socket "$SOCK" --timeout 30 --pin 1234 "$@" >"$T/crash-$step.out" 2>&1
	while kill -0 "$kioskd_pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	kill -0 "$kioskd_pid" 2>/dev/null && return 1
	wait "$kioskd_pid" 2>/dev/null
	kioskd_pid=""
	stop_vcard
	return 0
}
# after_crash: what the printer does while kioskd is down, then a restart
after_crash() {
	local iid
	iid=$(jsql "select ifnull(issuance_id, '') from tx order by id desc limit 1")
	# a job already at CUPS runs to its end meanwhile
	[ -n "$iid" ] && for _ in $(seq 1 50); do
		[ "$(cups_printed_count "$iid")" = 1 ] && break
		sleep 0.1
	done
	start_kioskd "$T/kioskd.conf"
}
for step in created paid issuing issued spooling spooled printed; do
	check "crash after $step: kioskd killed itself at that step" crash $step
	expect_eq "crash after $step: the transaction is unfinished" "$(unfinished)" 1
	check "crash after $step: kioskd restarts" after_crash
	check "crash after $step: settled after the restart" settled
	case $step in
	spooled | printed) want=printed ;;
	*) want=voided ;;
	esac
	expect_eq "crash after $step: exactly one outcome ($want)" "$(outcome)" $want
done
# the failure path's own steps: a jam, and a crash after each
for step in failed refunded reported; do
	cups_jam_next
	check "jam, crash after $step: kioskd killed itself" crash $step
	check "jam, crash after $step: kioskd restarts" after_crash
	check "jam, crash after $step: settled after the restart" settled
	expect_eq "jam, crash after $step: voided and refunded once" "$(outcome)" voided
	cups_jam_clear
done
t=$(jsql "select count(*) from tx")
expect_eq "every transaction finished, none twice" "$(unfinished)" 0
expect_eq "the coin box agrees with the journal: kept = printed fees" \
    "$(coins | sed 's/.*net=\([0-9]*\).*/\1/')" \
    "$(jsql "select ifnull(sum(paid_yen), 0) - ifnull(sum(refunded_yen), 0) from tx")"
expect_eq "the center agrees: committed = printed in the journal" \
    "$(sql "select count(*) from issuances where state = 'committed'")" \
    "$(jsql "select count(*) from tx where printed_at is not null")"
expect_eq "no refund of a printed document" \
    "$(jsql "select count(*) from tx where printed_at is not null and refunded_at is not null")" 0

# --- the center down while a crashed transaction is settled ------------------------
check "crash after printed (center to go down)" crash printed
stop_center_now() { kill "$center_pid" 2>/dev/null; wait "$center_pid" 2>/dev/null; center_pid=""; }
stop_center_now
check "kioskd restarts with the center down" start_kioskd "$T/kioskd.conf"
sleep 3
expect_eq "center down: the transaction waits, nothing lost" "$(unfinished)" 1
expect_eq "center down: not reported yet" "$(jsql "select ifnull(answer, 0) from tx order by id desc limit 1")" 0
check "kiosk-centerd back" start_center
check "center back: settled by the retries" settled
expect_eq "center back: printed and committed once" "$(outcome)" printed

stop_kioskd
finish
