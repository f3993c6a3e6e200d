#!/usr/bin/python3
"""make-font-subset.py - build the kiosk's Noto Sans CJK SC subsets.

SDL2_ttf has no font fallback, so every character the kiosk may draw must be
in the one font it opens. The full TTC is ~20 MB per weight and holds five
regional faces; the kiosk needs one face and about 8,000 characters of it.

Run from anywhere (paths are resolved from this file's location):

    /usr/bin/python3 scripts/make-font-subset.py          # (re)build fonts/
    /usr/bin/python3 scripts/make-font-subset.py --check  # verify coverage

Re-run it whenever src/ui/*.c or src/ui/*.h gain a new non-ASCII character;
`--check` exits 1 and lists the characters the shipped fonts lack.

Determinism: the source font's head.modified is kept (recalcTimestamp=False)
and every input set is sorted, so the same fontTools version and the same
source TTCs give byte-identical output. A different fontTools version may
produce different (equally valid) bytes.
"""

import argparse
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
UI_DIR = ROOT / "src" / "ui"
FONT_DIR = ROOT / "fonts"
SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")
FACE_FAMILY = "Noto Sans CJK SC"

# (source TTC, output file, style): one row per weight the kiosk uses.
WEIGHTS = [
    ("NotoSansCJK-Regular.ttc", "NotoSansSC-Kiosk-Regular.otf", "Regular"),
    ("NotoSansCJK-Bold.ttc", "NotoSansSC-Kiosk-Bold.otf", "Bold"),
]
# The subset gets its own family name so that, should it ever sit in a
# fontconfig directory, it cannot shadow the complete "Noto Sans CJK SC".
OUT_FAMILY = "Noto Sans SC Kiosk"
OUT_PS_PREFIX = "NotoSansSC-Kiosk"

# Fixed ranges, inclusive. The whole Latin-1 block is kept (not only its
# punctuation): it costs a few KB and covers accented Latin names.
RANGES = [
    (0x0020, 0x007E, "printable ASCII"),
    (0x00A0, 0x00FF, "Latin-1 supplement (punctuation, symbols, letters)"),
    (0x2000, 0x206F, "general punctuation"),
    (0x2190, 0x21FF, "arrows"),
    (0x3000, 0x303F, "CJK symbols and punctuation"),
    (0xFF00, 0xFFEF, "halfwidth and fullwidth forms"),
]
SINGLES = [0x00B7, 0x2022, 0x25CB, 0x25CF]  # middle dot, bullet, circles

# HarfBuzz (which this SDL2_ttf build uses) applies these by default for
# horizontal text. Dropped on purpose: vert/vrt2/vkrn/vpal (no vertical text)
# and locl (it only maps SC glyphs to JP/KR/TC forms, which we never want).
LAYOUT_FEATURES = ["ccmp", "rlig", "liga", "clig", "calt", "kern",
                   "mark", "mkmk", "rclt", "rvrn"]

# Vertical metrics and baseline tables serve vertical layout only.
DROP_TABLES = ["BASE", "VORG", "vhea", "vmtx", "JSTF", "DSIG"]

# Copyright, names, version, plus the license fields (13, 14) so the font
# file itself says it is under the OFL.
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14]


def gb2312_chars():
    """Every character GB2312 encodes (rows 1-94, both hanzi levels)."""
    out = set()
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            try:
                s = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            out.update(ord(c) for c in s)
    return out


# \uXXXX, \UXXXXXXXX and runs of \xHH are how a C file may spell non-ASCII
# text without writing it literally; count those too.
ESC_U = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
ESC_X_RUN = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")


