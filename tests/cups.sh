# A private printing stack for the tests (sourced, POSIX sh): a D-Bus bus
# of its own (ippeveprinter wants a system bus even with -r off), an
# IPP Everywhere printer simulator (ippeveprinter) and a cupsd, all under
# one directory with a fresh spool.  The system's cupsd is never touched:
# ours listens on its own socket and port, and clients find it through
# CUPS_SERVER.
#
#	cups_start DIR [CUPSD_PORT [PRINTER_PORT [QUEUE]]]
#	cups_stop DIR
#
# cups_start exports:
#	CUPS_SERVER		our cupsd's socket (DIR/cups/cups.sock)
#	KIOSK_CUPSD_PORT	its TCP port on 127.0.0.1
#	KIOSK_PRINTER_QUEUE	the queue (raw: CUPS passes our PDF unchanged)
#	KIOSK_PRINTER_URI	the printer's own URI (ipp://localhost:PORT/ipp/print)
#	KIOSK_PRINTER_PORT	its port (web forms: media, supplies)
#	KIOSK_IPPEVE_SPOOL	where the printer's print command saves each
#				document exactly as received: SEQ-JOBNAME.pdf,
#				with SEQ.env (the job's IPP_* attributes); see
#				cups_printed_by_name
#	KIOSK_IPPEVE_CTL	control directory of the print command (faults)
#	DBUS_SYSTEM_BUS_ADDRESS	the private bus
#
# The queue is a raw queue on purpose: with a driverless ("everywhere") PPD,
# cupsd runs pdftopdf and the printer receives other bytes (rewritten, and
# possibly scaled, which would spoil the microtext).  cups_add_queue adds
# an "everywhere" queue too, for the raw-job path.
#
# Faults: cups_paper_out / cups_paper_reload / cups_paper_low,
# cups_toner_low / cups_toner_empty / cups_toner_ok, cups_jam_next (the next
# job jams: the print command writes "STATE: +media-jam" and fails),
# cups_jam_clear,
# cups_slow_jobs SECONDS (each job takes that long at the printer),
# cups_printer_kill / cups_printer_start (unreachable printer).

cups_log() {
	printf '%s\n' "cups: $*" >&2
}

# cups_wait_port PORT: until something listens on 127.0.0.1:PORT (10 s)
cups_wait_port() {
	_cw_i=0
	until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; do
		_cw_i=$((_cw_i + 1))
		[ $_cw_i -gt 200 ] && return 1
		sleep 0.05
	done
}

# The printer's print command: save the document and its attributes, or
# play a fault the tests asked for through files in the control directory.
cups_write_printcmd() {
	cat >"$1" <<'EOF'
#!/bin/sh
# ippeveprinter -c: $1 is the spooled document; IPP_* the job attributes.
# Documents are saved as SEQ-NAME.pdf with SEQ.env, SEQ counting every job
# this printer ran since cups_start (its own job ids restart with it).
d=$(dirname "$0")
ctl=$d/ctl
out=$d/out
if [ -f "$ctl/clear-jam" ]; then
	rm -f "$ctl/clear-jam"
	echo "STATE: -media-jam" >&2
	exit 0
fi
if [ -f "$ctl/slow" ]; then
	sleep "$(cat "$ctl/slow")"
fi
if [ -f "$ctl/jam-next" ]; then
	rm -f "$ctl/jam-next"
	echo "jammed job $IPP_JOB_NAME" >>"$ctl/jams"
	echo "STATE: +media-jam" >&2
	exit 1
fi
seq=$(( $(cat "$ctl/seq" 2>/dev/null || echo 0) + 1 ))
echo "$seq" >"$ctl/seq"
env | grep '^IPP_' | sort >"$out/.env.$seq"
cp "$1" "$out/.doc.$seq"
mv "$out/.env.$seq" "$out/$seq.env"
mv "$out/.doc.$seq" "$out/$seq-$(basename "$1" | sed 's/^[0-9]*-//')"
# what a printer engine reports: impressions = pages x copies
n=$(pdfinfo "$1" 2>/dev/null | sed -n 's/^Pages: *//p')
n=$(( ${n:-0} * ${IPP_COPIES:-1} ))
echo "ATTR: job-impressions-completed=$n" >&2
exit 0
EOF
	chmod 755 "$1"
}

