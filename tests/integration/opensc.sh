# Interoperability with a peer nobody here wrote: OpenSC reads the user-auth
# certificate from kiosk-vcard byte for byte, and a signature made through
# OpenSC's PKCS#11 module with the auth key verifies with that certificate.
. "$KIOSK_SRCDIR/tests/lib.sh"

R0=$KIOSK_READER0
P0=$KIOSK_VPCD_PORT0
P11=$(ls /usr/lib/*/opensc-pkcs11.so 2>/dev/null | head -n 1)
export OPENSC_DRIVER=jpki

"$PKI_BIN" init "$T/pki" >/dev/null || { not_ok "kiosk-pki init"; finish; }
"$PKI_BIN" card "$T/pki" hanako --birth 1990-02-28 >/dev/null || { not_ok "kiosk-pki card"; finish; }
C=$T/pki/cards/hanako
openssl x509 -in "$C/auth.crt" -outform DER -out "$T/auth.der"
openssl x509 -in "$C/auth.crt" -noout -pubkey >"$T/pub.pem"
args=(--cert "$C/auth.crt" --key "$C/auth.key" --ca "$T/pki/auth-ca.crt" --pin 2468)
[ -f "$C/sign.crt" ] && args+=(--sign-cert "$C/sign.crt" --sign-key "$C/sign.key" --sign-ca "$T/pki/sign-ca.crt")
start_vcard "$P0" "$R0" "$T/card.log" "${args[@]}" || { not_ok "vcard start"; finish; }

# pkcs15-tool: certificate 01 is the user-auth certificate
pkcs15-tool --reader 0 --read-certificate 01 >"$T/p15.pem" 2>"$T/p15.err"
expect_eq "pkcs15-tool reads certificate 01" "$?" 0
openssl x509 -in "$T/p15.pem" -outform DER -out "$T/p15.der" 2>/dev/null
check "pkcs15-tool certificate is byte-identical to kiosk-pki's" cmp -s "$T/p15.der" "$T/auth.der"
pkcs15-tool --reader 0 --list-pins >"$T/pins.out" 2>&1
check "pkcs15-tool sees 3 tries on the user-auth PIN" grep -Eq 'Tries left *: *3' "$T/pins.out"

# pkcs11-tool: the certificate object, then a signature with the auth key
pkcs11-tool --module "$P11" --slot-index 0 --read-object --type cert --id 01 -o "$T/p11.der" >"$T/p11r.out" 2>&1
expect_eq "pkcs11-tool reads the certificate object" "$?" 0
check "pkcs11-tool certificate is byte-identical" cmp -s "$T/p11.der" "$T/auth.der"
head -c 100 /dev/urandom >"$T/msg"
pkcs11-tool --module "$P11" --slot-index 0 --login --pin 2468 --sign --mechanism SHA256-RSA-PKCS \
    --id 01 -i "$T/msg" -o "$T/sig" >"$T/p11s.out" 2>&1
expect_eq "pkcs11-tool signs with the auth key" "$?" 0
check "OpenSC's signature verifies with the issued certificate" \
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/msg"
expect_eq "OpenSC signed with SELECT 0017 + COMPUTE DIGITAL SIGNATURE" "$(apdu_before "$T/card.log" '^802A0080')" 00A4020C020017

# the same card, then kiosk-card: the two agree on the certificate
"$CARD_BIN" --reader "$R0" info --cert-out "$T/kc.der" >/dev/null 2>&1
check "kiosk-card and OpenSC read the same certificate" cmp -s "$T/kc.der" "$T/p15.der"
finish
