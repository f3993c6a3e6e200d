#!/usr/bin/python3
"""The kiosk's shared libraries, as the dynamic loader resolves them (ldd):
none of the image libraries SDL2_image brought in.

SDL2_image was linked only to rasterise six SVG pictures and write PNG
screenshots; it pulled libtiff, LERC, libjpeg, libwebp, jbig, libdeflate
and libstdc++ into the process that sees PINs (1.7 ms of start-up, 2 MB of
RSS). nanosvg (src/third_party/nanosvg) and libpng, which FreeType loads
anyway, do that work now. A dependency('SDL2_image') added back to
meson.build, or another library that drags these in, fails here.

Nor does the kiosk call libm's trigonometry, which its tones and pictures
ran at start-up: each function touched mapped 64 KB of libm's pages
(src/util/fmath.h). A sin() or a sinf() in nanosvg's compilation unit
without fmath's macros brings them back, and fails here (nm -D of the
kiosk: what it asks of the shared libraries).

Usage: test_kiosk_libs.py <path to kiosk>
"""
import subprocess
import sys

KIOSK = sys.argv[1]
UNWANTED = ("libSDL2_image", "libtiff", "libLerc", "libjpeg", "libwebp", "libjbig",
            "libdeflate", "libstdc++")
# The sanitizers' runtimes are C++ themselves: libstdc++ is theirs there.
SANITIZERS = ("libasan", "libubsan", "libtsan", "liblsan")

out = subprocess.run(["ldd", KIOSK], capture_output=True, text=True, timeout=30, check=True).stdout
names = [line.split()[0] for line in out.splitlines() if line.strip()]
failures = []
if not any(n.startswith("libSDL2-2.0") for n in names):
    failures.append("no libSDL2 in the listing: not a real ldd listing?\n" + out)
if not any(n.startswith("libpng16") for n in names):
    failures.append("no libpng16: the screenshots' writer is not linked?")
sanitized = any(n.startswith(SANITIZERS) for n in names)
for lib in UNWANTED:
    if lib == "libstdc++" and sanitized:
        continue
    for n in names:
        if n.startswith(lib):
            failures.append(f"{n} is linked")
# What the kiosk called at start-up and in its journeys, before fmath.
LIBM_CALLS = ("sin", "cos", "sincos", "sinf", "cosf", "sincosf", "atan2", "atan2f", "acos", "acosf", "lrint")
dyn = subprocess.run(["nm", "-D", "--undefined-only", KIOSK], capture_output=True, text=True, timeout=30,
                     check=True).stdout
wanted = {line.split()[-1].split("@")[0] for line in dyn.splitlines() if line.strip()}
if "SDL_Init" not in wanted:
    failures.append("nm -D lists no SDL_Init: not the kiosk's dynamic symbols?")
for name in LIBM_CALLS:
    if name in wanted:
        failures.append(f"the kiosk calls libm's {name} (util/fmath has it)")
for f in failures:
    print("  FAILED: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
print(f"kiosk: {len(names)} libraries, none of {', '.join(UNWANTED)}; none of libm's {', '.join(LIBM_CALLS)}")