# cups_mkpdf PAGES TEXT: a small valid A4 PDF on stdout
cups_mkpdf() {
	LC_ALL=C awk -v n="$1" -v text="$2" 'BEGIN {
		nobj = 3 + 2 * n
		out = "%PDF-1.4\n"
		o[1] = length(out)
		out = out "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
		kids = ""
		for (i = 0; i < n; i++)
			kids = kids (4 + 2 * i) " 0 R "
		o[2] = length(out)
		out = out "2 0 obj\n<< /Type /Pages /Kids [" kids "] /Count " n " >>\nendobj\n"
		o[3] = length(out)
		out = out "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n"
		for (i = 0; i < n; i++) {
			p = 4 + 2 * i
			c = p + 1
			s = "BT /F1 24 Tf 72 720 Td (" text " page " (i + 1) ") Tj ET"
			o[p] = length(out)
			out = out p " 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents " c " 0 R >>\nendobj\n"
			o[c] = length(out)
			out = out c " 0 obj\n<< /Length " length(s) " >>\nstream\n" s "\nendstream\nendobj\n"
		}
		x = length(out)
		out = out "xref\n0 " (nobj + 1) "\n0000000000 65535 f \n"
		for (i = 1; i <= nobj; i++)
			out = out sprintf("%010d 00000 n \n", o[i])
		out = out "trailer\n<< /Size " (nobj + 1) " /Root 1 0 R >>\nstartxref\n" x "\n%%EOF\n"
		printf "%s", out
	}'
}

# cups_printer_start [DIR]: (re)start ippeveprinter on KIOSK_PRINTER_PORT
cups_printer_start() {
	_d=${1:-$KIOSK_CUPS_DIR}
	(
		cd "$_d/ippeve" || exit 1
		DBUS_SYSTEM_BUS_ADDRESS="unix:path=$_d/dbus/system_bus_socket"
		export DBUS_SYSTEM_BUS_ADDRESS
		exec ippeveprinter -v -k -d "$_d/ippeve/spool" \
		    -p "$KIOSK_PRINTER_PORT" -n localhost -r off \
		    -f application/pdf,image/pwg-raster,image/urf \
		    -F application/pdf -c "$_d/ippeve/printcmd.sh" \
		    -m "Kiosk Test" -M Test kiosktest
	) >>"$_d/ippeve/log" 2>&1 &
	echo $! >"$_d/ippeve.pid"
	if ! cups_wait_port "$KIOSK_PRINTER_PORT"; then
		cups_log "ippeveprinter did not start; its log:"
		tail -n 20 "$_d/ippeve/log" >&2
		return 1
	fi
	# Both trays full of A4 (the simulator starts with Letter).
	cups_paper_reload
}

# cups_printer_kill [DIR]: the printer goes away (unplugged)
cups_printer_kill() {
	_d=${1:-$KIOSK_CUPS_DIR}
	[ -f "$_d/ippeve.pid" ] || return 0
	_p=$(cat "$_d/ippeve.pid")
	kill "$_p" 2>/dev/null
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$_p" 2>/dev/null
	rm -f "$_d/ippeve.pid"
}

