#!/usr/bin/env bash
# Render a workbook as LibreOffice prints it: FILE.xlsx → OUTDIR/FILE.pdf → OUTDIR/FILE-<page>.png.
# Used to look at the print layout of the summary (columns fit, Chinese shows, nothing cut).
#
#   scripts/render_summary.sh 2025年度汇总.xlsx /tmp/pages [dpi]
#
# A throw-away LibreOffice profile is used, so a running LibreOffice and the user's settings are
# left alone; formulas are recalculated on load, as a reader's spreadsheet program would. Install Carlito
# (fonts-crosextra-carlito): without it LibreOffice prints every column a third wider than Excel does.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "用法：$0 文件.xlsx 输出文件夹 [分辨率dpi，默认 80]" >&2
  exit 2
fi
file=$1
outdir=$2
dpi=${3:-80}
command -v soffice >/dev/null || { echo "找不到 soffice（LibreOffice），无法转换为 PDF。" >&2; exit 2; }
command -v pdftoppm >/dev/null || { echo "找不到 pdftoppm（poppler-utils），无法转换为图片。" >&2; exit 2; }
[ -f "$file" ] || { echo "找不到文件：$file" >&2; exit 2; }

mkdir -p "$outdir"
profile=$(mktemp -d "${TMPDIR:-/tmp}/vs-lo-profile.XXXXXX")
trap 'rm -rf "$profile"' EXIT
mkdir -p "$profile/user"
cat > "$profile/user/registrymodifications.xcu" <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
XCU

stem=$(basename "${file%.*}")
pdf="$outdir/$stem.pdf"
rm -f "$pdf"
log=$(soffice "-env:UserInstallation=file://$profile" --headless --convert-to pdf --outdir "$outdir" "$file" 2>&1) || true
[ -f "$pdf" ] || { echo "转换失败：没有生成 $pdf" >&2; echo "$log" >&2; exit 1; }
pdftoppm -png -r "$dpi" "$pdf" "$outdir/$stem"
ls "$outdir/$stem"*.png
