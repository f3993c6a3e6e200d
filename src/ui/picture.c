#include "ui/picture.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "third_party/nanosvg/nanosvg.h"
#include "third_party/nanosvg/nanosvgrast.h"

/* Far above any screen's picture: a size past it is a mistake, and the
 * float-to-int conversion below is only defined for values that fit. */
#define PICTURE_MAX_SIDE 16384
/* The pictures are a few KB; a path to something else must not fill the
 * memory of the process that holds PINs. */
#define PICTURE_MAX_BYTES (1 << 20)
/* A band of rows at a time: a whole picture at 1920x1080 is 1 MB for the
 * moment it is made, which the peak of the process would keep. */
#define PICTURE_BAND_BYTES (64 * 1024)

/* The whole file, NUL-terminated (nsvgParse reads a string), or NULL with
 * the reason in SDL_GetError(). Not SDL_LoadFile: given a directory it
 * takes the size for LONG_MAX and reads into NULL (SDL 2.26). */
static char *picture_read(const char *path)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    /* Non-blocking: a FIFO named by mistake must not hang the thread. */
    int fd = path ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;

    if (fd < 0) {
        SDL_SetError("cannot open: %s", path ? strerror(errno) : "no file");
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PICTURE_MAX_BYTES) {
        SDL_SetError("not a picture's file (a regular file up to %d bytes)", PICTURE_MAX_BYTES);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        SDL_OutOfMemory();
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* an error, or the file shrank under us */
            SDL_SetError("cannot read: %s", n < 0 ? strerror(errno) : "the file got shorter");
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
out:
    close(fd);
    return buf;
}

/* Parses the file and works out the picture's scale and size (picture.h). */
static NSVGimage *picture_open(const char *path, int w, int h, float *scale, int *sw, int *sh)
{
    NSVGimage *image;
    float k = 1.0f, fw, fh;
    char *data = picture_read(path);

    if (data == NULL)
        return NULL;
    /* SDL2_image's units: pixels at 96 dpi. nsvgParse writes into data. */
    image = nsvgParse(data, "px", 96.0f);
    free(data);
    if (image == NULL || !(image->width > 0.0f) || !(image->height > 0.0f)) {
        SDL_SetError("not an SVG picture with a size");
        nsvgDelete(image);
        return NULL;
    }
    if (w > 0 && h > 0)
        k = SDL_min((float)w / image->width, (float)h / image->height);
    else if (w > 0)
        k = (float)w / image->width;
    else if (h > 0)
        k = (float)h / image->height;
    fw = ceilf(image->width * k);
    fh = ceilf(image->height * k);
    if (!(fw >= 1.0f && fw <= PICTURE_MAX_SIDE && fh >= 1.0f && fh <= PICTURE_MAX_SIDE)) {
        SDL_SetError("%gx%g is no size for a picture", (double)fw, (double)fh);
        nsvgDelete(image);
        return NULL;
    }
    *scale = k;
    *sw = (int)fw;
    *sh = (int)fh;
    return image;
}

SDL_Surface *picture_rasterise(const char *path, int w, int h)
{
    NSVGrasterizer *rast = NULL;
    SDL_Surface *s = NULL;
    float scale;
    int sw, sh;
    NSVGimage *image = picture_open(path, w, h, &scale, &sw, &sh);

    if (image == NULL)
        return NULL;
    rast = nsvgCreateRasterizer();
    if (rast == NULL) {
        SDL_OutOfMemory();
        goto out;
    }
    s = SDL_CreateRGBSurfaceWithFormat(0, sw, sh, 32, SDL_PIXELFORMAT_RGBA32);
    if (s == NULL)
        goto out; /* SDL said why */
    /* nanosvg writes R, G, B, A bytes: RGBA32 is that order on any CPU.
     * A new surface is all zeros: transparent where nothing is drawn. */
    nsvgRasterize(rast, image, 0.0f, 0.0f, scale, s->pixels, s->w, s->h, s->pitch);
out:
    nsvgDeleteRasterizer(rast);
    nsvgDelete(image);
    return s;
}

bool picture_rasterise_bands(const char *path, int w, int h, picture_band_fn fn, void *ud)
{
    NSVGrasterizer *rast = NULL;
    unsigned char *band = NULL;
    float scale;
    int sw, sh, rows;
    bool ok = false;
    NSVGimage *image = picture_open(path, w, h, &scale, &sw, &sh);

    if (image == NULL)
        return false;
    rast = nsvgCreateRasterizer();
    rows = SDL_max(1, SDL_min(sh, PICTURE_BAND_BYTES / (sw * 4)));
    band = malloc((size_t)sw * 4 * (size_t)rows);
    if (rast == NULL || band == NULL) {
        SDL_OutOfMemory();
        goto out;
    }
    ok = true;
    for (int y = 0; ok && y < sh; y += rows) {
        int n = SDL_min(rows, sh - y);
        /* The same picture moved up by y whole pixels: nanosvg samples
         * each row as it would in the whole surface (test_picture). */
        memset(band, 0, (size_t)sw * 4 * (size_t)n);
        nsvgRasterize(rast, image, 0.0f, (float)-y, scale, band, sw, n, sw * 4);
        ok = fn(ud, band, sw, sh, y, n);
    }
out:
    free(band);
    nsvgDeleteRasterizer(rast);
    nsvgDelete(image);
    return ok;
}
