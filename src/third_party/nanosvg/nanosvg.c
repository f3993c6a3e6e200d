/* nanosvg.c - the one compilation unit holding nanosvg's implementation
 * (README.md: where it comes from and why). The headers are upstream's,
 * unchanged; the kiosk's code includes them for the declarations only. */
#define NANOSVG_IMPLEMENTATION
#include "nanosvg.h"
#define NANOSVGRAST_IMPLEMENTATION
#include "nanosvgrast.h"
