# Services the tests need, each private to one run directory ($1): nothing of
# the system's pcscd is touched.  Sourced by tools/check, tools/demo and the
# benchmarks; services_start exports what clients need, services_stop ends
# everything it started.
#
# pcscd: a private instance in its own mount namespace with /run/pcscd bound
# to $RUN/pcsc/run (the daemon ignores PCSCLITE_CSOCK_NAME, clients honour it),
# with two vpcd readers: "Test VPCD 00 00" on TCP 40001, "00 01" on 40002.
# CUPS: see services_start_cups.

services_pids=""

services_log() {
	printf '%s\n' "services: $*" >&2
}

services_start_pcscd() {
	_run=$1
	mkdir -p "$_run/pcsc/run" "$_run/pcsc/reader.conf.d" /run/pcscd
	printf 'FRIENDLYNAME "Test VPCD"\nDEVICENAME /dev/null:0x9C41\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x9C41\n' \
	    >"$_run/pcsc/reader.conf.d/vpcd"
	unshare -m sh -c "mount --bind '$_run/pcsc/run' /run/pcscd && exec pcscd -f -c '$_run/pcsc/reader.conf.d'" \
	    >"$_run/pcscd.log" 2>&1 &
	echo $! >"$_run/pcscd.pid"
	services_pids="$services_pids $!"
	export PCSCLITE_CSOCK_NAME="$_run/pcsc/run/pcscd.comm"
	export KIOSK_READER0="Test VPCD 00 00" KIOSK_VPCD_PORT0=40001
	export KIOSK_READER1="Test VPCD 00 01" KIOSK_VPCD_PORT1=40002
	_i=0
	while [ ! -S "$PCSCLITE_CSOCK_NAME" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$(cat "$_run/pcscd.pid")" 2>/dev/null; then
			services_log "pcscd did not start; its log:"
			cat "$_run/pcscd.log" >&2
			return 1
		fi
		sleep 0.1
	done
	# vpcd listens once pcscd has loaded the driver
	_i=0
	until (exec 3<>/dev/tcp/127.0.0.1/40001) 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -gt 300 ] || ! kill -0 "$(cat "$_run/pcscd.pid")" 2>/dev/null; then
			# seen once on a busy machine: say why, for the next time
			services_log "vpcd port 40001 not listening after ${_i}00 ms; pcscd's log and the port:"
			tail -n 30 "$_run/pcscd.log" >&2
			ss -tanp 2>/dev/null | grep -E ':4000[12] ' >&2
			return 1
		fi
		sleep 0.1
	done
	services_log "pcscd up (socket $PCSCLITE_CSOCK_NAME, vpcd 40001/40002)"
}

# CUPS: a private cupsd + ippeveprinter (tests/cups.sh) on 127.0.0.1:16431
# and :16432, queue "kiosk"; exports CUPS_SERVER, KIOSK_PRINTER_QUEUE,
# KIOSK_PRINTER_URI, KIOSK_IPPEVE_SPOOL (the documents as the printer
# received them) and the rest cups_start lists.  Tests that inject faults
# start a stack of their own (tests/integration/print.sh).
services_start_cups() {
	. "$(dirname "${BASH_SOURCE:-$0}")/cups.sh" || return 1
	cups_start "$1/cups-stack" 16431 16432 kiosk || return 1
	services_cups_dir="$1/cups-stack"
}

services_start() {
	services_start_pcscd "$1" || return 1
	services_start_cups "$1"
}

services_stop() {
	if [ -n "${services_cups_dir:-}" ]; then
		cups_stop "$services_cups_dir"
		services_cups_dir=""
	fi
	for _p in $services_pids; do
		kill "$_p" 2>/dev/null || true
	done
	for _p in $services_pids; do
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -9 "$_p" 2>/dev/null || true
	done
	services_pids=""
}
