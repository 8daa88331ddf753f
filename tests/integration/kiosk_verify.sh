# kiosk-verify end to end: a test PKI's document key signs fixture
# contents (sign-fixture, as the center does), kiosk-render prints them,
# and kiosk-verify must accept the genuine PDF and its 300 dpi PNG and
# JPEG scans, and refuse, each with its exit code: one changed character
# (in the content, or only in the visible text under the genuine
# embedded content), a code copied onto another document, a wrong key,
# a PDF without a code, a truncated PDF and a random file.
. "$KIOSK_SRCDIR/tests/lib.sh"
V=$B/tools/kiosk-verify/kiosk-verify
SIGN=$B/tools/kiosk-verify/sign-fixture
R=$B/printing/kiosk-render
A=$S/tests/render/juminhyo.json
OTHER=$S/tests/render/juminhyo_kisai.json

for x in "$V" "$SIGN" "$R" "$PKI_BIN"; do
	[ -x "$x" ] || { not_ok "built: $x"; finish; }
done
for tool in pdftoppm jq perl base64; do
	command -v $tool >/dev/null || { not_ok "$tool is installed"; finish; }
done

"$PKI_BIN" init "$T/pki" >/dev/null 2>&1 || { not_ok "kiosk-pki init"; finish; }
"$PKI_BIN" init "$T/pki2" >/dev/null 2>&1 || { not_ok "kiosk-pki init 2"; finish; }
KEY=$T/pki/docsign.crt

# verify NAME WANT-EXIT FILE [KEY]: runs kiosk-verify, output in $T/NAME.out
verify() {
	local name=$1 want=$2 file=$3 key=${4:-$KEY} rc
	"$V" -k "$key" "$file" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	expect_eq "$name: exit code" "$rc" "$want"
}
# says NAME TEXT: the report of NAME contains TEXT
says() {
	if grep -qF -- "$2" "$T/$1.out"; then ok "$1: says '$2'"; else
		not_ok "$1: says '$2' (got: $(tr '\n' '|' <"$T/$1.out"))"
	fi
}
# render CONTENT CODE OUT.pdf (CODE empty: no code)
render() {
	local kid
	kid=$(jq -r .binding.kiosk_id "$1")
	if [ -n "$2" ]; then
		"$R" --kiosk-id "$kid" --code "$2" "$1" "$3" >/dev/null
	else
		"$R" --kiosk-id "$kid" "$1" "$3" >/dev/null
	fi
}

CODE=$("$SIGN" "$T/pki/docsign.key" "$A") || { not_ok "sign-fixture"; finish; }
ID=$(jq -r .issuance_id "$A")
render "$A" "$CODE" "$T/genuine.pdf" || { not_ok "render genuine"; finish; }

# --- genuine
verify genuine 0 "$T/genuine.pdf"
says genuine "GENUINE"
says genuine "住民票の写し"
says genuine "$ID"
says genuine "2025-11-25"
says genuine "every page (text and image) match"

M=$S/tests/render/koseki_zenbu-multipage.json
render "$M" "$("$SIGN" "$T/pki/docsign.key" "$M")" "$T/multipage.pdf"
verify multipage 0 "$T/multipage.pdf"
says multipage "戸籍全部事項証明書"

openssl x509 -in "$KEY" -pubkey -noout >"$T/docsign-pub.pem"
verify pubkey 0 "$T/genuine.pdf" "$T/docsign-pub.pem"

pdftoppm -r 300 -png -f 1 -l 1 "$T/genuine.pdf" "$T/scan"
verify scan_png 0 "$T/scan-1.png"
says scan_png "GENUINE"
says scan_png "$ID"
says scan_png "content itself was not compared"
pdftoppm -r 300 -jpeg -f 1 -l 1 "$T/genuine.pdf" "$T/scanj"
verify scan_jpeg 0 "$T/scanj-1.jpg"
says scan_jpeg "住民票の写し"

# --- one changed character (麻衣 -> 麻美: same UTF-8 length)
perl -pe 's/麻衣/麻美/' "$A" >"$T/changed.json"
if cmp -s "$A" "$T/changed.json"; then not_ok "fixture has 麻衣"; fi
render "$T/changed.json" "$CODE" "$T/changed.pdf"
verify changed_content 1 "$T/changed.pdf"
says changed_content "NOT GENUINE"
says changed_content "does not belong to this document"

