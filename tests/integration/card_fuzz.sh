# A hostile card: kiosk-vcard --fuzz answers every command with random bytes
# and status words.  kiosk-card must end every run with a defined error code
# and a message, never a crash or a hang, and never send a VERIFY with data
# the resident did not ask for.
. "$KIOSK_SRCDIR/tests/lib.sh"

R0=$KIOSK_READER0
P0=$KIOSK_VPCD_PORT0
seeds=${KIOSK_FUZZ_SEEDS:-40}
"$PKI_BIN" init "$T/pki" >/dev/null || { not_ok "kiosk-pki init"; finish; }
"$PKI_BIN" card "$T/pki" fuzz >/dev/null || { not_ok "kiosk-pki card"; finish; }
C=$T/pki/cards/fuzz

crashes=0
hangs=0
bad_exit=0
extra_verify=0
for seed in $(seq 1 "$seeds"); do
	start_vcard "$P0" "$R0" "$T/f$seed.log" --cert "$C/auth.crt" --key "$C/auth.key" --fuzz "$seed" \
	    || { not_ok "vcard --fuzz $seed start"; continue; }
	for cmd in info sign; do
		args=()
		[ $cmd = sign ] && args=(--challenge 00112233)
		echo 1234 | timeout 30 "$CARD_BIN" --reader "$R0" $cmd "${args[@]}" >"$T/f$seed.$cmd.out" 2>&1
		rc=$?
		if [ $rc -eq 124 ]; then
			hangs=$((hangs + 1)); echo "# seed $seed $cmd: hang"
		elif [ $rc -ge 128 ]; then
			crashes=$((crashes + 1)); echo "# seed $seed $cmd: signal $((rc - 128))"
		elif [ $rc -lt 1 ] || [ $rc -gt 6 ]; then
			bad_exit=$((bad_exit + 1)); echo "# seed $seed $cmd: exit $rc"
		elif ! grep -q '^kiosk-card: ' "$T/f$seed.$cmd.out"; then
			bad_exit=$((bad_exit + 1)); echo "# seed $seed $cmd: no error message"
		fi
	done
	n=$(apdus "$T/f$seed.log" | grep -c '^0020008004')
	[ "$n" -gt 1 ] && { extra_verify=$((extra_verify + 1)); echo "# seed $seed: $n VERIFYs"; }
	stop_vcard "$R0"
done
expect_eq "random card answers: no crash ($seeds seeds)" "$crashes" 0
expect_eq "random card answers: no hang" "$hangs" 0
expect_eq "random card answers: defined exit code and message" "$bad_exit" 0
expect_eq "random card answers: never more than the one VERIFY asked for" "$extra_verify" 0
finish
