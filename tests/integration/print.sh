#!/bin/bash
# Printing through a private cupsd + ippeveprinter (tests/cups.sh), with
# kiosk-print: the bytes that reach the printer are the PDF we submitted;
# paper out, paper out during a job, jam, toner, an unreachable printer or
# cupsd, and an unknown job each give the answer the kiosk needs.
#
# The stack is this test's own (ports 16441/16442), so its faults never
# leak into the shared services of the run.
. "$KIOSK_SRCDIR/tests/lib.sh"
. "$KIOSK_SRCDIR/tests/cups.sh"

PRINT=$B/printing/kiosk-print
Q=printtest

stack=$T/stack
mkdir -p "$stack"
if ! cups_start "$stack" 16441 16442 "$Q" 2>"$T/cups_start.log"; then
	cat "$T/cups_start.log"
	not_ok "private CUPS stack starts"
	finish
fi
stop_stack() {
	cups_stop "$stack"
	lib_cleanup
}
trap stop_stack EXIT
ok "private CUPS stack starts"

kp() {
	"$PRINT" --queue "$Q" --timeout 5 "$@"
}

# --- ready, one document, exactly these bytes ---------------------------

kp --state >"$T/state0" 2>&1
expect_eq "fresh printer: --state exits 0" "$?" 0
expect_eq "fresh printer: ready" "$(value ready "$T/state0")" yes
expect_eq "fresh printer: reason ok" "$(value reason "$T/state0")" ok
expect_eq "fresh printer: toner level from printer-supply" \
    "$(value toner "$T/state0")" 75

cups_mkpdf 3 "Kiosk test" >"$T/doc.pdf"
kp --job-name ISS-A "$T/doc.pdf" >"$T/printA" 2>&1
expect_eq "3-page PDF: kiosk-print exits 0" "$?" 0
expect_eq "3-page PDF: completed" "$(value state "$T/printA")" completed
expect_eq "3-page PDF: 3 pages counted" "$(value pages "$T/printA")" 3
expect_eq "3-page PDF: outcome printed" "$(value outcome "$T/printA")" printed
expect_eq "3-page PDF: sent as application/pdf (the queue takes it)" \
    "$(value format "$T/printA")" application/pdf
f=$(cups_printed_by_name ISS-A)
check "3-page PDF: the printer received exactly our bytes" \
    cmp -s "$T/doc.pdf" "$f"
env=$(cups_printed_env ISS-A)
check "3-page PDF: job-name is the issuance id" \
    grep -qx "IPP_JOB_NAME=ISS-A" "$env"
check "3-page PDF: media A4 at the printer" \
    grep -qx "IPP_MEDIA=iso_a4_210x297mm" "$env"
echo "# timing ISS-A: accepted $(value accepted-ms "$T/printA") ms, completed $(value done-ms "$T/printA") ms"

kp --job-name ISS-B --copies 2 "$T/doc.pdf" >"$T/printB" 2>&1
expect_eq "2 copies: completed" "$(value state "$T/printB")" completed
expect_eq "2 copies: 6 impressions" "$(value pages "$T/printB")" 6
f=$(cups_printed_by_name ISS-B)
check "2 copies: one document with copies=2 at the printer" \
    grep -qx "IPP_COPIES=2" "$(cups_printed_env ISS-B)"
check "2 copies: the same bytes" cmp -s "$T/doc.pdf" "$f"
echo "# timing ISS-B: accepted $(value accepted-ms "$T/printB") ms, completed $(value done-ms "$T/printB") ms"

# A driverless queue would run pdftopdf over our PDF; sent raw, CUPS
# passes the bytes and the printer senses PDF.
if cups_add_queue drvless; then
	"$PRINT" --queue drvless --format raw --job-name ISS-RAW "$T/doc.pdf" \
	    >"$T/printRaw" 2>&1
	expect_eq "driverless queue, raw: completed" \
	    "$(value state "$T/printRaw")" completed
	check "driverless queue, raw: the printer received our bytes" \
	    cmp -s "$T/doc.pdf" "$(cups_printed_by_name ISS-RAW)"
else
	not_ok "lpadmin -m everywhere (driverless queue)"
fi

kp --find ISS-A >"$T/findA" 2>&1
expect_eq "find by name: one job" "$(value count "$T/findA")" 1
expect_eq "find by name: its id" "$(value job-id "$T/findA")" \
    "$(value job-id "$T/printA")"
kp --find NO-SUCH-ISSUANCE >"$T/find0" 2>&1
expect_eq "find an unknown name: exit 4" "$?" 4
expect_eq "find an unknown name: count 0" "$(value count "$T/find0")" 0

kp --job 99999 >"$T/job0" 2>&1
expect_eq "unknown job id: exit 4" "$?" 4
expect_eq "unknown job id: says so" "$(value error "$T/job0")" "unknown job"
kp --job "$(value job-id "$T/printA")" >"$T/jobA" 2>&1
expect_eq "known job id: completed" "$(value state "$T/jobA")" completed

# --- paper ------------------------------------------------------------------

cups_paper_out
kp --state --lang ja >"$T/state_out" 2>&1
expect_eq "paper out: --state exits 1" "$?" 1
expect_eq "paper out: not ready" "$(value ready "$T/state_out")" no
expect_eq "paper out: reason media-empty" \
    "$(value reason "$T/state_out")" media-empty
expect_eq "paper out: message in Japanese" \
    "$(value message "$T/state_out")" "用紙切れです。A4用紙を補充してください。"