cups_start() {
	_d=$1
	KIOSK_CUPSD_PORT=${2:-16431}
	KIOSK_PRINTER_PORT=${3:-16432}
	KIOSK_PRINTER_QUEUE=${4:-kiosk}
	KIOSK_CUPS_DIR=$_d
	export KIOSK_CUPS_DIR KIOSK_CUPSD_PORT KIOSK_PRINTER_PORT \
	    KIOSK_PRINTER_QUEUE
	rm -rf "$_d/cups" "$_d/ippeve" "$_d/dbus"
	mkdir -p "$_d/cups/etc" "$_d/cups/spool" "$_d/cups/tmp" \
	    "$_d/cups/state" "$_d/cups/cache" "$_d/cups/log" \
	    "$_d/ippeve/spool" "$_d/ippeve/out" "$_d/ippeve/ctl" "$_d/dbus" ||
	    return 1
	chmod 1777 "$_d/cups/tmp"
	# cupsd's backends run as lp and read the spooled job under DIR: every
	# directory above must be searchable (mktemp -d makes them 0700).
	_a=$(cd "$_d" && pwd)
	while [ -n "$_a" ] && [ "$_a" != / ]; do
		chmod o+x "$_a" 2>/dev/null
		_a=$(dirname "$_a")
	done
	# raw jobs (application/vnd.cups-raw) on a PPD queue: Debian's
	# postinst writes these into /etc/cups, not into a private ServerRoot
	printf 'application/octet-stream\n' >"$_d/cups/etc/raw.types"
	printf 'application/octet-stream\tapplication/vnd.cups-raw\t0\t-\n' \
	    >"$_d/cups/etc/raw.convs"
	cat >"$_d/cups/etc/cups-files.conf" <<EOF
ServerRoot $_d/cups/etc
RequestRoot $_d/cups/spool
TempDir $_d/cups/tmp
StateDir $_d/cups/state
CacheDir $_d/cups/cache
AccessLog $_d/cups/log/access_log
ErrorLog $_d/cups/log/error_log
PageLog $_d/cups/log/page_log
Printcap
SystemGroup root
LogFileGroup root
FileDevice Yes
EOF
	cat >"$_d/cups/etc/cupsd.conf" <<EOF
LogLevel debug
Listen 127.0.0.1:$KIOSK_CUPSD_PORT
Listen $_d/cups/cups.sock
Browsing Off
BrowseLocalProtocols none
DefaultAuthType None
WebInterface No
<Location />
Order allow,deny
Allow all
</Location>
<Policy default>
JobPrivateValues none
<Limit All>
Order deny,allow
</Limit>
</Policy>
EOF
	cups_write_printcmd "$_d/ippeve/printcmd.sh"
	cups_mkpdf 1 clear >"$_d/ippeve/ctl/clear.pdf"

	dbus-daemon --config-file=/usr/share/dbus-1/session.conf \
	    --address="unix:path=$_d/dbus/system_bus_socket" --fork \
	    --print-pid=3 --nosyslog 3>"$_d/dbus.pid" || {
		cups_log "dbus-daemon did not start"
		return 1
	}
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$_d/dbus/system_bus_socket"
	KIOSK_PRINTER_URI="ipp://localhost:$KIOSK_PRINTER_PORT/ipp/print"
	KIOSK_IPPEVE_SPOOL=$_d/ippeve/out
	KIOSK_IPPEVE_CTL=$_d/ippeve/ctl
	export KIOSK_PRINTER_URI KIOSK_IPPEVE_SPOOL KIOSK_IPPEVE_CTL
	cups_printer_start "$_d" || return 1

	cupsd -f -c "$_d/cups/etc/cupsd.conf" -s "$_d/cups/etc/cups-files.conf" \
	    >"$_d/cups/log/stdout" 2>&1 &
	echo $! >"$_d/cupsd.pid"
	export CUPS_SERVER=$_d/cups/cups.sock
	_i=0
	while [ ! -S "$CUPS_SERVER" ] || ! cups_wait_port "$KIOSK_CUPSD_PORT"; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$(cat "$_d/cupsd.pid")" 2>/dev/null; then
			cups_log "cupsd did not start; its log:"
			tail -n 20 "$_d/cups/log/error_log" "$_d/cups/log/stdout" >&2
			return 1
		fi
		sleep 0.1
	done
	# A raw queue: no -m (lpadmin warns that raw queues are deprecated).
	if ! lpadmin -p "$KIOSK_PRINTER_QUEUE" -E -v "$KIOSK_PRINTER_URI" \
	    -o printer-error-policy=abort-job >>"$_d/cups/log/lpadmin" 2>&1; then
		cups_log "lpadmin failed:"
		cat "$_d/cups/log/lpadmin" >&2
		return 1
	fi
	lpadmin -d "$KIOSK_PRINTER_QUEUE" >>"$_d/cups/log/lpadmin" 2>&1
	cups_log "cupsd up (socket $CUPS_SERVER, port $KIOSK_CUPSD_PORT), queue $KIOSK_PRINTER_QUEUE -> $KIOSK_PRINTER_URI"
}