def shown(path):
    """A path as the user would type it: relative to the tree when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def ui_sources(ui_dir):
    if not ui_dir.is_dir():
        return []
    return sorted(list(ui_dir.glob("*.c")) + list(ui_dir.glob("*.h")))


def ui_chars(ui_dir):
    """Non-ASCII characters of src/ui/*.[ch] -> {codepoint: first 'file:line'}."""
    found = {}

    def note(cp, path, lineno):
        if cp > 0x7E and cp not in found:
            found[cp] = f"{shown(path)}:{lineno}"

    for path in ui_sources(ui_dir):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            sys.exit(f"{shown(path)}: not UTF-8 ({e}); UI sources must be UTF-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            for c in line:
                note(ord(c), path, lineno)
            for m in ESC_U.finditer(line):
                note(int(m.group(1) or m.group(2), 16), path, lineno)
            for m in ESC_X_RUN.finditer(line):
                raw = bytes(int(h, 16) for h in m.group(0).split("\\x")[1:])
                # A run that is not UTF-8 is binary data (an APDU, say).
                try:
                    for c in raw.decode("utf-8"):
                        note(ord(c), path, lineno)
                except UnicodeDecodeError:
                    pass
    return found


def wanted_chars(ui):
    s = set()
    for lo, hi, _ in RANGES:
        s.update(range(lo, hi + 1))
    s.update(SINGLES)
    s.update(gb2312_chars())
    s.update(ui)
    return s


def find_face(ttc_path):
    """Index of the FACE_FAMILY face in a TTC, by its name table."""
    if not ttc_path.is_file():
        sys.exit(f"{ttc_path}: not found; install Debian's fonts-noto-cjk")
    coll = TTCollection(str(ttc_path), lazy=True)
    hits = [i for i, f in enumerate(coll.fonts)
            if f["name"].getDebugName(1) == FACE_FAMILY]
    coll.close()
    if len(hits) != 1:
        sys.exit(f"{ttc_path}: expected one face named {FACE_FAMILY!r}, found {len(hits)}")
    return hits[0]


def subset_options():
    o = subset.Options()
    o.hinting = False
    o.layout_features = LAYOUT_FEATURES
    o.drop_tables = sorted(set(o.drop_tables) | set(DROP_TABLES))
    o.name_IDs = NAME_IDS
    o.name_languages = [0x0409]
    # Keep the .notdef box: a missing character shows as a box, not a gap.
    o.notdef_outline = True
    o.glyph_names = False
    o.recalc_timestamp = False
    # No CFF subroutines: FreeType copies every subroutine of a face into
    # the heap when it opens it through a stream, as SDL_ttf does (about
    # 250 KB a face of these subsets); inlined into the charstrings they
    # cost 1.4 % more file and nothing while open, and the glyphs draw the
    # same pixels (fonts/README.md).
    o.desubroutinize = True
    return o


def rename(font, style):
    """Give the subset its own names in the name table and the CFF."""
    ps = f"{OUT_PS_PREFIX}-{style}"
    full = OUT_FAMILY if style == "Regular" else f"{OUT_FAMILY} {style}"
    version = font["head"].fontRevision
    names = {1: OUT_FAMILY, 3: f"{version:.3f};{ps};subset", 4: full, 6: ps}
    for rec in font["name"].names:
        if rec.nameID in names:
            rec.string = names[rec.nameID]
    cff = font["CFF "].cff
    cff.fontNames = [ps]
    top = cff.topDictIndex[0]
    top.FullName = full
    top.FamilyName = OUT_FAMILY


def source_cmap(src_name):
    """(face index, set of codepoints) of the SC face in a source TTC."""
    src = SOURCE_DIR / src_name
    idx = find_face(src)
    font = TTFont(str(src), fontNumber=idx, lazy=True)
    have = set(font.getBestCmap())
    font.close()
    return idx, have


def build(ui):
    """Write both subsets; returns 1 if a UI character is in no source."""
    want = wanted_chars(ui)
    unreachable = set()
    FONT_DIR.mkdir(exist_ok=True)
    for src_name, out_name, style in WEIGHTS:
        src = SOURCE_DIR / src_name
        idx = find_face(src)
        font = TTFont(str(src), fontNumber=idx, recalcTimestamp=False, lazy=False)
        have = set(font.getBestCmap())
        sub = subset.Subsetter(subset_options())
        sub.populate(unicodes=sorted(want & have))
        sub.subset(font)
        rename(font, style)
        out = FONT_DIR / out_name
        font.save(str(out))
        n_chars = len(font.getBestCmap())
        n_glyphs = font["maxp"].numGlyphs
        font.close()
        print(f"{shown(out)}: face {idx} of {src_name}, "
              f"{n_chars} characters, {n_glyphs} glyphs, {out.stat().st_size} bytes")
        # The fixed ranges hold unassigned points the font rightly lacks;
        # only a UI character with no glyph is an error.
        unreachable.update(c for c in ui if c not in have)
    for cp in sorted(unreachable):
        print(f"error: U+{cp:04X} {chr(cp)} (first used at {ui[cp]}) is not in "
              f"{FACE_FAMILY} at all; the kiosk cannot draw it, change the string",
              file=sys.stderr)
    return 1 if unreachable else 0


def check(ui, n_src):
    """Returns 1, listing them, if a shipped font lacks a UI character."""
    missing_any = False
    for src_name, out_name, _ in WEIGHTS:
        path = FONT_DIR / out_name
        if not path.is_file():
            print(f"{shown(path)}: missing; run this script without --check")
            missing_any = True
            continue
        font = TTFont(str(path), lazy=True)
        have = set(font.getBestCmap())
        font.close()
        missing = sorted(c for c in ui if c not in have)
        src_have = source_cmap(src_name)[1] if missing else set()
        for cp in missing:
            why = ("re-run the script" if cp in src_have
                   else f"not in {src_name} either: change the string")
            print(f"{out_name}: lacks U+{cp:04X} {chr(cp)} "
                  f"(first used at {ui[cp]}; {why})")
        missing_any = missing_any or bool(missing)
    if missing_any:
        print(f"FAIL: {len(ui)} non-ASCII UI characters in {n_src} files; "
              f"rebuild with /usr/bin/python3 scripts/make-font-subset.py")
        return 1
    print(f"ok: both fonts cover all {len(ui)} non-ASCII UI characters in {n_src} files")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="verify fonts/ covers every non-ASCII character of "
                         "src/ui/*.[ch]; exit 1 listing the missing ones")
    ap.add_argument("--ui-dir", type=Path, default=UI_DIR,
                    help="where the UI's .c/.h files are (default: src/ui)")
    args = ap.parse_args()
    ui = ui_chars(args.ui_dir)
    if args.check:
        return check(ui, len(ui_sources(args.ui_dir)))
    return build(ui)


if __name__ == "__main__":
    sys.exit(main())
