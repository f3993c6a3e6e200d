#!/usr/bin/python3
"""test_font_subset.py - the shipped fonts are what scripts/make-font-subset.py
makes: every non-ASCII character of src/ui covered (its --check), and no CFF
subroutines (FreeType copies a face's subroutines into the heap when SDL_ttf
opens it: about 250 KB a face; fonts/README.md).

Skipped (77) without fontTools (python3-fonttools; make test installs it)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FONTS = ["NotoSansSC-Kiosk-Regular.otf", "NotoSansSC-Kiosk-Bold.otf"]


def subroutines(path):
    """Global and local CFF subroutines of the font at path."""
    from fontTools.ttLib import TTFont
    cff = TTFont(str(path))["CFF "].cff
    top = cff.topDictIndex[0]
    n = len(cff.GlobalSubrs)
    privates = [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]
    for p in privates:
        if "Subrs" in p.rawDict:
            n += len(p.Subrs)
    return n


def main():
    try:
        import fontTools  # noqa: F401
    except ImportError:
        print("SKIP: no fontTools (python3-fonttools)")
        return 77
    failed = 0
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make-font-subset.py"), "--check"],
                       capture_output=True, text=True)
    print(r.stdout, end="")
    print(r.stderr, end="", file=sys.stderr)
    if r.returncode != 0:
        print("FAIL: a UI character is missing from the shipped fonts")
        failed += 1
    for name in FONTS:
        n = subroutines(ROOT / "fonts" / name)
        print(f"{name}: {n} CFF subroutines")
        if n:
            print(f"FAIL: {name} has subroutines: rebuild it with scripts/make-font-subset.py")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