# a job submitted now waits for paper, then prints once after the reload
kp --job-name ISS-WAIT --wait 60 "$T/doc.pdf" >"$T/printWait" 2>&1 &
waiter=$!
lib_pids="$lib_pids $waiter"
i=0
until [ -n "$(value job-id "$T/printWait")" ] || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
jid=$(value job-id "$T/printWait")
i=0
waiting=no
while [ $i -lt 100 ]; do
	kp --job "$jid" >"$T/jobWait" 2>&1
	case $(value reasons "$T/jobWait") in
	*media-needed*) waiting=yes; break ;;
	esac
	sleep 0.1
	i=$((i + 1))
done
expect_eq "paper out during a job: the job waits with media-needed" \
    "$waiting" yes
expect_eq "paper out during a job: still processing" \
    "$(value state "$T/jobWait")" processing
expect_eq "paper out during a job: nothing printed yet" \
    "$(cups_printed_count ISS-WAIT)" 0
kp --state >"$T/state_wait" 2>&1
expect_eq "paper out during a job: state media-empty" \
    "$(value reason "$T/state_wait")" media-empty
cups_paper_reload
wait "$waiter"
expect_eq "after the reload: kiosk-print exits 0" "$?" 0
expect_eq "after the reload: completed" \
    "$(value state "$T/printWait")" completed
expect_eq "after the reload: printed once" \
    "$(cups_printed_count ISS-WAIT)" 1
check "after the reload: the same bytes" \
    cmp -s "$T/doc.pdf" "$(cups_printed_by_name ISS-WAIT)"
kp --state >"$T/state_back" 2>&1
expect_eq "after the reload: ready" "$(value ready "$T/state_back")" yes

cups_paper_low
kp --state >"$T/state_low" 2>&1
expect_eq "paper low: still ready (exit 0)" "$?" 0
expect_eq "paper low: reason media-low" "$(value reason "$T/state_low")" \
    media-low
cups_paper_reload

# --- jam ------------------------------------------------------------------------

cups_jam_next
kp --job-name ISS-JAM "$T/doc.pdf" >"$T/printJam" 2>&1
expect_eq "jam: kiosk-print exits 1" "$?" 1
# CUPS says canceled (at printer) or, when its ipp backend loses the race
# with the printer, completed with media-jam among the job's reasons
expect_eq "jam: outcome failed (media-jam)" "$(value outcome "$T/printJam")" \
    "failed (media-jam)"
case $(value reasons "$T/printJam") in
*media-jam*) ok "jam: the reason says media-jam" ;;
*) not_ok "jam: reasons $(value reasons "$T/printJam")" ;;
esac
expect_eq "jam: nothing printed" "$(cups_printed_count ISS-JAM)" 0
check "jam: the print command saw the job" grep -q ISS-JAM \
    "$KIOSK_IPPEVE_CTL/jams"
kp --state >"$T/state_jam" 2>&1
expect_eq "jam: --state says media-jam" "$(value reason "$T/state_jam")" \
    media-jam
expect_eq "jam: not ready" "$(value ready "$T/state_jam")" no
cups_jam_clear
kp --state >"$T/state_unjam" 2>&1
expect_eq "jam cleared: ready" "$(value ready "$T/state_unjam")" yes

# --- toner ------------------------------------------------------------------

cups_toner_low
kp --state >"$T/state_tl" 2>&1
expect_eq "toner low: ready (exit 0)" "$?" 0
expect_eq "toner low: reason toner-low" "$(value reason "$T/state_tl")" \
    toner-low
expect_eq "toner low: level 5" "$(value toner "$T/state_tl")" 5
cups_toner_empty
kp --state >"$T/state_te" 2>&1
expect_eq "toner empty: exit 1" "$?" 1
expect_eq "toner empty: reason toner-empty" \
    "$(value reason "$T/state_te")" toner-empty
cups_toner_ok
kp --state >"$T/state_tok" 2>&1
expect_eq "toner replaced: ready" "$(value ready "$T/state_tok")" yes

# --- unreachable ------------------------------------------------------------

cups_printer_kill
kp --state >"$T/state_off" 2>&1
expect_eq "printer unreachable: exit 1" "$?" 1
expect_eq "printer unreachable: reason offline" \
    "$(value reason "$T/state_off")" offline
kp --state --printer ipp://localhost:16449/ipp/print >"$T/state_off2" 2>&1
expect_eq "no printer at the given URI: offline" \
    "$(value reason "$T/state_off2")" offline
cups_printer_start "$stack"
kp --state >"$T/state_on" 2>&1
expect_eq "printer back: ready" "$(value ready "$T/state_on")" yes

"$PRINT" --server "$T/no-such.sock" --queue "$Q" --state >"$T/state_nocups" 2>&1
expect_eq "cupsd unreachable: --state exit 1" "$?" 1
expect_eq "cupsd unreachable: offline" "$(value reason "$T/state_nocups")" \
    offline
"$PRINT" --server "$T/no-such.sock" --queue "$Q" --job-name ISS-X \
    "$T/doc.pdf" >"$T/print_nocups" 2>&1
expect_eq "cupsd unreachable: submit exits 3" "$?" 3
expect_eq "cupsd unreachable: submit says so" \
    "$(value error "$T/print_nocups")" "CUPS unreachable"
"$PRINT" --queue no-such-queue --job-name ISS-Y "$T/doc.pdf" \
    >"$T/print_noq" 2>&1
expect_eq "no such queue: says so" "$(value error "$T/print_noq")" \
    "no such queue"
printf 'not a pdf' >"$T/bad.pdf"
kp --job-name ISS-Z "$T/bad.pdf" >"$T/print_bad" 2>&1
expect_eq "not a PDF: refused before CUPS" "$(value error "$T/print_bad")" \
    "invalid argument"

finish
