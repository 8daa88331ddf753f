# kiosk-load end to end: 10 kiosks x 200 transactions against two
# kiosk-centerd instances on one database and one port, with injected
# faults (client timeouts, dropped connections, replays with the same
# idempotency key, centers killed and restarted).  Asserts the tool's own
# verdict (its last line and exit status), checks the database with
# sqlite3 independently of the tool, and shows that the tool can fail:
# --self-test-corrupt checks one document against another card and must
# end in wrong_person=1 and a non-zero exit.
#
# env: KIOSK_BUILDDIR, KIOSK_SRCDIR, KIOSK_TMP (tests/run);
# KIOSK_LOAD_PORT (default 18460; +1 is the OCSP responder).

. "$KIOSK_SRCDIR/tests/lib.sh"

PORT=${KIOSK_LOAD_PORT:-18460}
LOAD=$B/tools/kiosk-load/kiosk-load
PKI=$T/pki
W=$T/work

[ -x "$LOAD" ] || { not_ok "kiosk-load built at $LOAD"; exit 1; }
for tool in openssl sqlite3; do
	command -v $tool >/dev/null || { not_ok "$tool is installed"; exit 1; }
done

# run_load OUT [kiosk-load options...]: sets RC; stdout in OUT, stderr in OUT.err
run_load() {
	local out=$1
	shift
	timeout -k 5 100 "$LOAD" --bindir "$B" --pki "$PKI" --workdir "$W" \
	    --port "$PORT" -q "$@" >"$out" 2>"$out.err" </dev/null
	RC=$?
}
# field NAME FILE: the number after "NAME=" on the last line of FILE
field() { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
sql() { sqlite3 -cmd '.timeout 5000' "$W/town.db" "$1"; }

# --- 1: the faulted run ----------------------------------------------------
# -v: the centers log every request, which shows both of them served
run_load "$T/run1.out" --kiosks 10 --transactions 200 --centers 2 --faults \
    --fault-rate 0.08 --kill-interval 400 --restart-delay 200 --seed 7 --json \
    --center-arg=-v --trace "$T/trace"
expect_eq "faulted run exits 0" "$RC" 0
if [ "$RC" -ne 0 ]; then
	sed 's/^/# /' "$T/run1.out" "$T/run1.out.err" | tail -n 40
fi
check "last line has the summary format" grep -Eq \
    '^transactions=[0-9]+ tps=[0-9.]+ p50_ms=[0-9.]+ p99_ms=[0-9.]+ wrong_person=[0-9]+ lost=[0-9]+ duplicated=[0-9]+$' \
    <(tail -n 1 "$T/run1.out")
expect_eq "all 200 transactions done" "$(field transactions "$T/run1.out")" 200
expect_eq "wrong_person=0" "$(field wrong_person "$T/run1.out")" 0
expect_eq "lost=0" "$(field lost "$T/run1.out")" 0
expect_eq "duplicated=0" "$(field duplicated "$T/run1.out")" 0

faults=$(sed -n 's/^faults: //p' "$T/run1.out")
n_cancel=$(printf '%s' "$faults" | sed -n 's/^\([0-9]*\) client timeouts.*/\1/p')
n_drop=$(printf '%s' "$faults" | sed -n 's/.* \([0-9]*\) dropped connections.*/\1/p')
n_replay=$(printf '%s' "$faults" | sed -n 's/.* \([0-9]*\) replays.*/\1/p')
n_kill=$(printf '%s' "$faults" | sed -n 's/.* \([0-9]*\) center kills.*/\1/p')
check "client timeouts were injected ($n_cancel)" test "${n_cancel:-0}" -ge 1
check "connections were dropped ($n_drop)" test "${n_drop:-0}" -ge 1
check "requests were replayed with the same key ($n_replay)" test "${n_replay:-0}" -ge 1
check "centers were killed and restarted ($n_kill)" test "${n_kill:-0}" -ge 1
check "the run was reconciled against the database" grep -q \
    '^database: 200 issuances of this run' "$T/run1.out"
# 10 kiosks x 2 cards: the first 20 (each card's first authentication,
# its OCSP query) are done and checked but left out of rate and latency
j=$(grep '^{' "$T/run1.out" | tail -n 1)
expect_eq "warm-up: one transaction per card, not measured" \
    "$(jq -r '"\(.warmup) \(.measured) \(.transactions)"' <<<"$j")" "20 180 200"
check "the measured rate is over the measured part only" jq -e \
    '.measured_seconds > 0 and .measured_seconds < .seconds and
     (.tps - .measured / .measured_seconds | fabs) < 0.01 * .tps + 0.1' <<<"$j"
# --trace: every transaction once, and no measured one started before the
# last warm-up one had ended (its backlog is not measured)
expect_eq "trace: each of the 200 transactions once, 20 of them warm-up" \
    "$(grep -v '^#' "$T/trace" | awk '{print $1}' | sort -n | uniq | wc -l) $(grep -c ' warmup ' "$T/trace")" "200 20"
expect_eq "trace: each transaction's outcome" \
    "$(grep -v '^#' "$T/trace" | awk '{print $6}' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "done=200 "
expect_eq "trace: the measured part starts when the warm-up has ended" \
    "$(awk '$3 == "warmup" && $5 > w { w = $5 } $3 == "measured" && (m == "" || $4 < m) { m = $4 }
        END { print (w != "" && m != "" && m + 0 >= w + 0) ? "after" : "before " w " " m }' "$T/trace")" after

# the database, read without the tool
run=$(sed -n 's/^run \([0-9a-f]*\): .*/\1/p' "$T/run1.out")
check "run id printed" test -n "$run"
expect_eq "database: one issuance per transaction" \
    "$(sql "select count(*), count(distinct session_id) from issuances where idempotency_key like 'kl-$run-%'")" "200|200"
expect_eq "database: no issuance left without a result" \
    "$(sql "select count(*) from issuances where idempotency_key like 'kl-$run-%' and state = 'issued'")" 0
expect_eq "database: every issuance matches its session's kiosk and resident" \
    "$(sql "select count(*) from issuances i join sessions s on s.id = i.session_id where i.idempotency_key like 'kl-$run-%' and (s.kiosk_id <> i.kiosk_id or s.resident_id <> i.resident_id)")" 0
check "both centers issued documents" sh -c \
    "grep -q 'issuances -> 201' '$W/center0.log' && grep -q 'issuances -> 201' '$W/center1.log'"
check "centers and responder are gone after the run" port_closed

# --- 2: the tool can fail ---------------------------------------------------
run_load "$T/run2.out" --kiosks 4 --transactions 40 --centers 2 \
    --self-test-corrupt
expect_eq "corrupted binding: exit status 1" "$RC" 1
expect_eq "corrupted binding: wrong_person=1" \
    "$(field wrong_person "$T/run2.out")" 1
check "corrupted binding named in a finding" grep -q \
    '^finding: .* wrong_person: document refused: document bound to another card' \
    "$T/run2.out"
check "centers gone after the self-test" port_closed

# --- 2b: a PKI left by a larger run ---------------------------------------------
# The seed binds every card in the PKI: the town must be sized by them,
# not by this run's --kiosks (120 cards here, a town for 4 had too few
# ordinary adults).
run_load "$T/big.out" --kiosks 40 --cards-per-kiosk 3 --transactions 1 \
    --db "$T/big.db"
expect_eq "a run making 120 card identities exits 0" "$RC" 0
run_load "$T/small.out" --kiosks 2 --transactions 10 --db "$T/small.db"
expect_eq "a 2-kiosk run on that PKI, new database: exit status 0" "$RC" 0
if [ "$RC" -ne 0 ]; then
	sed 's/^/# /' "$T/small.out.err" | tail -n 5
fi
expect_eq "... every card bound to a resident" \
    "$(sqlite3 "$T/small.db" 'select count(*) from card_certs')" \
    "$(ls "$PKI/cards" | wc -l)"

# --- 3: usage errors are refused before anything starts -----------------------
"$LOAD" --kiosks 0 >/dev/null 2>"$T/usage.err"
expect_eq "bad option: exit status 2" "$?" 2
"$LOAD" --center https://127.0.0.1:1 >/dev/null 2>>"$T/usage.err"
expect_eq "--center without --pki: exit status 2" "$?" 2

finish