# The same visible change under the genuine embedded content.
cp "$T/changed.pdf" "$T/changed-text.pdf"
G=$(base64 -w0 "$A") C=$(base64 -w0 "$T/changed.json") \
    perl -0777 -pi -e 's/\Q$ENV{C}\E/$ENV{G}/' "$T/changed-text.pdf"
if grep -qF "$(base64 -w0 "$A")" "$T/changed-text.pdf"; then
	ok "tampered PDF carries the genuine content"
else
	not_ok "tampered PDF carries the genuine content"
fi
verify changed_text 1 "$T/changed-text.pdf"
says changed_text "The text of page 1 differs"

# An image laid over the genuine text: the text still matches, the
# picture does not.  (A white box over the issuance number, drawn into
# page 1's content stream by an incremental update.)
perl -e '
	local $/; open(my $in, "<:raw", $ARGV[0]) or die "read: $!"; my $d = <$in>;
	$d .= "\n" unless $d =~ /\n\z/;
	my $prev = ($d =~ /.*startxref\s+(\d+)/s)[0];
	my @size = $d =~ m{/Size (\d+)}g; my $size = $size[-1];
	my @root = $d =~ m{/Root (\d+) 0 R}g; my @info = $d =~ m{/Info (\d+) 0 R}g;
	$d =~ m{(\d+) 0 obj\s*<< /Type /Page\b(.*?)>>\s*endobj}s or die "no page";
	my ($num, $body) = ($1, $2);
	my $s = "1 1 1 rg 300 700 250 100 re f\n";
	my $o1 = length $d;
	$d .= "$size 0 obj\n<< /Length " . length($s) . " >>\nstream\n$s\nendstream\nendobj\n";
	my $o2 = length $d;
	$body =~ s{/Contents (\d+) 0 R}{/Contents [ $1 0 R $size 0 R ]};
	$d .= "$num 0 obj\n<<$body>>\nendobj\n";
	my $x = length $d;
	$d .= sprintf("xref\n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n", $num, $o2, $size, $o1);
	$d .= sprintf("trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
	    $size + 1, $root[-1], $info[-1], $prev, $x);
	open(my $out, ">:raw", $ARGV[1]) or die "write: $!"; print $out $d;
' "$T/genuine.pdf" "$T/overlay.pdf" 2>"$T/overlay.err" ||
	not_ok "overlay PDF made ($(cat "$T/overlay.err"))"
verify overlay 1 "$T/overlay.pdf"
says overlay "does not look like the signed content"

# --- the code of one document on another
render "$OTHER" "$CODE" "$T/copied.pdf"
verify copied_code 1 "$T/copied.pdf"
says copied_code "does not belong"

# --- wrong key
verify wrong_key 1 "$T/genuine.pdf" "$T/pki2/docsign.crt"
says wrong_key "does not verify"
verify wrong_key_scan 1 "$T/scan-1.png" "$T/pki2/docsign.crt"

# --- unreadable
render "$A" "" "$T/nocode.pdf"
verify no_code 2 "$T/nocode.pdf"
says no_code "No document code"
head -c 3000 "$T/genuine.pdf" >"$T/truncated.pdf"
verify truncated 2 "$T/truncated.pdf"
head -c 65536 /dev/urandom >"$T/random.bin"
verify random 2 "$T/random.bin"
says random "Not a PDF, PNG or JPEG"
printf '\211PNG\r\n\032\n garbage' >"$T/bad.png"
verify bad_png 2 "$T/bad.png"
convert -size 400x400 xc:white "$T/blank.png" 2>/dev/null &&
    verify blank_png 2 "$T/blank.png"

# --- usage and key
"$V" >/dev/null 2>&1
expect_eq "no file: usage exit" "$?" 3
"$V" -k "$T/missing.pem" "$T/genuine.pdf" >/dev/null 2>&1
expect_eq "unreadable key: exit" "$?" 4
"$V" -k "$T/pki/auth-ca.crt" "$T/genuine.pdf" >/dev/null 2>&1
expect_eq "RSA certificate as key: exit" "$?" 4

finish
