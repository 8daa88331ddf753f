# The layouts end to end through kiosk-render: every fixture of
# tests/render renders to a PDF whose pages (pdfinfo), text (pdftotext:
# every person's name, the substitute of a name outside JIS X 0208 and
# never the original, page numbers, 次頁に続く / 以下余白, the
# certification, the date of issue in the era, kiosk and issuance) and
# info dictionary (the content and the code) are checked; no word lies
# outside the table's margins; the same input gives the same bytes; a
# PNG preview is A4 with the red seal; bad input exits with its code.
. "$KIOSK_SRCDIR/tests/lib.sh"
R=$B/printing/kiosk-render
CODE='KV1;3f2a9c0e5b7d4e1a8c6f0b2d4e6a8c01;juminhyo;20251125;q2Lh3Zl9yGQ0t4j8mKc1bS7pXvR5wN6eUaJfHdOiTgY;MEUCIQDx7k2Lq9v3RzTn1cY8bWpH5sJ0aG4fE6dK2mN8oP1rQwIgS3uV9xZ5yB7cD1eF3gH5iJ7kL9mN1oP3qR5sT7uV'

# names FIXTURE: the printed names, the last word of each (koseki prints
# 【名】 and the given name)
names() {
	jq -r '.body | .. | objects | select(has("name")) |
	    (.name_substitute // .name) | split(" ") | last' "$1"
}

# inside PDF: every word's box within x 30..565 pt (the table is 42..553)
inside() {
	pdftotext -bbox "$1" - | awk -F'"' '/<word / {
		if ($2 + 0 < 30 || $6 + 0 > 565) { bad++; print "outside: " $0 }
	} END { exit bad > 0 }'
}

count() { grep -o -- "$1" "$2" | wc -l; }

for f in "$S"/tests/render/*.json; do
	n=$(basename "$f" .json)
	pdf=$T/$n.pdf txt=$T/$n.txt
	if ! "$R" --kiosk-id S0001-T01 --code "$CODE" "$f" "$pdf" >"$T/$n.out" 2>"$T/$n.err"; then
		not_ok "$n: renders ($(cat "$T/$n.err"))"
		continue
	fi
	pages=$(value pages "$T/$n.out")
	expect_eq "$n: pdfinfo pages" "$(pdfinfo "$pdf" | sed -n 's/^Pages: *//p')" "$pages"
	expect_eq "$n: A4" "$(pdfinfo "$pdf" | sed -n 's/^Page size: *//p')" "595.276 x 841.89 pts (A4)"
	pdftotext "$pdf" "$txt"
	missing=""
	while IFS= read -r w; do
		grep -qF -- "$w" "$txt" || missing="$missing $w"
	done < <(names "$f")
	expect_eq "$n: every name printed" "$missing" ""
	for p in $(seq 1 "$pages"); do
		grep -qF "$p/$pages" "$txt" || not_ok "$n: page number $p/$pages"
	done
	expect_eq "$n: 次頁に続く on all but the last page" "$(count 次頁に続く "$txt")" "$((pages - 1))"
	expect_eq "$n: 以下余白 once" "$(count 以下余白 "$txt")" 1
	check "$n: certification" grep -qF "$(jq -r .certification_ja "$f")" "$txt"
	check "$n: date of issue" grep -qF "令和7年11月25日" "$txt"
	check "$n: mayor" grep -qF "緑川" "$txt"
	check "$n: コンビニ交付 and the kiosk" grep -qF "交付端末 S0001-T01" "$txt"
	check "$n: issuance number" grep -qF "$(jq -r .issuance_id "$f")" "$txt"
	check "$n: no word outside the margins" inside "$pdf"
	pdfinfo -custom "$pdf" >"$T/$n.info"
	expect_eq "$n: KioskContent is the content" \
	    "$(sed -n 's/^KioskContent: *//p' "$T/$n.info")" "$(base64 -w0 "$f")"
	expect_eq "$n: KioskCode" "$(sed -n 's/^KioskCode: *//p' "$T/$n.info")" "$CODE"
	"$R" --kiosk-id S0001-T01 --code "$CODE" "$f" "$T/$n.again.pdf" >/dev/null
	check "$n: same bytes twice" cmp -s "$pdf" "$T/$n.again.pdf"
done