# cups_add_queue NAME: a driverless ("everywhere") queue to the same printer
cups_add_queue() {
	lpadmin -p "$1" -E -v "$KIOSK_PRINTER_URI" -m everywhere \
	    -o printer-error-policy=abort-job >>"$KIOSK_CUPS_DIR/cups/log/lpadmin" 2>&1 ||
	    return 1
	# lpadmin returns before cupsd has loaded the new PPD and its filters:
	# a job sent earlier cannot be converted ("Unable to convert file")
	_i=0
	until grep -q "Printer \"$1\" is now available" \
	    "$KIOSK_CUPS_DIR/cups/log/error_log" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 200 ] && return 1
		sleep 0.05
	done
}

cups_stop() {
	_d=${1:-$KIOSK_CUPS_DIR}
	for _f in cupsd ippeve dbus; do
		[ -f "$_d/$_f.pid" ] || continue
		_p=$(cat "$_d/$_f.pid")
		# "|| true": callers may run under set -e (tools/demo)
		kill "$_p" 2>/dev/null || true
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -9 "$_p" 2>/dev/null || true
		rm -f "$_d/$_f.pid"
	done
}

# The printer's web forms (HTTP GET).  Both trays are listed every time:
# an omitted tray becomes empty.
cups_form() {
	curl -fsS -o /dev/null --max-time 5 \
	    "http://localhost:$KIOSK_PRINTER_PORT/$1"
}
cups_paper_out() {
	cups_form 'media?size1=iso_a4_210x297mm&level1=0&size3=iso_a4_210x297mm&level3=0'
}
cups_paper_reload() {
	cups_form 'media?size1=iso_a4_210x297mm&level1=250&size3=iso_a4_210x297mm&level3=25'
}
cups_paper_low() {
	cups_form 'media?size1=iso_a4_210x297mm&level1=5&size3=iso_a4_210x297mm&level3=5'
}
cups_toner_low() { cups_form 'supplies?supply0=25&supply1=5'; }
cups_toner_empty() { cups_form 'supplies?supply0=25&supply1=0'; }
cups_toner_ok() { cups_form 'supplies?supply0=25&supply1=75'; }
cups_jam_next() { : >"$KIOSK_IPPEVE_CTL/jam-next"; }
# cups_jam_clear: the operator cleared the jam (a job sent straight to the
# printer makes the print command write "STATE: -media-jam")
cups_jam_clear() {
	: >"$KIOSK_IPPEVE_CTL/clear-jam"
	ipptool -q -d filetype=application/pdf -f "$KIOSK_IPPEVE_CTL/clear.pdf" \
	    "$KIOSK_PRINTER_URI" /usr/share/cups/ipptool/print-job.test || return 1
	_i=0
	while [ -f "$KIOSK_IPPEVE_CTL/clear-jam" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.05
	done
	sleep 0.2
}
cups_slow_jobs() {
	if [ "${1:-0}" = 0 ]; then
		rm -f "$KIOSK_IPPEVE_CTL/slow"
	else
		echo "$1" >"$KIOSK_IPPEVE_CTL/slow"
	fi
}

# cups_printed_by_name NAME: the document the printer received for the job
# named NAME (the last one); fails when there is none
cups_printed_by_name() {
	_seq=$(grep -lx "IPP_JOB_NAME=$1" "$KIOSK_IPPEVE_SPOOL"/*.env 2>/dev/null |
	    sed 's,.*/,,; s,\.env$,,' | sort -n | tail -n 1)
	[ -n "$_seq" ] || return 1
	for _f in "$KIOSK_IPPEVE_SPOOL/$_seq"-*; do
		[ -f "$_f" ] && { echo "$_f"; return 0; }
	done
	return 1
}

# cups_printed_env NAME: the IPP_* attributes file of that document
cups_printed_env() {
	_f=$(cups_printed_by_name "$1") || return 1
	_b=$(basename "$_f")
	echo "$KIOSK_IPPEVE_SPOOL/${_b%%-*}.env"
}

# cups_printed_count [NAME]: documents the printer has printed (named NAME)
cups_printed_count() {
	if [ -n "${1:-}" ]; then
		grep -lx "IPP_JOB_NAME=$1" "$KIOSK_IPPEVE_SPOOL"/*.env 2>/dev/null |
		    wc -l
	else
		ls "$KIOSK_IPPEVE_SPOOL" | grep -c '\.env$'
	fi
}
