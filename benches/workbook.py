"""workbook.py CSV XLSX [KIND]: the import CSV as an Excel workbook, written as Excel writes one
(numbers as numbers, text as shared strings), streamed so that a million rows fit in little
memory. KIND adds an attack of issue 25: `far-cell` (one more value at XFD1048576),
`strings-bomb` (20 MB of tiny shared strings), `whitespace` (2 MB of blanks in the sheet)."""
import csv, sys, zipfile
from xml.sax.saxutils import escape

src, dst = sys.argv[1], sys.argv[2]
kind = sys.argv[3] if len(sys.argv) > 3 else ""

def col(n):
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s

strings, index = [], {}
def sid(text):
    if text not in index:
        index[text] = len(strings)
        strings.append(text)
    return index[text]

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml",
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '</Types>')
    z.writestr("_rels/.rels",
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>')
    z.writestr("xl/workbook.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {RNS}><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels",
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>')
    with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
        last = "XFD1048576" if kind == "far-cell" else "A1"
        sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:{last}"/>'.encode())
        if kind == "whitespace":
            sheet.write(b" " * (2 << 20))
        sheet.write(b"<sheetData>")
        with open(src, newline="", encoding="utf-8") as f:
            for r, cells in enumerate(csv.reader(f)):
                out = [f'<row r="{r + 1}">']
                for c, cell in enumerate(cells):
                    if cell == "":
                        continue
                    ref = f"{col(c)}{r + 1}"
                    try:
                        if r == 0 or c == 0:
                            raise ValueError
                        float(cell)
                        out.append(f'<c r="{ref}"><v>{cell}</v></c>')
                    except ValueError:
                        out.append(f'<c r="{ref}" t="s"><v>{sid(cell)}</v></c>')
                out.append("</row>")
                sheet.write("".join(out).encode())
        if kind == "far-cell":
            sheet.write(f'<row r="1048576"><c r="XFD1048576" t="s"><v>{sid("x")}</v></c></row>'.encode())
        sheet.write(b"</sheetData></worksheet>")
    with z.open("xl/sharedStrings.xml", "w") as ss:
        ss.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>'.encode())
        for s in strings:
            ss.write(f"<si><t>{escape(s)}</t></si>".encode())
        if kind == "strings-bomb":
            ss.write(b"<si><t>x</t></si>" * 1_250_000)
        ss.write(b"</sst>")