# the multi-page ones
expect_eq "12 members: two pages or more" "$(value pages "$T/juminhyo-12-members.out" | awk '{ print ($1 >= 2) }')" 1
expect_eq "koseki: several pages" "$(value pages "$T/koseki_zenbu-multipage.out" | awk '{ print ($1 >= 3) }')" 1
# a name outside JIS X 0208 prints as its substitute, never as itself
check "gaiji: substitute printed" grep -qF "山崎 颯太" "$T/juminhyo-gaiji.txt"
expect_eq "gaiji: the original name not printed" "$(count 﨑 "$T/juminhyo-gaiji.txt")" 0
expect_eq "gaiji seal: the original name not printed" "$(count 髙 "$T/inkan-gaiji.txt")" 0
# eras of birth dates
check "birth in 昭和" grep -qF "昭和52年2月2日" "$T/juminhyo.txt"
check "birth in 平成" grep -qF "平成12年2月5日" "$T/juminhyo.txt"
check "tax: fiscal year" grep -qF "令和7年度（令和6年分所得）" "$T/tax_shotoku.txt"

# without --kiosk-id, the kiosk the content is bound to is printed
"$R" --plain "$S/tests/render/tax_shotoku.json" "$T/nokiosk.pdf" >/dev/null
check "kiosk id from the content's binding" grep -qF "交付端末 S0001-T01" <(pdftotext "$T/nokiosk.pdf" -)
"$R" --plain --kiosk-id S0002-T07 "$S/tests/render/tax_shotoku.json" "$T/kiosk2.pdf" >/dev/null
check "kiosk id given wins" grep -qF "交付端末 S0002-T07" <(pdftotext "$T/kiosk2.pdf" -)

# PNG preview: the last page of the 12 members at 100 dpi, seal red
f=$S/tests/render/juminhyo-12-members.json
p=$(value pages "$T/juminhyo-12-members.out")
if "$R" --plain --page "$p" --png-dpi 100 --png "$T/last.png" "$f" "$T/p.pdf" >/dev/null 2>"$T/png.err"; then
	expect_eq "png: A4 at 100 dpi" "$(identify -format %wx%h "$T/last.png")" "827x1170"
	# the seal's corner of the band, 150 px square
	red=$(convert "$T/last.png" -crop 150x150+640+1000 -format '%[fx:mean.r - mean.g > 0.02]' info:)
	expect_eq "png: the seal is red" "$red" 1
else
	not_ok "png renders ($(cat "$T/png.err"))"
fi
"$R" --plain --png-dpi 100 --png "$T/first.png" "$f" "$T/p.pdf" >/dev/null 2>&1
expect_eq "png: no seal on page 1" "$(convert "$T/first.png" -crop 150x150+640+1000 -format '%[fx:mean.r - mean.g > 0.02]' info:)" 0

# bad input: exit codes and messages
bad() {	# NAME WANT-RC WANT-MESSAGE FILE [options]
	local name=$1 want=$2 msg=$3 file=$4 rc
	shift 4
	"$R" "$@" "$file" "$T/bad.pdf" >/dev/null 2>"$T/bad.err"
	rc=$?
	expect_eq "bad $name: exit code" "$rc" "$want"
	check "bad $name: says why" grep -qF -- "$msg" "$T/bad.err"
	check "bad $name: no PDF left" test ! -e "$T/bad.pdf"
}
printf '{"version":1,' >"$T/trunc.json"
bad "truncated JSON" 3 "not JSON" "$T/trunc.json"
printf '{"version":1,"document":"juminhyo","title_ja":"\377"}' >"$T/utf8.json"
bad "invalid UTF-8" 3 "not JSON" "$T/utf8.json"
jq -c '.document = "passport"' "$S/tests/render/juminhyo.json" >"$T/type.json"
bad "unknown type" 4 'unknown document type "passport"' "$T/type.json"
jq -c 'del(.body.members[1].birth)' "$S/tests/render/juminhyo.json" >"$T/miss.json"
bad "missing field" 5 "body.members[1].birth: missing" "$T/miss.json"
jq -c '.body.members[0].name = 42' "$S/tests/render/juminhyo.json" >"$T/type2.json"
bad "wrong type" 5 "body.members[0].name: not a string" "$T/type2.json"
jq -c --arg a "$(printf '%02000d' 0)" '.body.address = $a' "$S/tests/render/juminhyo.json" >"$T/long.json"
bad "absurd length" 5 "body.address: longer than" "$T/long.json"
jq -c '.body.members = [range(100) as $i | .body.members[0]] | .body.member_count = 64' \
    "$S/tests/render/juminhyo.json" >"$T/many.json"
bad "100 members" 5 "body.members: more than 64" "$T/many.json"
bad "no such file" 2 "No such file" "$T/nonexistent.json"
bad "bad kiosk id" 5 "kiosk id" "$S/tests/render/juminhyo.json" --kiosk-id 'a b'
"$R" "$S/tests/render/juminhyo.json" >/dev/null 2>&1
expect_eq "usage: exit 1" "$?" 1
"$R" "$S/tests/render/juminhyo.json" /nonexistent-dir/x.pdf >/dev/null 2>"$T/bad.err"
expect_eq "unwritable output: exit 2" "$?" 2
finish
