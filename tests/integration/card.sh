# The card layer through the real stack: kiosk-card → pcsc-lite → private
# pcscd → vpcd → kiosk-vcard, with certificates from kiosk-pki.  Outcomes are
# asserted on what kiosk-card printed and on the APDUs the card logged.
. "$KIOSK_SRCDIR/tests/lib.sh"

R0=$KIOSK_READER0
P0=$KIOSK_VPCD_PORT0
"$PKI_BIN" init "$T/pki" >/dev/null || { not_ok "kiosk-pki init"; finish; }
"$PKI_BIN" card "$T/pki" taro --birth 1980-05-05 >/dev/null || { not_ok "kiosk-pki card"; finish; }
C=$T/pki/cards/taro
openssl x509 -in "$C/auth.crt" -outform DER -out "$T/auth.der"
card_args=(--cert "$C/auth.crt" --key "$C/auth.key" --ca "$T/pki/auth-ca.crt")
[ -f "$C/sign.crt" ] && card_args+=(--sign-cert "$C/sign.crt" --sign-key "$C/sign.key" --sign-ca "$T/pki/sign-ca.crt")

# --- info: certificate facts and tries, without touching the signature side
start_vcard "$P0" "$R0" "$T/info.log" "${card_args[@]}" --pin 4321 || { not_ok "vcard start"; finish; }
"$CARD_BIN" --reader "$R0" info --cert-out "$T/read.der" >"$T/info.out" 2>"$T/info.err"
expect_eq "info exits 0" "$?" 0
expect_eq "info token" "$(value token "$T/info.out")" card
expect_eq "info pin tries" "$(value pin-tries "$T/info.out")" 3
want_serial=$(openssl x509 -in "$C/auth.crt" -noout -serial | sed 's/^serial=//')
expect_eq "info serial" "$(value cert-serial "$T/info.out")" "$want_serial"
want_issuer=$(openssl x509 -in "$C/auth.crt" -noout -issuer -nameopt sep_comma_plus_space,utf8,-esc_msb | sed 's/^issuer=//')
expect_eq "info issuer" "$(value cert-issuer "$T/info.out")" "$want_issuer"
want_na=$(date -u -d "$(openssl x509 -in "$C/auth.crt" -noout -enddate | sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)
expect_eq "info not-after" "$(value cert-not-after "$T/info.out")" "$want_na"
check "certificate read is byte-identical to the issued one" cmp -s "$T/read.der" "$T/auth.der"
expect_eq "info never selects 0001/001A/001B" "$(apdu_count "$T/info.log" '^00A4020C02(0001|001A|001B)$')" 0
expect_eq "info sends no VERIFY with data" "$(apdu_count "$T/info.log" '^00200080..')" 0
expect_eq "info sends an empty VERIFY on 0018" "$(apdu_after "$T/info.log" '^00A4020C020018$')" 00200080
expect_eq "info SELECTs the JPKI AID first" "$(apdus "$T/info.log" | head -n 1)" 00A4040C0AD392F000260100000001

# --- sign with the right PIN; the signature verifies with the certificate
chal=$(openssl rand -hex 32)
printf '%s' "$chal" | perl -ne 'print pack("H*", $_)' >"$T/chal.bin"
: >"$T/info.log"
echo 4321 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" --sig-out "$T/sig.bin" >"$T/sign.out" 2>"$T/sign.err"
expect_eq "sign exits 0" "$?" 0
openssl x509 -in "$C/auth.crt" -noout -pubkey >"$T/pub.pem"
check "signature verifies as sha256WithRSA over the challenge" \
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.bin" "$T/chal.bin"
expect_eq "exactly one VERIFY with data" "$(apdus "$T/info.log" | grep -c '^0020008004')" 1
expect_eq "signature command sent after SELECT 0017" "$(apdu_before "$T/info.log" '^802A0080')" 00A4020C020017
expect_eq "card unpowered right after the PIN session" "$(grep -A3 -E '^C: 802A0080' "$T/info.log" | grep -c '^EV: power-off')" 1
expect_eq "PIN never appears in the output" "$(pin_seen 4321 "$T/sign.out" "$T/sign.err")" 0

# --- PIN format is checked before anything reaches the card
: >"$T/info.log"
echo 12a4 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>"$T/fmt.err"
expect_eq "bad PIN format exits 6" "$?" 6
expect_eq "bad PIN format sends no VERIFY" "$(apdu_count "$T/info.log" '^00200080..')" 0

# --- wrong PIN: tries count down, a right PIN resets them
echo 0000 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>"$T/w1.err"
expect_eq "wrong PIN exits 3" "$?" 3
check "wrong PIN reports 2 tries left" grep -q '2 tries left' "$T/w1.err"
echo 4321 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >"$T/s2.out" 2>&1
expect_eq "right PIN after a wrong one" "$?" 0
"$CARD_BIN" --reader "$R0" info >"$T/info2.out" 2>&1
expect_eq "tries back to 3 after the right PIN" "$(value pin-tries "$T/info2.out")" 3
stop_vcard "$R0"

# --- three wrong PINs block the card, and it stays blocked across a restart
state=$T/card.state
start_vcard "$P0" "$R0" "$T/block.log" "${card_args[@]}" --state "$state" || { not_ok "vcard start"; finish; }
echo 1111 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>&1; r1=$?
echo 1111 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>"$T/b2.err"; r2=$?
echo 1111 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>"$T/b3.err"; r3=$?
expect_eq "wrong PIN x3 exit codes" "$r1 $r2 $r3" "3 3 4"
check "second wrong PIN reports 1 try left" grep -q '1 try left' "$T/b2.err"
check "third wrong PIN says blocked" grep -qi blocked "$T/b3.err"
expect_eq "card saw exactly 3 VERIFYs with data" "$(apdus "$T/block.log" | grep -c '^0020008004')" 3
stop_vcard "$R0"
start_vcard "$P0" "$R0" "$T/block2.log" "${card_args[@]}" --state "$state" || { not_ok "vcard restart"; finish; }
"$CARD_BIN" --reader "$R0" info >"$T/binfo.out" 2>&1
expect_eq "still blocked after a restart (info)" "$(value pin-tries "$T/binfo.out")" blocked
echo 1234 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" >/dev/null 2>&1
expect_eq "sign on a blocked card exits 4" "$?" 4
expect_eq "no VERIFY with data sent to a blocked card" "$(apdu_count "$T/block2.log" '^0020008004')" 0
stop_vcard "$R0"

# --- card pulled in the middle of the certificate read
for n in 3 5 8; do
	start_vcard "$P0" "$R0" "$T/drop$n.log" "${card_args[@]}" --drop-after "$n" || { not_ok "vcard start"; continue; }
	"$CARD_BIN" --reader "$R0" info >"$T/drop$n.out" 2>"$T/drop$n.err"
	rc=$?
	expect_eq "card pulled after $n APDUs: exit 2" "$rc" 2
	check "card pulled after $n APDUs: clear message" grep -Eqi 'removed|card|communication' "$T/drop$n.err"
	stop_vcard "$R0"
done

# --- 6F00 to the first APDU after power-on: retried once
start_vcard "$P0" "$R0" "$T/6f.log" "${card_args[@]}" --fail-first-6f00 || { not_ok "vcard start"; finish; }
"$CARD_BIN" --reader "$R0" info --cert-out "$T/6f.der" >"$T/6f.out" 2>&1
expect_eq "6F00 after power-on: info succeeds" "$?" 0
check "6F00 after power-on: certificate intact" cmp -s "$T/6f.der" "$T/auth.der"
expect_eq "6F00 after power-on: first answer was 6F00" "$(sed -n 's/^R: //p' "$T/6f.log" | head -n 1)" 6F00
expect_eq "6F00 after power-on: AID selected twice, not more" \
    "$(apdus "$T/6f.log" | grep -c '^00A4040C0AD392F000260100000001')" 2
stop_vcard "$R0"

# --- Android smartphone certificate: 000A only after the PIN
start_vcard "$P0" "$R0" "$T/and.log" --cert "$C/auth.crt" --key "$C/auth.key" --token android || { not_ok "vcard start"; finish; }
"$CARD_BIN" --reader "$R0" info >"$T/and.out" 2>&1
expect_eq "android: info exits 0" "$?" 0
expect_eq "android: token" "$(value token "$T/and.out")" android
expect_eq "android: certificate needs the PIN" "$(value cert "$T/and.out")" "requires PIN"
echo 1234 | "$CARD_BIN" --reader "$R0" sign --challenge "$chal" --cert-out "$T/and.der" --sig-out "$T/and.sig" >/dev/null 2>&1
expect_eq "android: sign exits 0" "$?" 0
check "android: certificate read after the PIN is the issued one" cmp -s "$T/and.der" "$T/auth.der"
check "android: signature verifies" openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/and.sig" "$T/chal.bin"
stop_vcard "$R0"

# --- the second reader, chosen by name; an unknown reader is an error
start_vcard "$KIOSK_VPCD_PORT1" "$KIOSK_READER1" "$T/r1.log" "${card_args[@]}" || { not_ok "vcard start"; finish; }
"$CARD_BIN" --reader "$KIOSK_READER1" info >"$T/r1.out" 2>&1
expect_eq "second reader by name" "$(value reader "$T/r1.out")" "$KIOSK_READER1"
"$CARD_BIN" --reader "No Such Reader" info >/dev/null 2>"$T/nr.err"
expect_eq "unknown reader exits 2" "$?" 2
stop_vcard "$KIOSK_READER1"

# --- insertion and removal events
"$CARD_BIN" --reader "$R0" watch --count 2 --timeout 20 >"$T/watch.out" 2>&1 &
wpid=$!
sleep 0.5
start_vcard "$P0" "$R0" "$T/w.log" "${card_args[@]}" && sleep 0.3 && stop_vcard "$R0"
wait $wpid
expect_eq "watch exits 0" "$?" 0
check "watch saw the insertion" grep -q "^inserted $R0" "$T/watch.out"
check "watch saw the removal" grep -q "^removed $R0" "$T/watch.out"
expect_eq "insertion reported before removal" "$(grep -E '^(inserted|removed)' "$T/watch.out" | head -n 1 | cut -d' ' -f1)" inserted

finish
