# Shared helpers for the integration tests (bash).  Sourced by each
# tests/integration/*.sh; tests/run provides KIOSK_BUILDDIR, KIOSK_SRCDIR and
# a private KIOSK_TMP, tools/check the pcscd environment (tests/services.sh).

: "${KIOSK_BUILDDIR:?run through tests/run}"
: "${KIOSK_TMP:?run through tests/run}"
B=$KIOSK_BUILDDIR
S=$KIOSK_SRCDIR
T=$KIOSK_TMP
PKI_BIN=$B/certs/kiosk-pki
VCARD_BIN=$B/tests/vcard/kiosk-vcard
CARD_BIN=$B/kioskd/card/kiosk-card
lib_failed=0
lib_pids=""

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; lib_failed=1; }

# check NAME CMD...: ok when CMD succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', want '$3')"
	fi
}

# value KEY FILE: the value of a "key: value" line
value() {
	sed -n "s/^$1: //p" "$2" | head -n 1
}

# wait_until PID TRIES CMD...: run CMD every 0.1 s until it succeeds (0),
# at most TRIES times; 1 as soon as process PID is gone, or on timeout
wait_until() {
	local pid=$1 tries=$2 i=0
	shift 2
	while [ $i -lt "$tries" ]; do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stop_bg VAR: stop the background process whose pid is in $VAR, clear VAR
stop_bg() {
	local pid=${!1}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	printf -v "$1" '%s' ""
}

lib_cleanup() {
	local p
	for p in $lib_pids; do kill "$p" 2>/dev/null; done
	for p in $lib_pids; do wait "$p" 2>/dev/null; done
	lib_pids=""
}
trap lib_cleanup EXIT

# reader_has_card READER: pcscd reports a card present in READER (no APDU sent)
reader_has_card() {
	opensc-tool -l 2>/dev/null | grep -F "$1" | grep -q ' Yes '
}

# start_vcard PORT READER LOG [kiosk-vcard options...]: insert a virtual card
# and wait until pcscd sees it.  Sets VCARD_PID.
start_vcard() {
	local port=$1 reader=$2 log=$3 i=0
	shift 3
	"$VCARD_BIN" --port "$port" --log "$log" "$@" >>"$log.out" 2>&1 &
	VCARD_PID=$!
	lib_pids="$lib_pids $VCARD_PID"
	until reader_has_card "$reader"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$VCARD_PID" 2>/dev/null; then
			echo "start_vcard: card did not appear in '$reader'" >&2
			cat "$log.out" >&2 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
}

# stop_vcard: remove the card and wait until pcscd has noticed
stop_vcard() {
	local reader=${1:-$KIOSK_READER0} i=0
	[ -n "${VCARD_PID:-}" ] || return 0
	kill "$VCARD_PID" 2>/dev/null
	wait "$VCARD_PID" 2>/dev/null
	VCARD_PID=""
	while reader_has_card "$reader"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}

# apdus LOG: the C-APDUs the card saw, one per line
apdus() {
	sed -n 's/^C: //p' "$1"
}

# pin_seen PIN FILE...: how many lines of the files hold PIN as a number of
# its own.  Random hex (session ids, hashes) holds any four digits now and
# then: "0cb21234..." is not a leak, while "pin":"1234" or "PIN 1234" is.
pin_seen() {
	local pin=$1
	shift
	cat "$@" | grep -Ec "(^|[^0-9A-Za-z])$pin([^0-9A-Za-z]|\$)"
}

finish() {
	lib_cleanup
	exit $lib_failed
}

# apdu_count LOG ERE: how many C-APDUs the card saw match ERE
apdu_count() {
	apdus "$1" | grep -Ec "$2"
}

# apdu_before LOG ERE: the C-APDU sent just before the first one matching ERE
apdu_before() {
	apdus "$1" | grep -E -B1 -m1 "$2" | head -n 1
}

# apdu_after LOG ERE: the C-APDU sent just after the first one matching ERE
apdu_after() {
	apdus "$1" | grep -E -A1 -m1 "$2" | sed -n 2p
}
